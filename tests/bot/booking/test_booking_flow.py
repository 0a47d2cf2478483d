"""Booking through the running bot: the family's side, from the menu or triage to a code."""

from __future__ import annotations

import asyncio
from pathlib import Path

from booking_support import T0, book, contact_id, counsellor, last, running, to_the_times
from bot_support import asks, paragraphs
from support import Clock

from bot.channels.base import Inbound


async def test_a_family_books_a_consultation_and_learns_what_to_expect(tmp_path: Path) -> None:
    async with running(tmp_path, Clock(T0)) as bot:
        sari = await counsellor(bot)
        await to_the_times(bot, "ibu-a")
        sent = bot.channel.sent
        modes = [m for m in sent if asks(m.text, "Bagaimana Anda ingin bertemu konselor?")]
        assert [v for v, _ in modes[-1].options] == ["kantor", "telepon", "chat", "later"]
        assert [label for _, label in sent[-1].options][:2] == [
            "Senin, 7 Desember, pukul 09.00 WIT",
            "Senin, 7 Desember, pukul 10.00 WIT",
        ]
        await bot.send("ibu-a", "2026-12-07T01:00Z", kind="choice")
        assert "Waktu ini kami tahan untuk Anda selama 10 menit" in last(bot, "ibu-a")
        await bot.send("ibu-a", "ya")
        texts = bot.channel.texts_to("ibu-a")
        booking = (await bot.app.store.bookings.for_contact(await contact_id(bot, "ibu-a")))[0]
        confirmation = next(t for t in texts if t.startswith("Janji Anda sudah tercatat."))
        assert f"Kode janji: *{booking.code}*" in confirmation
        assert "Waktu: Senin, 7 Desember, pukul 10.00 WIT" in confirmation
        assert "Tempat: LK3 Kota Ambon, Dinas Sosial Kota Ambon" in confirmation
        assert any("Yang perlu dibawa" in t for t in texts)
        assert any("gratis dan rahasia" in t for t in texts)
        assert (booking.status, booking.staff_id, booking.mode) == ("confirmed", sari, "kantor")


async def test_the_menus_book_and_the_end_of_triage_both_lead_into_booking(
    tmp_path: Path,
) -> None:
    async with running(tmp_path, Clock(T0), urgent_share=0.25) as bot:
        await counsellor(bot)
        await bot.start("ibu-b")
        await bot.send("ibu-b", "agree", kind="choice")
        for value in ("talk", "kdrt", "no", "self", "weeks", "no"):
            if asks(last(bot, "ibu-b"), "Bagaimana Anda ingin bertemu konselor?"):
                break
            await bot.send("ibu-b", value, kind="choice")
        assert asks(last(bot, "ibu-b"), "Bagaimana Anda ingin bertemu konselor?")
        case = await bot.app.store.cases.open_for(await contact_id(bot, "ibu-b"))
        assert case is not None and case.urgency == "segera"
        await bot.send("ibu-b", "kantor", kind="choice")
        days = bot.channel.sent[-1].options
        assert days[0] == ("soonest", "Secepatnya (waktu paling awal)")
        await bot.send("ibu-b", "soonest", kind="choice")
        times = [label for _, label in bot.channel.sent[-1].options]
        # Friday 11.00 (09.00 and 10.00 are within the lead time), then Monday from
        # 09.00: the slot held back for urgent cases.
        assert times[:2] == [
            "Jumat, 4 Desember, pukul 11.00 WIT",
            "Senin, 7 Desember, pukul 09.00 WIT",
        ]


async def test_a_routine_family_does_not_see_the_slots_held_back(tmp_path: Path) -> None:
    async with running(tmp_path, Clock(T0), urgent_share=0.25) as bot:
        await counsellor(bot)
        await to_the_times(bot, "ibu-c")
        times = [label for _, label in bot.channel.sent[-1].options]
        assert times[0] == "Senin, 7 Desember, pukul 10.00 WIT"


async def test_many_families_racing_for_one_time_one_wins_and_the_rest_get_the_next(
    tmp_path: Path,
) -> None:
    async with running(tmp_path, Clock(T0)) as bot:
        await counsellor(bot, days=(0,), start=10 * 60, end=12 * 60)
        families = [f"ibu-{n}" for n in range(6)]
        for address in families:
            await to_the_times(bot, address)
        await asyncio.gather(
            *(
                bot.app.receive(Inbound("test", f"race-{a}", a, "choice", "2026-12-07T01:00Z"))
                for a in families
            )
        )
        await bot.app.wait_idle()
        held = [a for a in families if "Waktu ini kami tahan" in last(bot, a)]
        assert len(held) == 1
        for address in set(families) - set(held):
            said = paragraphs(bot.channel.texts_to(address))
            assert said[-2].startswith("Maaf, waktu itu baru saja diambil orang lain")
            options = [m for m in bot.channel.sent if m.address == address][-1].options
            assert options[0] == ("2026-12-07T02:00Z", "Senin, 7 Desember, pukul 11.00 WIT")
        rows = await bot.app.store.bookings.for_contact(await contact_id(bot, held[0]))
        assert [b.status for b in rows] == ["held"]


