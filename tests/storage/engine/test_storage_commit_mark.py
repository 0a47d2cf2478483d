"""The commit mark: a database that lost committed work is refused, and nothing else is.

A crash is made here by copying the files of an open store, as a SIGKILL leaves
them (the database, its write-ahead log, its shared memory and the mark); the
real SIGKILL, through `lk3 run`, is in tests/bot/core/test_faults_startup.py.
"""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
from storage_support import message, open_store
from support import Clock

from storage.crypto.backup import backup_database, restore_database
from storage.crypto.keys import KeyRing
from storage.crypto.keytree import default_tree_path
from storage.engine.commits import mark_path, read_mark
from storage.errors import DatabaseError, MissingCommitsError
from storage.store import Store

SIDE = ("-wal", "-shm")

pytestmark = pytest.mark.sqlite_only("the commit mark (sqlite_sequence against the WAL)")


def _held(database: Path) -> int:
    with closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as db:
        row = db.execute("SELECT seq FROM sqlite_sequence WHERE name = 'lk3 commits'")
        return int(row.fetchone()[0])


def _crash_copy(database: Path, into: Path) -> Path:
    """The files of a live store as a killed process leaves them, in another folder."""
    into.mkdir()
    names = [database.name, *(database.name + s for s in SIDE)]
    for name in [*names, mark_path(database).name, default_tree_path(database).name]:
        if (database.parent / name).exists():
            shutil.copy2(database.parent / name, into / name)
    return into / database.name


async def _receive(store: Store, count: int, start: int = 0) -> None:
    await asyncio.gather(
        *(
            store.turns.receive("telegram", str(500 + n), message(f"m{n}"))
            for n in range(start, start + count)
        )
    )


async def _inbox_count(database: Path, keyring: KeyRing, clock: Clock) -> int:
    async with await open_store(database, keyring, clock=clock) as store:
        return len(await store.inbox.pending())


async def test_every_transaction_is_counted_and_the_mark_follows_without_leading(
    db_path: Path, keyring: KeyRing, clock: Clock
) -> None:
    async with await open_store(db_path, keyring, clock=clock) as store:
        opened = read_mark(mark_path(db_path))
        assert opened is not None and opened.state == "running"
        for n in range(5):
            await store.turns.receive("telegram", "77", message(f"one-{n}"))
        batches = store.write_stats.batches
        mark = read_mark(mark_path(db_path))
        assert mark is not None and mark.seq == opened.seq + batches == _held(db_path)
    closed = read_mark(mark_path(db_path))
    assert closed is not None and closed.state == "stopped" and closed.seq == mark.seq
    assert mark_path(db_path).stat().st_mode & 0o777 == 0o600


async def test_a_clean_stop_and_a_crash_with_the_log_intact_open_with_everything(
    db_path: Path, keyring: KeyRing, clock: Clock, tmp_path: Path
) -> None:
    store = await open_store(db_path, keyring, clock=clock)
    try:
        await _receive(store, 20)
        crashed = _crash_copy(db_path, tmp_path / "crashed")
    finally:
        await store.close()
    assert (crashed.parent / (crashed.name + "-wal")).stat().st_size > 0
    assert await _inbox_count(crashed, keyring, clock) == 20
    assert await _inbox_count(db_path, keyring, clock) == 20


async def test_a_write_ahead_log_deleted_after_a_crash_is_refused_with_what_to_do(
    db_path: Path, keyring: KeyRing, clock: Clock, tmp_path: Path
) -> None:
    store = await open_store(db_path, keyring, clock=clock)
    try:
        await _receive(store, 20)
        crashed = _crash_copy(db_path, tmp_path / "crashed")
    finally:
        await store.close()
    for suffix in SIDE:
        (crashed.parent / (crashed.name + suffix)).unlink()
    with pytest.raises(MissingCommitsError) as refused:
        await open_store(crashed, keyring, clock=clock)
    said = str(refused.value)
    assert "\n" not in said
    assert "lost committed work" in said and "lk3.db-wal was removed after an unclean stop" in said
    assert "restore the latest backup" in said and str(mark_path(crashed)) in said
    assert not (crashed.parent / "lk3.db-wal").exists(), "nothing was written to it"
    # The way on that the message gives: remove the mark and keep what the database holds.
    mark_path(crashed).unlink()
    assert await _inbox_count(crashed, keyring, clock) == 0


