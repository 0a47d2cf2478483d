"""`lk3 db move`: an office on SQLite (Kota Ambon) moves to PostgreSQL without losing anything.

The SQLite store is filled through the real repositories (families and their
messages, a case, a booking, an erased family, console staff, audit entries) and
moved into an empty database of a throwaway server (the session's with
`--db postgres`, else one of this module's own; skipped where PostgreSQL is not
installed). What the office reads afterwards, it reads on PostgreSQL as it read on
SQLite. The target URL carries a password, which no output shows.
"""

from __future__ import annotations

import asyncio
import hashlib
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from support import keys_of, pgserver
from support.pgserver import PgServer

from bot.cli import main
from bot.config import load_config
from bot.datadir import FolderLock
from bot.movecli import MOVED_NOTE, moved_check
from storage.booking.records import HoldSlot
from storage.crypto.keys import KeyRing, generate_key_file
from storage.errors import ErasedError, NotFoundError
from storage.privacy.audit import AuditEntry
from storage.records import CaseOpen, NewInbound, NewOutbound, TurnWrite
from storage.store import Store

SECRET = "pw-7d2e:move"
T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
WORDS = "RAHASIA-AMBON-3141 suami saya memukul"
MONDAY_10 = datetime(2026, 12, 7, 1, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def server() -> Iterator[PgServer]:
    with pgserver.session_or_own() as found:
        yield found


@dataclass(frozen=True)
class Ran:
    code: int
    said: str


def lk3(capsys: pytest.CaptureFixture[str], *args: str) -> Ran:
    capsys.readouterr()
    code = main(list(args))
    out, err = capsys.readouterr()
    said = out + err
    assert SECRET not in said and quote(SECRET, safe="") not in said
    assert "RAHASIA" not in said
    return Ran(code, said)


@dataclass(frozen=True)
class Office:
    data: Path
    keyring: KeyRing
    url: str  # with its password
    families: tuple[int, ...]
    erased: int
    inbox: tuple[int, ...]

    @property
    def keytree(self) -> Path:
        return keys_of(self.data) / "lk3.keytree"


async def open_office(office: Office, url: str | None) -> Store:
    return await Store.open(office.data / "lk3.db", office.keyring, keytree=office.keytree, url=url)


async def kota_ambon(data: Path, server: PgServer, families: int = 6) -> Office:
    """The office on SQLite, filled through the repositories as the bot fills it."""
    data.mkdir(mode=0o700)
    generate_key_file(keys_of(data) / "master.key")
    keyring = KeyRing.load(keys_of(data) / "master.key", {})
    ids: list[int] = []
    inbox_ids: list[int] = []
    tree = keys_of(data) / "lk3.keytree"
    async with await Store.open(data / "lk3.db", keyring, keytree=tree) as store:
        sari = await store.staff.add("sari", "Sari Pattinama", ["counsellor"], T0)
        await store.staff.add("maria", "Maria Latuconsina", ["supervisor", "admin"], T0)
        await store.bookings.add_hours(sari.id, 0, 9 * 60, 15 * 60, ["kantor"], T0)
        for n in range(families):
            chat = f"ambon-{n}"
            said = NewInbound("telegram", chat, "text", f"{WORDS} {n}", T0 + timedelta(minutes=n))
            contact, inbox = await store.turns.receive("telegram", chat, said)
            assert inbox is not None
            answer = NewOutbound(contact.id, "telegram", "Terima kasih.", (), 5, T0)
            cases = (CaseOpen("kdrt", "darurat"),) if n % 2 == 0 else ()
            await store.turns.commit_turn(
                TurnWrite(inbox, contact.id, '{"node": "start"}', (answer,), T0, cases, "id", None)
            )
            ids.append(contact.id)
            inbox_ids.append(inbox)
        await store.bookings.hold(
            ids[1],
            HoldSlot(
                mode="kantor",
                starts_at=MONDAY_10,
                ends_at=MONDAY_10 + timedelta(hours=1),
                urgency="biasa",
                candidates=(sari.id,),
                expires_at=T0 + timedelta(days=30),
            ),
            T0,
        )
        for n in range(3):
            await store.audit.record(
                AuditEntry(f"staff:{sari.id}", "case_view", f"contact:{ids[n % 2]}", "follow-up")
            )
        erased = ids[-1]  # the newest id: the target must never hand it out again
        assert await store.erasure.erase(erased, reason="request", actor="cli", why="asked")
    url = server.empty_database_for(data / "target").replace(
        "postgres@", f"postgres:{quote(SECRET, safe='')}@", 1
    )
    return Office(data, keyring, url, tuple(ids), erased, tuple(inbox_ids))


async def what_the_office_reads(office: Office, url: str | None) -> dict[str, Any]:
    """Everything a counsellor, the bot and an auditor read, through the repositories."""
    seen: dict[str, Any] = {}
    async with await open_office(office, url) as store:
        for contact_id in office.families:
            try:
                seen[f"address {contact_id}"] = await store.contacts.address(contact_id)
            except (ErasedError, NotFoundError) as exc:
                seen[f"address {contact_id}"] = type(exc).__name__
            case = await store.cases.open_for(contact_id)
            seen[f"case {contact_id}"] = None if case is None else (case.code, case.urgency)
            bookings = await store.bookings.for_contact(contact_id)
            seen[f"bookings {contact_id}"] = [(b.code, b.status, b.starts_at) for b in bookings]
        for inbox_id in office.inbox:
            try:
                row = await store.inbox.get(inbox_id)
                seen[f"inbox {inbox_id}"] = None if row is None else (row.text, row.transport_id)
            except ErasedError:
                seen[f"inbox {inbox_id}"] = "erased"
        seen["staff"] = [(s.id, s.username, s.roles) for s in await store.staff.list()]
        seen["audit"] = await store.audit.rows()
        report = await store.audit.verify()
        seen["audit ok"] = (report.ok, report.rows, report.head_hash)
    return seen


async def newcomer(office: Office) -> int:
    async with await open_office(office, office.url) as store:
        said = NewInbound("telegram", "ambon-new", "text", WORDS, T0 + timedelta(hours=1))
        contact, _ = await store.turns.receive("telegram", "ambon-new", said)
        assert await store.contacts.address(contact.id) == "ambon-new"
        return contact.id


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def tables_on(server: PgServer, url: str) -> int:
    async def count() -> int:
        import asyncpg

        conn = await asyncpg.connect(url)
        try:
            return int(
                await conn.fetchval(
                    "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()"
                )
            )
        finally:
            await conn.close()

    return server.call(count())


# --- the move ----------------------------------------------------------------------


def test_an_office_moves_whole_and_reads_the_same_on_postgresql(
    server: PgServer, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    office = asyncio.run(kota_ambon(tmp_path / "ambon", server))
    before = asyncio.run(what_the_office_reads(office, None))
    assert before[f"address {office.erased}"] in {"ErasedError", "NotFoundError"}
    assert before[f"address {office.families[0]}"] == "ambon-0"
    sqlite_file = digest(office.data / "lk3.db")
    monkeypatch.setenv("LK3_STORAGE_URL", office.url)

    ran = lk3(capsys, "db", "move", "--data", str(office.data))

    assert ran.code == 0, ran.said
    assert "backed up" in ran.said and "before-move.db" in ran.said
    assert "audit chain" in ran.said and "postgres@" in ran.said
    backups = list((office.data / "backups").glob("lk3-*-before-move.db"))
    assert len(backups) == 1 and backups[0].stat().st_mode & 0o777 == 0o600
    assert digest(office.data / "lk3.db") == sqlite_file  # the way back, untouched
    after = asyncio.run(what_the_office_reads(office, office.url))
    assert after == before  # the erased family included: unreadable there as here
    assert after["audit ok"][0] is True
    # `lk3 audit verify` on the target, as the office runs it
    verified = lk3(capsys, "audit", "verify", "--data", str(office.data))
    assert verified.code == 0, verified.said
    # The next family gets an id the source never gave: not the erased one's.
    assert asyncio.run(newcomer(office)) > office.erased


def test_lk3_run_refuses_the_old_file_and_warns_beside_the_new_database(
    server: PgServer, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    office = asyncio.run(kota_ambon(tmp_path / "ambon", server, families=2))
    monkeypatch.setenv("LK3_STORAGE_URL", office.url)
    assert lk3(capsys, "db", "move", "--data", str(office.data)).code == 0
    assert (office.data / MOVED_NOTE).stat().st_mode & 0o777 == 0o600
    assert SECRET not in (office.data / MOVED_NOTE).read_text()

    monkeypatch.delenv("LK3_STORAGE_URL")
    monkeypatch.setenv("LK3_DATA_DIR", str(office.data))
    ran = lk3(capsys, "run")
    assert ran.code == 2 and "moved to PostgreSQL" in ran.said and MOVED_NOTE in ran.said
    import dataclasses

    on_url = dataclasses.replace(load_config(None, env={}), data_dir=office.data)
    refusal, warning = moved_check(dataclasses.replace(on_url, storage_url=office.url))
    assert refusal is None and warning is not None and "is not used" in warning


# --- refusals ----------------------------------------------------------------------


def test_a_second_move_into_a_database_with_tables_is_refused(
    server: PgServer, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    office = asyncio.run(kota_ambon(tmp_path / "ambon", server, families=2))
    monkeypatch.setenv("LK3_STORAGE_URL", office.url)
    assert lk3(capsys, "db", "move", "--data", str(office.data)).code == 0
    moved = asyncio.run(what_the_office_reads(office, office.url))

    again = lk3(capsys, "db", "move", "--data", str(office.data))

    assert again.code != 0 and "is not empty" in again.said
    assert asyncio.run(what_the_office_reads(office, office.url)) == moved


def test_a_move_while_the_bot_runs_is_refused(
    server: PgServer, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    office = asyncio.run(kota_ambon(tmp_path / "ambon", server, families=2))
    monkeypatch.setenv("LK3_STORAGE_URL", office.url)
    with FolderLock.acquire(office.data, "lk3 run"):  # what a running bot holds
        ran = lk3(capsys, "db", "move", "--data", str(office.data))
    assert ran.code == 2 and "in use by another lk3 process" in ran.said
    assert tables_on(server, office.url) == 0
    assert not (office.data / "backups").exists()


def test_a_database_behind_in_migrations_is_sent_to_lk3_db_migrate(
    server: PgServer, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    office = asyncio.run(kota_ambon(tmp_path / "ambon", server, families=2))
    with closing(sqlite3.connect(office.data / "lk3.db")) as conn:
        conn.execute("DELETE FROM migrations WHERE name = (SELECT max(name) FROM migrations)")
        conn.commit()
    ran = lk3(capsys, "db", "move", "--data", str(office.data), "--to", office.url)
    assert ran.code == 2 and "lk3 db migrate" in ran.said
    assert "visible to other users" in ran.said  # the password after --to
    assert tables_on(server, office.url) == 0


def test_a_check_that_fails_undoes_the_move_and_names_the_table(
    server: PgServer, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    office = asyncio.run(kota_ambon(tmp_path / "ambon", server, families=2))
    with closing(sqlite3.connect(office.data / "lk3.db")) as conn:
        # Someone with the file edited the audit log behind the bot's back.
        conn.execute("DROP TRIGGER audit_append_only_update")
        conn.execute("UPDATE audit SET reason = 'nothing to see' WHERE seq = 2")
        conn.commit()
    monkeypatch.setenv("LK3_STORAGE_URL", office.url)

    ran = lk3(capsys, "db", "move", "--data", str(office.data))

    assert ran.code == 1 and "table audit" in ran.said and "undone" in ran.said
    assert tables_on(server, office.url) == 0  # as empty as it was: run it again later
    assert not (office.data / MOVED_NOTE).exists()
