"""Backups: consistent during writes, ciphertext only, restored only into an empty folder."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest
from storage_support import message, open_store, raw_query
from support import Clock

from storage.crypto.backup import backup_database, restore_database
from storage.crypto.keys import KeyRing
from storage.errors import BackupError

MARKER = "KUDA-LAUT-5521"
ADDRESS = "+6281299887766"

pytestmark = pytest.mark.sqlite_only(
    "the online backup API (PostgreSQL's pg_dump: engine/test_storage_pgbackup.py)"
)


async def test_a_backup_taken_during_writes_is_one_consistent_snapshot(
    tmp_path: Path, db_path: Path, keyring: KeyRing, clock: Clock
) -> None:
    async with await open_store(db_path, keyring, clock=clock) as store:

        async def write(n: int) -> None:
            await store.turns.receive("telegram", str(1000 + n % 7), message(f"w{n}", f"pesan {n}"))

        first = [asyncio.create_task(write(n)) for n in range(200)]
        info = await asyncio.to_thread(backup_database, db_path, tmp_path / "during.db")
        await asyncio.gather(*first)
    copy = tmp_path / "during.db"
    assert info.path == copy and info.bytes == copy.stat().st_size
    assert (copy.stat().st_mode & 0o777) == 0o600
    assert raw_query(copy, "PRAGMA integrity_check") == [("ok",)]
    # Every inbox row in the copy has its contact and its key: no half-written transaction.
    orphans = raw_query(
        copy,
        "SELECT count(*) FROM inbox i LEFT JOIN contact_keys k ON k.contact_id = i.contact_id"
        " WHERE k.contact_id IS NULL",
    )
    assert orphans == [(0,)]
    async with await open_store(copy, keyring, clock=clock, keytree=tmp_path / "lk3.keytree") as s:
        rows = await s.inbox.pending(limit=500)
    assert all(r.text == f"pesan {r.transport_id[1:]}" for r in rows)


async def test_a_backup_holds_personal_data_only_as_ciphertext(
    tmp_path: Path, db_path: Path, keyring: KeyRing, clock: Clock
) -> None:
    async with await open_store(db_path, keyring, clock=clock) as store:
        await store.turns.receive("whatsapp", ADDRESS, message("x1", MARKER, channel="whatsapp"))
        backup_database(db_path, tmp_path / "copy.db")
    data = (tmp_path / "copy.db").read_bytes()
    for secret in (MARKER, ADDRESS, ADDRESS.lstrip("+")):
        assert secret.encode() not in data
    assert b"lk3-keytree" not in data, "the key tree never goes into a backup"


def test_a_backup_never_overwrites_and_needs_a_database(tmp_path: Path, db_path: Path) -> None:
    with pytest.raises(BackupError, match="there is no database"):
        backup_database(db_path, tmp_path / "x.db")
    db_path.write_bytes(b"")
    (tmp_path / "x.db").write_text("keep me")
    with pytest.raises(BackupError, match="already exists; a backup never overwrites"):
        backup_database(db_path, tmp_path / "x.db")
    assert (tmp_path / "x.db").read_text() == "keep me"


async def test_restore_goes_only_into_a_folder_without_a_database(
    tmp_path: Path, db_path: Path, keyring: KeyRing, clock: Clock
) -> None:
    async with await open_store(db_path, keyring, clock=clock) as store:
        await store.turns.receive("telegram", "111", message("m1", "halo"))
    backup_database(db_path, tmp_path / "copy.db")
    target = tmp_path / "new" / "lk3.db"
    target.parent.mkdir()
    (target.parent / "lk3.keytree").write_text("")
    (target.parent / "notes.txt").write_text("something else")
    with pytest.raises(BackupError, match=r"is not empty \(notes.txt\)"):
        restore_database(tmp_path / "copy.db", target, frozenset({"lk3.keytree"}))
    (target.parent / "notes.txt").unlink()
    info = restore_database(tmp_path / "copy.db", target, frozenset({"lk3.keytree"}))
    assert info.contacts == 1 and "0001_initial" in info.migrations
    assert (target.stat().st_mode & 0o777) == 0o600
    with pytest.raises(BackupError, match="is not empty"):
        restore_database(tmp_path / "copy.db", target, frozenset({"lk3.keytree"}))


@pytest.mark.parametrize(
    ("content", "error"),
    [(b"not a database at all" * 100, "is not an LK3 database"), (None, "does not exist")],
    ids=["garbage", "missing"],
)
def test_restore_refuses_what_is_not_an_lk3_backup(
    tmp_path: Path, content: bytes | None, error: str
) -> None:
    source = tmp_path / "backup.db"
    if content is not None:
        source.write_bytes(content)
    with pytest.raises(BackupError, match=error):
        restore_database(source, tmp_path / "new" / "lk3.db")
    assert not (tmp_path / "new" / "lk3.db").exists()


def test_restore_refuses_another_programs_database(tmp_path: Path) -> None:
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE t (x)")
    with pytest.raises(BackupError, match="is not an LK3 database"):
        restore_database(other, tmp_path / "new" / "lk3.db")
