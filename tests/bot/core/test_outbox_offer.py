"""A turn's reply goes out at once, and never before what the family was to get first.

The pipeline hands the sender each committed turn's first reply when it is next in the
family's line (bot.core.outbox `OutboxSender.offer`); the sender sends it without a
pass looking for due rows, unless something must go first. These specs hold the
promises that shortcut must keep: each family's replies in order, a reply waiting to be
retried still first, nothing sent before the sender runs, every reply sent once.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from bot_support import eventually, make_config
from support import RecordingChannel

from bot.app import App
from bot.channels.base import Inbound, Outbound, RetryLater


class HeldChannel(RecordingChannel):
    """Sends wait while `held` is clear: a reply can be kept on its way."""

    def __init__(self) -> None:
        super().__init__()
        self.held = asyncio.Event()
        self.held.set()
        self.started: list[str] = []

    async def send(self, message: Outbound) -> str | None:
        self.started.append(message.address)
        await self.held.wait()
        return await super().send(message)


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[tuple[App, HeldChannel]]:
    channel = HeldChannel()
    app = await App.open(make_config(tmp_path / "data"), [channel], env={})
    await app.start()
    try:
        yield app, channel
    finally:
        await app.stop()


def inbound(address: str, n: int, text: str = "menu", kind: str = "text") -> Inbound:
    return Inbound("test", f"{address}-{n}", address, kind, text)


async def settled(bot: App, within: float = 10.0) -> None:
    """Waits (bounded) until no reply is pending, a retry's wait included."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while await bot.store.outbox.count_pending():
        assert loop.time() < deadline, "replies still pending"
        await asyncio.sleep(0.02)


def in_queue_order(channel: RecordingChannel) -> bool:
    """Each family's replies were sent once each, in the order they were queued."""
    for address in {message.address for message in channel.sent}:
        ids = [message.outbox_id for message in channel.sent if message.address == address]
        if ids != sorted(set(ids)):
            return False
    return True


async def test_a_reply_goes_out_without_a_pass_looking_for_it(
    app: tuple[App, HeldChannel],
) -> None:
    bot, channel = app
    await bot.receive(inbound("chat-1", 0, "", kind="start"))
    await bot.wait_idle()
    assert "selamat datang" in channel.texts_to("chat-1")[0].lower()
    # On PostgreSQL any number of processes may send, each claiming a family's sends
    # first: there a pass claims many families at once and sends, as before.
    assert bot.sender.sent_at_once == (0 if bot.claims.shared else 1), "offered by its turn"
    assert await bot.store.outbox.count_pending() == 0, "all sent and marked"
    assert in_queue_order(channel)


async def test_replies_committed_while_the_previous_is_on_its_way_follow_it_in_order(
    app: tuple[App, HeldChannel],
) -> None:
    bot, channel = app
    channel.held.clear()
    await bot.receive(inbound("chat-1", 0, "", kind="start"))
    await eventually(lambda: channel.started == ["chat-1"])
    for n, text in enumerate(("setuju", "menu", "1"), start=1):
        await bot.receive(inbound("chat-1", n, text))
    await bot.pipeline.wait_idle()
    assert channel.started == ["chat-1"], "one reply of a family on its way at a time"
    channel.held.set()
    await settled(bot)
    assert "selamat datang" in channel.sent[0].text.lower()
    assert in_queue_order(channel), "every reply once, in the order the turns queued them"
    assert len(channel.sent) >= 4


async def test_a_reply_behind_one_waiting_to_be_retried_waits_for_it(
    app: tuple[App, HeldChannel],
) -> None:
    bot, channel = app
    channel.failures.append(RetryLater("503", retry_after=0.3))
    await bot.receive(inbound("chat-1", 0, "", kind="start"))
    await bot.pipeline.wait_idle()
    await eventually(lambda: not channel.failures)
    assert channel.sent == [], "the greeting failed once and waits to be tried again"
    await bot.receive(inbound("chat-1", 1, "setuju"))
    await settled(bot)
    assert "selamat datang" in channel.sent[0].text.lower(), "the greeting still went first"
    assert in_queue_order(channel)


async def test_nothing_is_sent_before_the_sender_runs_and_all_is_sent_once_after(
    tmp_path: Path,
) -> None:
    channel = HeldChannel()
    bot = await App.open(make_config(tmp_path / "data"), [channel], env={})
    try:
        for n in range(3):
            await bot.receive(inbound(f"chat-{n}", 0, "", kind="start"))
        await bot.pipeline.wait_idle()
        assert channel.sent == [], "the sender has not started"
        queued = await bot.store.outbox.count_pending()
        await bot.start()
        await settled(bot)
        assert len(channel.sent) == queued
        assert {m.address for m in channel.sent} == {"chat-0", "chat-1", "chat-2"}
        assert in_queue_order(channel)
    finally:
        await bot.stop()