async def test_an_older_copy_of_a_cleanly_stopped_database_is_refused(
    db_path: Path, keyring: KeyRing, clock: Clock, tmp_path: Path
) -> None:
    async with await open_store(db_path, keyring, clock=clock) as store:
        await _receive(store, 3)
    shutil.copy2(db_path, tmp_path / "older.db")
    async with await open_store(db_path, keyring, clock=clock) as store:
        await _receive(store, 3, start=3)
    shutil.copy2(tmp_path / "older.db", db_path)
    with pytest.raises(MissingCommitsError, match="replaced by an older copy"):
        await open_store(db_path, keyring, clock=clock)


async def test_a_deleted_database_is_refused_while_its_mark_remains(
    db_path: Path, keyring: KeyRing, clock: Clock
) -> None:
    async with await open_store(db_path, keyring, clock=clock) as store:
        await _receive(store, 2)
    db_path.unlink()
    with pytest.raises(MissingCommitsError, match="is gone"):
        await open_store(db_path, keyring, clock=clock)
    assert not db_path.exists(), "no empty database was made in its place"


async def test_a_first_start_and_a_folder_from_before_the_mark_open(
    db_path: Path, keyring: KeyRing, clock: Clock
) -> None:
    async with await open_store(db_path, keyring, clock=clock) as store:
        await _receive(store, 2)
    mark_path(db_path).unlink()
    assert await _inbox_count(db_path, keyring, clock) == 2
    mark = read_mark(mark_path(db_path))
    assert mark is not None and mark.seq == _held(db_path)


async def test_a_backup_restored_by_the_command_or_copied_into_place_opens(
    db_path: Path, keyring: KeyRing, clock: Clock, tmp_path: Path
) -> None:
    async with await open_store(db_path, keyring, clock=clock) as store:
        await _receive(store, 3)
        backup = backup_database(db_path, tmp_path / "backup.db").path
        await _receive(store, 3, start=3)
    # lk3 db restore: a new folder with the key tree (the master key is in memory here).
    folder = tmp_path / "restored"
    folder.mkdir()
    shutil.copy2(default_tree_path(db_path), folder / default_tree_path(db_path).name)
    restored = restore_database(backup, folder / "lk3.db", frozenset({"lk3.keytree"})).path
    assert await _inbox_count(restored, keyring, clock) == 3
    # By hand, over the database whose mark records more: a backup says what it is.
    shutil.copy2(backup, db_path)
    assert await _inbox_count(db_path, keyring, clock) == 3
    mark = read_mark(mark_path(db_path))
    assert mark is not None and mark.seq == _held(db_path)


async def test_a_mark_not_in_its_format_is_never_an_alarm(
    db_path: Path, keyring: KeyRing, clock: Clock
) -> None:
    async with await open_store(db_path, keyring, clock=clock) as store:
        await _receive(store, 1)
    mark_path(db_path).write_bytes(b"lk3-commits 999999 running\n")
    assert await _inbox_count(db_path, keyring, clock) == 1


async def test_a_damaged_database_file_is_refused_in_one_line_naming_it(
    db_path: Path, keyring: KeyRing
) -> None:
    db_path.write_bytes(bytes(range(256)) * 64)
    with pytest.raises(DatabaseError) as refused:
        await open_store(db_path, keyring)
    said = str(refused.value)
    assert "\n" not in said and str(db_path) in said
    assert "not a readable SQLite database" in said and "lk3 db restore" in said
