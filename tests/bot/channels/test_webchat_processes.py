"""Two processes on one PostgreSQL database: a family's web chat page polls one process
while the other sends the reply; the database wakes the poll (bot.core.live), so the
reply shows at once rather than when the poll gives up."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from support import pgserver
from support.pgserver import PgServer
from support.stores import open_store

from bot.channels.base import Outbound
from bot.channels.registry import Host
from bot.channels.webchat.channel import WebChatChannel
from bot.core.live import LiveChanges
from storage.channels.webchat import ChatView
from storage.crypto.keys import KeyRing
from storage.records import NewInbound, NewOutbound
from storage.store import Store


@pytest.fixture(scope="module", autouse=True)
def postgres() -> Iterator[PgServer]:
    """The session's server (`--db postgres`), else one of this module's own: these tests
    need PostgreSQL, so they run in `make unit` too (skipped where it is not installed)."""
    with pgserver.session_or_own(active=True) as found:  # its stores open databases on it
        yield found


NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def bound(store: Store) -> WebChatChannel:
    async def receive(_item: object) -> bool:
        return True

    async def idle() -> None:
        return None

    channel = WebChatChannel()
    channel.bind(Host(receive, store, lambda: None, lambda: None, idle))  # type: ignore[arg-type]
    return channel


@pytest.fixture
async def pair(tmp_path: Path) -> AsyncIterator[tuple[Store, Store]]:
    ring = KeyRing.generate()
    a = await open_store(tmp_path / "lk3.db", ring)
    b = await open_store(tmp_path / "lk3.db", ring)
    try:
        yield a, b
    finally:
        await b.close()
        await a.close()


async def test_a_reply_sent_by_one_process_wakes_the_poll_held_by_the_other(
    pair: tuple[Store, Store],
) -> None:
    a, b = pair
    address = "w" * 32
    contact, _ = await a.turns.receive(
        "webchat", address, NewInbound("webchat", "m1", "text", "halo", NOW)
    )
    sender, page = bound(a), bound(b)
    try:
        start = (await page.view(address)).cursor

        async def polling() -> ChatView:
            """As the page does: poll again after each empty answer."""
            cursor = start
            while True:
                view = await page.wait(address, cursor, timeout=60)
                if view.lines:
                    return view
                cursor = view.cursor

        poll = asyncio.create_task(polling())
        live = LiveChanges.of(b)
        async with asyncio.timeout(20):
            while not live.live:
                await asyncio.sleep(0.02)
        [row_id] = await a.outbox.enqueue(
            [NewOutbound(contact.id, "webchat", "balasan dari proses A", (), 5, NOW)]
        )
        await sender.send(Outbound(row_id, address, "balasan dari proses A"))
        async with asyncio.timeout(20):  # a poll alone would wait 60 s
            view = await poll
        assert [(line.who, line.text) for line in view.lines] == [("bot", "balasan dari proses A")]
    finally:
        await page.close()
        await sender.close()
