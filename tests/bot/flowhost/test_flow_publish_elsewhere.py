"""A publish in one process reaches every other process on the same database.

Two `App`s in this test process stand for two `lk3 run` processes on one database (one
SQLite file, or with `--db postgres` one PostgreSQL database): the admin publishes in
A's console; B's families hear the new words from B's first turn after its next look
(`CATCH_UP` of B's clock, driven here, never slept), and not before, since a turn reads
the pointers at most once per interval. A conversation already under way in B finishes
on the version it started on, exactly as after a publish in B itself.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from bot_support import Bot, make_config, paragraphs
from support import Clock, RecordingChannel

from bot.app import App
from bot.flowhost.shelf import FlowShelf
from bot.flowhost.shelves import CATCH_UP

OLD = "Terima kasih atas kepercayaan Anda."
NEW = "Terima kasih banyak; kami menjaga kepercayaan Anda."
FAQ_OLD = "Kantor kami buka"
FAQ_NEW = "Kantor kami kini buka"


@dataclass
class Two:
    """Process A (where the admin publishes) and process B (a family's turns, its clock)."""

    a: App
    b: Bot
    clock: Clock

    @property
    def a_flows(self) -> FlowShelf:
        assert self.a.flows is not None
        return self.a.flows

    async def b_looks_again(self) -> None:
        self.clock.advance(CATCH_UP.total_seconds())


@pytest.fixture
async def two(tmp_path: Path) -> AsyncIterator[Two]:
    config = make_config(tmp_path / "data")
    clock = Clock(datetime(2026, 3, 2, 1, 0, tzinfo=UTC))
    a = await App.open(config, [], env={})
    channel = RecordingChannel()
    b = await App.open(config, [channel], env={}, clock=clock)
    await b.start()
    try:
        yield Two(a, Bot(b, channel), clock)
    finally:
        await b.stop()
        await a.stop()


def said_to(two: Two, address: str) -> str:
    """Everything B said to `address`, one paragraph a line."""
    return "\n".join(paragraphs(two.b.channel.texts_to(address)))


async def test_a_publish_in_one_process_is_heard_in_another_after_its_next_look(
    two: Two,
) -> None:
    await two.b.start("mid-way")  # asked for consent on the bundled version, in B
    welcome = two.a_flows.source("welcome")
    _, changed = await two.a_flows.publish("welcome", welcome.replace(OLD, NEW))
    assert changed
    await two.b.start("early")  # B's turns within the interval read nothing: old words
    await two.b.send("early", "setuju")
    assert OLD in said_to(two, "early") and NEW not in said_to(two, "early")

    await two.b_looks_again()
    await two.b.start("later")
    await two.b.send("later", "setuju")
    await two.b.send("mid-way", "setuju")
    assert NEW in said_to(two, "later") and OLD not in said_to(two, "later")
    assert OLD in said_to(two, "mid-way") and NEW not in said_to(two, "mid-way")


async def test_a_rollback_in_one_process_is_heard_in_another_after_its_next_look(
    two: Two,
) -> None:
    bundled = two.a_flows.library.current_version("welcome")
    welcome = two.a_flows.source("welcome")
    await two.a_flows.publish("welcome", welcome.replace(OLD, NEW))
    await two.b_looks_again()
    await two.b.start("first")
    await two.b.send("first", "setuju")
    assert NEW in said_to(two, "first")

    await two.a_flows.make_current("welcome", bundled)
    await two.b_looks_again()
    await two.b.start("second")
    await two.b.send("second", "setuju")
    assert OLD in said_to(two, "second") and NEW not in said_to(two, "second")
    assert two.b.app.flows is not None
    assert two.b.app.flows.library.current_version("welcome") == bundled


async def test_an_faq_published_in_one_process_is_told_in_another(two: Two) -> None:
    faq = two.a_flows.file_source("faq")
    assert FAQ_OLD in faq
    await two.a_flows.publish_file("faq", faq.replace(FAQ_OLD, FAQ_NEW))
    await two.b_looks_again()
    await two.b.start("asks")
    await two.b.send("asks", "jam buka kantor?")
    assert FAQ_NEW in said_to(two, "asks")


async def test_a_process_that_published_itself_reloads_nothing_at_its_next_look(
    two: Two,
) -> None:
    """B's own publish moved the pointers B's shelf holds: its next look finds nothing
    to follow, and its families keep the library B built when it published."""
    shelf = two.b.app.flows
    assert shelf is not None
    await shelf.publish("welcome", shelf.source("welcome").replace(OLD, NEW))
    published = shelf.library
    await two.b_looks_again()
    await two.b.start("after")
    assert shelf.library is published
    assert await shelf.refresh() is False
