"""SQLite under pressure: a locked database is waited out, a full disk fails clearly.

A full disk is a real one: a 3 MB tmpfs (the tests run as root in CI; where
mounting is not allowed the test is skipped and says so). What a full disk
refused is reported as an error to the caller (the transport is then not
acknowledged, so the message comes again); what was acknowledged before is
intact, the file passes SQLite's integrity check, and once space is free again
the same store (and a reopened one) writes on.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

import pytest
from support.disks import fill, tiny_disk

from storage.crypto.keys import KeyRing
from storage.errors import StorageError
from storage.records import NewInbound
from storage.store import Store

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.sqlite_only("SQLite's own lock and its file on a full disk"),
]

NOW = datetime(2026, 12, 4, 1, 0, tzinfo=UTC)


def _message(n: int, size: int = 200) -> NewInbound:
    return NewInbound("telegram", f"m{n}", "text", "x" * size, NOW)


def _integrity(database: Path) -> str:
    with closing(sqlite3.connect(database)) as db:
        return str(db.execute("PRAGMA integrity_check").fetchone()[0])


async def test_a_database_locked_by_another_writer_is_waited_out(tmp_path: Path) -> None:
    database = tmp_path / "lk3.db"
    keyring = KeyRing.generate()
    async with await Store.open(database, keyring, clock=lambda: NOW) as store:
        await store.turns.receive("telegram", "1001", _message(0))
        locked = threading.Event()
        release = threading.Event()

        def hold_lock() -> None:
            with closing(sqlite3.connect(database, timeout=10)) as other:
                other.execute("BEGIN IMMEDIATE")
                other.execute("UPDATE inbox SET kind = kind")
                locked.set()
                release.wait(10)
                other.execute("COMMIT")

        holder = threading.Thread(target=hold_lock)
        holder.start()
        await asyncio.to_thread(locked.wait, 10)
        write = asyncio.create_task(store.turns.receive("telegram", "1001", _message(1)))
        ticks = 0
        for _ in range(25):  # the bot goes on meanwhile: the wait is off the event loop
            await asyncio.sleep(0.02)
            ticks += 1
        assert ticks == 25
        assert (await store.inbox.get(1)) is not None, "reads go on while a write waits"
        assert not write.done(), "the write waits for the lock instead of failing"
        release.set()
        _, inbox_id = await asyncio.wait_for(write, 10)
        await asyncio.to_thread(holder.join, 10)
        assert inbox_id is not None
        assert (await store.inbox.get(inbox_id)) is not None


async def test_a_full_disk_fails_clearly_corrupts_nothing_and_recovers(tmp_path: Path) -> None:
    keyring = KeyRing.generate()
    with tiny_disk(tmp_path / "disk", "3m") as disk:
        database = disk / "lk3.db"
        acknowledged: list[int] = []
        store = await Store.open(database, keyring, clock=lambda: NOW)
        try:
            for n in range(20):
                _, inbox_id = await store.turns.receive("telegram", "1001", _message(n))
                assert inbox_id is not None
                acknowledged.append(inbox_id)
            # Everything else on the disk fills it up.
            filler = fill(disk)
            refused = 0
            for n in range(20, 400):
                try:
                    await store.turns.receive("telegram", "1001", _message(n, 4000))
                except StorageError:
                    refused += 1
                    break
            assert refused, "a full disk is reported as a storage error"
            filler.unlink()
            # The same store writes on once there is room again.
            _, after = await store.turns.receive("telegram", "1001", _message(1000))
            assert after is not None
        finally:
            await store.close()
        assert _integrity(database) == "ok"
        async with await Store.open(database, keyring, clock=lambda: NOW) as reopened:
            for inbox_id in acknowledged:
                row = await reopened.inbox.get(inbox_id)
                assert row is not None and row.text == "x" * 200
            _, again = await reopened.turns.receive("telegram", "1001", _message(2000))
            assert again is not None
