"""The month's cases as CSV from the figures page (supervisors and admins): one row a case,
codes and times only, formulas guarded, the download audited; counsellors cannot."""

from __future__ import annotations

import csv
import io

from console_support import add_staff, client, login
from support import Clock
from test_console_figures import families

from bot.console.core import Console
from bot.figures.casecsv import COLUMNS


async def test_a_supervisor_downloads_the_months_cases_without_identities(
    console: Console, clock: Clock
) -> None:
    await families(console.store, [("kdrt", "darurat")] * 2 + [("=1+1", "biasa")])
    me, secret = await add_staff(console, "susi", ("supervisor",))
    async with client(console) as http:
        await login(http, "susi", secret, clock)
        page = await http.get("/console/figures?month=2026-03")
        assert 'href="/console/figures/cases.csv?month=2026-03"' in page.text
        response = await http.get("/console/figures/cases.csv?month=2026-03")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert 'filename="lk3-cases-2026-03.csv"' in response.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0] == list(COLUMNS)
    assert len(rows) == 4, "small counts are not hidden here: it is one row a case, no names"
    assert sorted(r[2] for r in rows[1:]) == ["'=1+1", "kdrt", "kdrt"]
    assert all(r[1] == "utama" and r[4].endswith("+09:00") for r in rows[1:])
    assert "tolong" not in response.text and "chat-" not in response.text
    audit = [(r.actor, r.action, r.subject) for r in await console.store.audit.rows()]
    assert (f"staff:{me}", "cases_export", "month:2026-03") in audit


async def test_a_counsellor_cannot_and_a_bad_month_gets_a_kind_page(
    console: Console, clock: Clock
) -> None:
    _, secret = await add_staff(console, "sari", ("counsellor",))
    async with client(console) as http:
        await login(http, "sari", secret, clock)
        assert (await http.get("/console/figures/cases.csv?month=2026-03")).status_code == 403
    _, admin = await add_staff(console, "ana", ("admin",))
    async with client(console) as http:
        await login(http, "ana", admin, clock)
        bad = await http.get("/console/figures/cases.csv?month=2026-3x")
    assert bad.status_code == 400 and "Bulan tidak dikenal" in bad.text
