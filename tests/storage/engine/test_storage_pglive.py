"""Live changes on PostgreSQL: every process's change to a case, a transcript or a staff
member is told to a listener on another connection, with codes and ids only, and the
listener connects again after a drop and asks for a catch-up (storage.engine.pglive)."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import asyncpg
import pytest
from storage_support import message, open_store, reply, turn
from support import Clock, pgserver

from storage.crypto.keys import KeyRing
from storage.engine.pglive import APPLICATION_NAME, ChangeListener
from storage.records import CaseOpen

pytestmark = pytest.mark.skipif(
    pgserver.ACTIVE is None, reason="LISTEN/NOTIFY is PostgreSQL's (run with --db postgres)"
)

TOPIC = re.compile(r"(case|thread|staff):[0-9]+")


class Heard:
    """What a listener was told, and a way to wait for a topic."""

    def __init__(self) -> None:
        self.topics: list[str] = []
        self.gaps = 0
        self._new = asyncio.Event()

    def change(self, topic: str) -> None:
        self.topics.append(topic)
        self._new.set()

    def gap(self) -> None:
        self.gaps += 1
        self._new.set()

    async def until(self, done: object, seconds: float = 20.0) -> None:
        async with asyncio.timeout(seconds):
            while not (done() if callable(done) else done in self.topics):
                self._new.clear()
                await self._new.wait()


async def test_each_change_is_told_by_codes_and_ids_only(
    db_path: Path, keyring: KeyRing, clock: Clock
) -> None:
    assert pgserver.ACTIVE is not None
    heard = Heard()
    listener = ChangeListener(pgserver.ACTIVE.database_for(db_path), heard.change, heard.gap)
    async with await open_store(db_path, keyring, clock=clock) as store:
        listener.start()
        try:
            await heard.until(lambda: heard.gaps == 1)  # connected: the first catch-up
            contact, inbox_id = await store.turns.receive(
                "telegram", "111", message("t1", "RAHASIA-ANNA tolong saya")
            )
            assert inbox_id is not None
            await heard.until(f"thread:{contact.id}")
            await store.turns.commit_turn(
                turn(
                    contact.id,
                    inbox_id,
                    outbound=(reply(contact.id, "RAHASIA-BALASAN"),),
                    cases=(CaseOpen("kdrt", "darurat"),),
                )
            )
            case = await store.handoff.live_for(contact.id)
            assert case is not None
            await heard.until(f"case:{case.id}")
            staff = await store.staff.add("konselor1", "Konselor Satu", ("counsellor",), clock())
            await store.staff.set_roles(staff.id, ["supervisor"], clock())
            await heard.until(f"staff:{staff.id}")
        finally:
            await listener.close()
    assert all(TOPIC.fullmatch(t) for t in heard.topics), heard.topics
    assert not any("RAHASIA" in t for t in heard.topics)


async def test_after_a_dropped_connection_it_connects_again_and_asks_for_a_catch_up(
    db_path: Path, keyring: KeyRing, clock: Clock
) -> None:
    assert pgserver.ACTIVE is not None
    url = pgserver.ACTIVE.database_for(db_path)
    heard = Heard()
    listener = ChangeListener(url, heard.change, heard.gap, retry=0.05, keepalive=0.5)
    async with await open_store(db_path, keyring, clock=clock) as store:
        listener.start()
        try:
            await heard.until(lambda: listener.connected)
            admin = await asyncpg.connect(url)
            try:
                # The server drops the listening session (a restart, a failover, a cut cable).
                await admin.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE application_name = $1",
                    APPLICATION_NAME,
                )
            finally:
                await admin.close()
            await heard.until(lambda: heard.gaps == 2 and listener.connected)
            assert listener.connections == 2
            contact, _ = await store.turns.receive("telegram", "222", message("t2", "halo"))
            await heard.until(f"thread:{contact.id}")
        finally:
            await listener.close()
    assert not listener.connected


async def test_a_server_that_cannot_be_reached_is_tried_again_without_end() -> None:
    assert pgserver.ACTIVE is not None
    tries = 0

    async def refused(_url: str) -> asyncpg.Connection:
        nonlocal tries
        tries += 1
        raise OSError("connection refused")

    heard = Heard()
    listener = ChangeListener("postgresql://nowhere", heard.change, heard.gap, retry=0.01,
                              longest_retry=0.02, connect=refused)  # fmt: skip
    listener.start()
    async with asyncio.timeout(10):
        while tries < 5:
            await asyncio.sleep(0.01)
    await listener.close()
    assert not listener.connected and heard.gaps == 0
