"""The audit log page (supervisors and admins): newest first, paged, codes only, and a
"verify chain" button that finds an edited row."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from console_support import add_staff, client, csrf_of, login
from support import Clock

from bot.console.core import Console
from storage.privacy.audit import AuditEntry


async def _fill(console: Console, rows: int) -> None:
    for n in range(rows):
        reason = "dibaca karena ibu bernama Maria"  # words a page must never show
        await console.store.audit.record(
            AuditEntry("staff:1", "transcript_opened", f"case:K{n:05d}", reason)
        )


async def test_the_log_is_shown_newest_first_in_pages_of_codes(
    console: Console, clock: Clock
) -> None:
    _, secret = await add_staff(console, "susi", ("supervisor",))
    await _fill(console, 60)
    async with client(console) as http:
        await login(http, "susi", secret, clock)
        first = await http.get("/console/audit")
        assert first.status_code == 200
        text = first.text
        assert "case:K00059" in text and "case:K00010" in text and "case:K00009" not in text
        assert text.index("case:K00059") < text.index("case:K00058")
        assert "Maria" not in text  # the reason column is not shown
        assert "/console/audit?before=" in text
        before = text.split("/console/audit?before=")[1].split('"')[0]
        older = await http.get(f"/console/audit?before={before}")
        assert "case:K00009" in older.text and "case:K00000" in older.text
        assert "case:K00010" not in older.text and "?before=" not in older.text


async def test_a_bad_page_number_shows_the_newest_with_a_note(
    console: Console, clock: Clock
) -> None:
    _, secret = await add_staff(console, "adi", ("admin",))
    async with client(console) as http:
        await login(http, "adi", secret, clock)
        page = await http.get("/console/audit?before=<script>")
        assert page.status_code == 200 and "Nomor halaman tidak dikenal" in page.text
        assert "<script>" not in page.text


async def test_verify_reports_an_intact_chain_with_its_head(console: Console, clock: Clock) -> None:
    _, secret = await add_staff(console, "adi", ("admin",))
    await _fill(console, 3)
    async with client(console) as http:
        await login(http, "adi", secret, clock)
        token = csrf_of((await http.get("/console/audit")).text)
        page = await http.post("/console/audit/verify", data={"csrf": token})
        assert page.status_code == 200
        report = await console.store.audit.verify()
        assert report.ok
        assert "Rantai utuh" in page.text and report.head_hash in page.text


@pytest.mark.sqlite_only("edits the SQLite file behind the app")
async def test_verify_names_an_edited_row(console: Console, clock: Clock, tmp_path: Path) -> None:
    _, secret = await add_staff(console, "adi", ("admin",))
    await _fill(console, 3)
    with sqlite3.connect(tmp_path / "lk3.db") as db:  # someone edits the file behind the app
        for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'"):
            if "audit" in name:
                db.execute(f"DROP TRIGGER {name}")
        db.execute("UPDATE audit SET subject = 'case:XXXXXX' WHERE seq = 2")
    async with client(console) as http:
        await login(http, "adi", secret, clock)
        token = csrf_of((await http.get("/console/audit")).text)
        page = await http.post("/console/audit/verify", data={"csrf": token})
        assert "Rantai RUSAK" in page.text
        assert "Baris 2: isinya diubah (tidak cocok lagi dengan hash-nya)." in page.text
