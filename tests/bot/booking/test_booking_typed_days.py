"""Booking through the running bot with typed days and times, as families write them."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from booking_support import T0, contact_id, counsellor, last, running
from bot_support import Bot, asks
from support import Clock


async def to_the_days(bot: Bot, address: str) -> None:
    """A family agrees, picks "book" and the office: the days are shown."""
    await bot.start(address)
    for value in ("agree", "book", "kantor"):
        await bot.send(address, value, kind="choice")
    assert asks(last(bot, address), "Hari apa yang cocok untuk Anda?")


async def test_a_family_types_the_day_and_the_time_and_books(tmp_path: Path) -> None:
    async with running(tmp_path, Clock(T0)) as bot:  # Friday 4 December, 09.00 WIT
        await counsellor(bot)
        await to_the_days(bot, "ibu-a")
        await bot.send("ibu-a", "sabtu bisa?")
        assert last(bot, "ibu-a").startswith(
            "Maaf, kantor tutup pada hari Sabtu. Hari terdekat yang masih ada:"
        )
        await bot.send("ibu-a", "senin aja")
        assert asks(last(bot, "ibu-a"), "Pilih waktunya:")
        await bot.send("ibu-a", "jam 10")
        assert "Senin, 7 Desember, pukul 10.00 WIT" in last(bot, "ibu-a")
        await bot.send("ibu-a", "ya")
        booking = (await bot.app.store.bookings.for_contact(await contact_id(bot, "ibu-a")))[0]
        assert booking.status == "confirmed"


async def test_an_office_closure_and_a_holiday_are_named_honestly(tmp_path: Path) -> None:
    async with running(tmp_path, Clock(T0)) as bot:
        await counsellor(bot)
        await bot.app.store.bookings.add_closure(date(2026, 12, 8), "pelatihan staf", T0)
        await to_the_days(bot, "ibu-b")
        await bot.send("ibu-b", "selasa")
        said = last(bot, "ibu-b")
        assert said.startswith("Maaf, kantor tutup pada Selasa, 8 Desember.")
        assert "pelatihan" not in said  # staff's reason stays with staff
        await bot.send("ibu-b", "25 desember")
        assert last(bot, "ibu-b").startswith(
            "Maaf, kantor tutup pada Jumat, 25 Desember: Hari Raya Natal."
        )


async def test_a_family_asks_for_later_dates_and_a_part_of_the_day(tmp_path: Path) -> None:
    async with running(tmp_path, Clock(T0)) as bot:
        await counsellor(bot)
        await to_the_days(bot, "ibu-c")
        first = [value for value, _ in bot.channel.sent[-1].options]
        await bot.send("ibu-c", "tanggal lain")
        later = [value for value, _ in bot.channel.sent[-1].options]
        assert later[0] > first[5] and "_earlier" in later
        await bot.send("ibu-c", "2")
        assert asks(last(bot, "ibu-c"), "Pilih waktunya:")
        await bot.send("ibu-c", "pagi aja")
        assert asks(last(bot, "ibu-c"), "Waktu pagi yang masih ada:")
