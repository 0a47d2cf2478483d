"""While a channel reads a backlog, routine turns wait; a crisis never does."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from bot_support import Bot, eventually

from bot.channels.base import Inbound

CRISIS = "suami saya memukuli saya sekarang, saya takut dibunuh"


@pytest.fixture
async def held(bot: Bot) -> AsyncIterator[Bot]:
    """The pipeline told of a backlog again and again, as a flood keeps batches full."""

    async def keep_reporting() -> None:
        while True:
            bot.app.pipeline.defer_routine()
            await asyncio.sleep(0.05)

    reporter = asyncio.create_task(keep_reporting())
    try:
        yield bot
    finally:
        reporter.cancel()


async def arrive(bot: Bot, address: str, text: str, kind: str = "text") -> None:
    bot.counter += 1
    await bot.app.receive(Inbound("test", f"m{bot.counter}", address, kind, text))


async def test_a_crisis_is_answered_while_routine_turns_are_held(held: Bot) -> None:
    await arrive(held, "routine", "halo")
    await arrive(held, "family", "halo")
    await arrive(held, "family", CRISIS)
    # The family's greeting goes with its crisis (their messages keep their order);
    # the other family's greeting waits for the backlog to be read.
    await eventually(lambda: any("112" in t for t in held.channel.texts_to("family")))
    assert held.channel.texts_to("routine") == []
    await held.app.wait_idle()
    assert held.channel.texts_to("routine"), "held, never dropped: answered once it ends"


async def test_an_answer_by_button_is_not_held(held: Bot) -> None:
    await arrive(held, "routine", "halo")
    await arrive(held, "presser", "setuju", kind="choice")
    await eventually(lambda: bool(held.channel.texts_to("presser")))
    assert held.channel.texts_to("routine") == []


async def test_stopping_lets_held_turns_go_and_keeps_their_messages(held: Bot) -> None:
    await arrive(held, "routine", "halo")
    await eventually(lambda: bool(held.app.pipeline._held))
    # Held for up to 3 s by the flood; stopping does not wait for that.
    await asyncio.wait_for(held.app.pipeline.stop(), 2.0)
    assert held.channel.texts_to("routine") == []
    assert len(await held.app.store.inbox.pending()) == 1, "kept for the next start"
