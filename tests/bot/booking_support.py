"""Helpers for the booking tests: a settable clock, an app with counsellors, a family that books."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from bot_support import Bot, make_config
from support import Clock, RecordingChannel

from bot.app import App
from bot.config import BookingSettings, Config

WIT = ZoneInfo("Asia/Jayapura")
WEEKDAYS = (0, 1, 2, 3, 4)


def wit(day: int, hour: int, minute: int = 0) -> datetime:
    """A moment in December 2026, office time (WIT)."""
    return datetime(2026, 12, day, hour, minute, tzinfo=WIT)


T0 = wit(4, 9)  # Friday 4 December 2026, 09.00 WIT


def booking_config(data_dir: Path, **settings: object) -> Config:
    values: dict[str, object] = {"urgent_share": 0.0, "lead_hours": 2}
    values.update(settings)
    return dataclasses.replace(
        make_config(data_dir),
        booking=BookingSettings(**values),  # type: ignore[arg-type]
    )


@asynccontextmanager
async def running(
    data_dir: Path, clock: Clock, channel: RecordingChannel | None = None, **settings: object
) -> AsyncIterator[Bot]:
    channel = channel if channel is not None else RecordingChannel()
    app = await App.open(booking_config(data_dir, **settings), [channel], clock=clock, env={})
    await app.start()
    try:
        yield Bot(app, channel)
    finally:
        await app.stop()


async def counsellor(
    bot: Bot,
    username: str = "sari",
    *,
    days: tuple[int, ...] = WEEKDAYS,
    start: int = 9 * 60,
    end: int = 12 * 60,
    modes: tuple[str, ...] = ("kantor", "telepon", "chat"),
) -> int:
    member = await bot.app.store.staff.add(username, username.title(), ["counsellor"], T0)
    for day in days:
        await bot.app.store.bookings.add_hours(member.id, day, start, end, modes, T0)
    return member.id


async def to_the_times(bot: Bot, address: str, day: str = "2026-12-07") -> None:
    """A family agrees, picks "book", the office and a day: the times are shown."""
    await bot.start(address)
    for value in ("agree", "book", "kantor", day):
        await bot.send(address, value, kind="choice")


async def book(bot: Bot, address: str, slot: str = "2026-12-07T01:00Z") -> None:
    """A family books Monday 7 December 10.00 WIT (by default) at the office."""
    await to_the_times(bot, address, slot[:10])
    await bot.send(address, slot, kind="choice")
    await bot.send(address, "yes", kind="choice")


async def contact_id(bot: Bot, address: str) -> int:
    contact = await bot.app.store.contacts.find("test", address)
    assert contact is not None
    return contact.id


def last(bot: Bot, address: str) -> str:
    texts = bot.channel.texts_to(address)
    return texts[-1] if texts else ""
