"""What a family is promised about their data, from their side, in one process.

The whole message path (store, crisis check, flows, outbox) with a recording
channel: a person who declines consent keeps nothing of what they wrote; deleting
cancels a booking still to come, frees its time and says so; "my data" lists
bookings and reads as words.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from booking_support import T0, WIT, book, contact_id, counsellor, running, to_the_times
from bot_support import Bot, paragraphs
from support import Clock

from bot.booking.schedule import schedule_for

FIRST = "halo kak saya mau cerita soal suami RAHASIA-PERTAMA-4410"
LATER = "dia sering marah RAHASIA-KEDUA-4411"


async def said_to(bot: Bot, who: str, text: str, kind: str = "text") -> list[str]:
    """What the family reads after sending `text`: the replies, paragraph by paragraph."""
    before = len(bot.channel.sent)
    await bot.send(who, text, kind=kind)
    return paragraphs(m.text for m in bot.channel.sent[before:] if m.address == who)


async def kept_words(bot: Bot, who: str) -> list[str]:
    contact = await bot.app.store.contacts.find("test", who)
    assert contact is not None
    data = await bot.app.store.privacy.subject(contact.id)
    assert data is not None
    return [m.text for m in data.messages if m.text]


# --- declining consent keeps nothing -------------------------------------------


async def test_declining_erases_the_first_message_and_every_later_one(bot: Bot) -> None:
    asked = await said_to(bot, "ibu", FIRST)
    assert any("Apakah Anda setuju" in p for p in asked)
    assert FIRST in await kept_words(bot, "ibu"), "kept while the question is open"

    await said_to(bot, "ibu", "decline", kind="choice")
    await said_to(bot, "ibu", LATER)
    assert await kept_words(bot, "ibu") == []

    export = "\n".join(await said_to(bot, "ibu", "dataku"))
    assert "RAHASIA" not in export
    assert "tidak setuju (teks persetujuan versi" in export, "the refusal itself is on record"
    assert export.count("(isi pesan tidak disimpan)") >= 3  # first, the press, the later one


async def test_a_crisis_before_declining_stays_readable_for_the_counsellor(bot: Bot) -> None:
    danger = "suami saya pukul saya tiap malam, saya takut dia bunuh saya"
    await bot.send("ibu", danger)
    assert await bot.app.store.cases.open_for(1) is not None
    await bot.start("ibu")
    await said_to(bot, "ibu", "decline", kind="choice")
    assert danger in await kept_words(bot, "ibu")


# --- deleting erases bookings too ----------------------------------------------


async def test_deleting_cancels_an_upcoming_booking_frees_the_time_and_says_so(
    tmp_path: Path,
) -> None:
    clock = Clock(T0)
    async with running(tmp_path / "data", clock) as bot:
        sari = await counsellor(bot)
        await book(bot, "ibu")
        me = await contact_id(bot, "ibu")
        (booked,) = await bot.app.store.bookings.for_contact(me)
        assert booked.status == "confirmed"
        day = T0 + timedelta(days=3)
        assert [a.code for a in await schedule_for(bot.app.store, sari, tz=WIT, now=day)] == [
            booked.code
        ]

        export = "\n".join(await said_to(bot, "ibu", "dataku"))
        assert f"{booked.code}: Senin, 7 Desember, pukul 10.00 WIT; Datang ke kantor" in export
        assert "terjadwal" in export

        await said_to(bot, "ibu", "hapus")
        statement = await said_to(bot, "ibu", "yes", kind="choice")
        assert statement[0] == "Data Anda sudah kami hapus."
        assert statement[1].startswith("Yang kami hapus:\n• ")
        cancelled = f"janji konsultasi {booked.code} pada Senin, 7 Desember, pukul 10.00 WIT"
        assert cancelled in statement[1] and "sudah kami batalkan" in statement[1]
        assert "tanpa nama Anda" in statement[1]
        assert "112" in statement[-1]

        # The counsellor's schedule no longer holds it, and nothing of who it was.
        assert await schedule_for(bot.app.store, sari, tz=WIT, now=day) == []
        after = await bot.app.store.bookings.get(booked.id)
        assert after is not None and after.status == "cancelled"
        await bot.app.privacy.run_once()
        after = await bot.app.store.bookings.get(booked.id)
        assert after is not None and after.contact_id is None
        assert await bot.app.store.bookings.detail(booked.id) == ""

        # Asking again tells the truth: there is no appointment.
        mine = "\n".join(await said_to(bot, "ibu", "janji saya"))
        assert booked.code not in mine

        # And the time is free for another family.
        await to_the_times(bot, "pak", "2026-12-07")
        assert "2026-12-07T01:00Z" in [v for v, _ in bot.channel.sent[-1].options]


async def test_deleting_without_a_booking_says_what_went(bot: Bot) -> None:
    await bot.start("ibu")
    await bot.send("ibu", "agree", kind="choice")
    await bot.send("ibu", "hapus")
    statement = await said_to(bot, "ibu", "ya")
    assert statement[0] == "Data Anda sudah kami hapus."
    assert "pesan Anda" in statement[1] and "janji konsultasi" not in statement[1]
