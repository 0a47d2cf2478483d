"""Each office its own time zone (`[offices.<code>] timezone`, default `[office] timezone`):
a family of an office in WITA is offered and booked times in WITA, reminded in WITA
with its office's name, while the default office's families keep WIT."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from booking_support import T0, wit
from bot_support import Bot
from support import Clock, RecordingChannel

from bot.app import App
from bot.config import BookingSettings, load_config

WITA_OFFICE = """
[office]
name = "LK3 Kota Ambon"

[offices.mks]
name = "LK3 Kota Makassar"
timezone = "Asia/Makassar"
hours = "Senin–Jumat, 08.00–15.00 WITA"
"""
REMINDER = "Halo, ini pengingat konsultasi Anda"


@asynccontextmanager
async def running(tmp_path: Path, clock: Clock, channel: RecordingChannel) -> AsyncIterator[Bot]:
    path = tmp_path / "lk3.toml"
    path.write_text(WITA_OFFICE, encoding="utf-8")
    config = dataclasses.replace(
        load_config(path, env={}),
        data_dir=tmp_path / "data",
        booking=BookingSettings(urgent_share=0.0, lead_hours=2, reminder_wording="detailed"),
    )
    app = await App.open(config, [channel], clock=clock, env={})
    await app.start()
    try:
        yield Bot(app, channel)
    finally:
        await app.stop()


async def counsellors(bot: Bot) -> None:
    """One counsellor in each office, 09.00-12.00 on weekdays in their office's own time."""
    mks = await bot.app.store.offices.by_code("mks")
    assert mks is not None
    for username, office_id in (("sari", 1), ("wati", mks.id)):
        member = await bot.app.store.staff.add(
            username, username.title(), ["counsellor"], T0, office_id=office_id
        )
        for day in range(5):
            await bot.app.store.bookings.add_hours(member.id, day, 9 * 60, 12 * 60, ("kantor",), T0)


async def times_offered(bot: Bot, address: str, link: str) -> list[tuple[str, str]]:
    await bot.send(address, link, kind="start")
    for value in ("agree", "book", "kantor", "2026-12-07"):
        await bot.send(address, value, kind="choice")
    return list(bot.channel.sent[-1].options)


async def test_an_office_books_and_reminds_in_its_own_time_zone(tmp_path: Path) -> None:
    clock = Clock(T0)
    channel = RecordingChannel()
    async with running(tmp_path, clock, channel) as bot:
        await counsellors(bot)
        wit_times = await times_offered(bot, "ibu-ambon", "")
        wita_times = await times_offered(bot, "ibu-mks", "mks")
        # 09.00 WIT is 00:00Z; 09.00 WITA is 01:00Z: each office's own morning.
        assert wit_times[0] == ("2026-12-07T00:00Z", "Senin, 7 Desember, pukul 09.00 WIT")
        assert wita_times[0] == ("2026-12-07T01:00Z", "Senin, 7 Desember, pukul 09.00 WITA")
        await bot.send("ibu-mks", "2026-12-07T01:00Z", kind="choice")
        await bot.send("ibu-mks", "ya")
        confirmed = "\n".join(channel.texts_to("ibu-mks"))
        assert "Waktu: Senin, 7 Desember, pukul 09.00 WITA" in confirmed
        assert "Tempat: LK3 Kota Makassar" in confirmed
    clock.now = wit(6, 10, 1)  # the day before, in both zones
    later = RecordingChannel()
    async with running(tmp_path, clock, later) as bot:
        await bot.app.wait_idle()
        (reminder,) = [t for t in later.texts_to("ibu-mks") if t.startswith(REMINDER)]
        assert "LK3 Kota Makassar" in reminder
        assert "Senin, 7 Desember, pukul 09.00 WITA" in reminder