async def test_a_hold_that_ran_out_and_was_taken_is_told_kindly_at_confirmation(
    tmp_path: Path,
) -> None:
    clock = Clock(T0)
    async with running(tmp_path, clock) as bot:
        await counsellor(bot, days=(0,), start=10 * 60, end=12 * 60)
        await to_the_times(bot, "ibu-slow")
        await bot.send("ibu-slow", "2026-12-07T01:00Z", kind="choice")
        clock.advance(minutes=15)
        await to_the_times(bot, "ibu-quick")
        await bot.send("ibu-quick", "2026-12-07T01:00Z", kind="choice")
        await bot.send("ibu-slow", "yes", kind="choice")
        said = paragraphs(bot.channel.texts_to("ibu-slow"))
        assert said[-2].startswith("Maaf, waktu itu baru saja diambil orang lain")
        assert not any(p.startswith("Janji Anda sudah tercatat") for p in said)


async def test_with_no_counsellor_hours_the_family_is_told_honestly_and_a_case_opens(
    tmp_path: Path,
) -> None:
    async with running(tmp_path, Clock(T0)) as bot:
        await bot.start("ibu-d")
        await bot.send("ibu-d", "agree", kind="choice")
        await bot.send("ibu-d", "book", kind="choice")
        assert any(
            p.startswith("Maaf, saat ini belum ada jadwal konsultasi yang kosong.")
            for p in paragraphs(bot.channel.texts_to("ibu-d"))
        )
        case = await bot.app.store.cases.open_for(await contact_id(bot, "ibu-d"))
        assert case is not None


async def test_janji_shows_cancels_and_withdraws_the_reminders(tmp_path: Path) -> None:
    async with running(tmp_path, Clock(T0)) as bot:
        await counsellor(bot)
        await book(bot, "ibu-e")
        await bot.send("ibu-e", "janji saya")
        shown = last(bot, "ibu-e")
        assert shown.startswith("Janji Anda:") and "Senin, 7 Desember, pukul 10.00 WIT" in shown
        await bot.send("ibu-e", "cancel", kind="choice")
        await bot.send("ibu-e", "ya")
        assert last(bot, "ibu-e").startswith("Janji Anda sudah dibatalkan.")
        me = await contact_id(bot, "ibu-e")
        assert [b.status for b in await bot.app.store.bookings.for_contact(me)] == ["cancelled"]
        assert await bot.app.store.outbox.count_pending() == 0, "no reminder left to send"


async def test_janji_reschedules_and_the_old_time_stands_until_the_new_is_confirmed(
    tmp_path: Path,
) -> None:
    async with running(tmp_path, Clock(T0)) as bot:
        await counsellor(bot)
        await book(bot, "ibu-f")
        me = await contact_id(bot, "ibu-f")
        await bot.send("ibu-f", "janji")
        await bot.send("ibu-f", "change", kind="choice")
        for value in ("kantor", "2026-12-08", "2026-12-08T00:00Z"):
            await bot.send("ibu-f", value, kind="choice")
        statuses = sorted(b.status for b in await bot.app.store.bookings.for_contact(me))
        assert statuses == ["confirmed", "held"], "the old one stands while the new is held"
        await bot.send("ibu-f", "yes", kind="choice")
        bookings = await bot.app.store.bookings.for_contact(me)
        assert [(b.starts_at.day, b.status) for b in bookings] == [
            (7, "cancelled"),
            (8, "confirmed"),
        ]
        assert await bot.app.store.outbox.count_pending() == 2, "only the new reminders wait"


async def test_bad_input_at_each_booking_question_gets_a_kind_reask(tmp_path: Path) -> None:
    async with running(tmp_path, Clock(T0)) as bot:
        await counsellor(bot)
        await to_the_times(bot, "ibu-g")
        await bot.send("ibu-g", "jam berapa saja boleh??")
        said = paragraphs(bot.channel.texts_to("ibu-g"))
        assert said[-2].startswith("Maaf, saya belum mengerti jawaban itu.")
        assert said[-1] == "Pilih waktunya:"
