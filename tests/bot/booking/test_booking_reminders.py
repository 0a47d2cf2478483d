"""Reminders: sent once at their time across a restart, never after a cancellation or
during a live conversation with a counsellor; a reply confirms or changes the time."""

from __future__ import annotations

from pathlib import Path

from booking_support import T0, book, contact_id, counsellor, last, running, wit
from bot_support import paragraphs
from support import Clock, RecordingChannel
from support.rawdb import raw_update

REMINDER = "Halo, ini pengingat janji Anda"


def reminders(channel: RecordingChannel, address: str) -> list[str]:
    return [t for t in channel.texts_to(address) if t.startswith(REMINDER)]


async def test_reminders_are_sent_once_at_their_time_even_across_restarts(
    tmp_path: Path,
) -> None:
    clock = Clock(T0)
    async with running(tmp_path, clock) as bot:
        await counsellor(bot)
        await book(bot, "ibu-a")  # Monday 7 December, 10.00 WIT
        await book(bot, "ibu-b", "2026-12-07T02:00Z")
        await bot.send("ibu-b", "janji")
        await bot.send("ibu-b", "cancel", kind="choice")
        await bot.send("ibu-b", "ya")
        assert reminders(bot.channel, "ibu-a") == []

    clock.now = wit(6, 10, 1)  # the day before, just after it fell due: a new process
    first = RecordingChannel()
    async with running(tmp_path, clock, first) as bot:
        await bot.app.wait_idle()
        assert reminders(first, "ibu-a") == [
            "Halo, ini pengingat janji Anda besok pukul 10.00 WIT. "
            "Balas 1 untuk konfirmasi atau 2 untuk mengganti waktu."
        ]
        assert [v for v, _ in first.sent[-1].options] == ["1", "2"]
        assert reminders(first, "ibu-b") == [], "a cancelled booking reminds nobody"

    clock.now = wit(7, 8, 1)
    second = RecordingChannel()
    async with running(tmp_path, clock, second) as bot:
        await bot.app.wait_idle()
        assert reminders(second, "ibu-a") == [
            "Halo, ini pengingat janji Anda hari ini pukul 10.00 WIT. "
            "Balas 1 untuk konfirmasi atau 2 untuk mengganti waktu."
        ], "the day-before reminder is not sent again"
        assert reminders(second, "ibu-b") == []


async def test_a_reply_1_to_a_reminder_confirms_attendance(tmp_path: Path) -> None:
    clock = Clock(T0)
    async with running(tmp_path, clock) as bot:
        await counsellor(bot)
        await book(bot, "ibu-c")
        clock.now = wit(6, 10, 1)
        bot.app.sender.wake()
        await bot.app.wait_idle()
        assert reminders(bot.channel, "ibu-c")
        await bot.send("ibu-c", "1")
        assert last(bot, "ibu-c") == (
            "Terima kasih atas konfirmasinya. Sampai jumpa pada Senin, 7 Desember, pukul 10.00 WIT."
        )
        booking = (await bot.app.store.bookings.for_contact(await contact_id(bot, "ibu-c")))[0]
        assert booking.family_confirmed


async def test_a_reply_2_to_a_reminder_offers_new_times(tmp_path: Path) -> None:
    clock = Clock(T0)
    async with running(tmp_path, clock) as bot:
        await counsellor(bot)
        await book(bot, "ibu-d")
        clock.now = wit(6, 10, 1)
        bot.app.sender.wake()
        await bot.app.wait_idle()
        await bot.send("ibu-d", "2")
        said = paragraphs(bot.channel.texts_to("ibu-d"))
        assert said[-3].startswith("Baik, mari pilih waktu baru.")
        assert said[-1] == "Bagaimana Anda ingin bertemu konselor?"


async def test_a_1_after_the_family_wrote_again_is_not_taken_for_a_reminder_reply(
    tmp_path: Path,
) -> None:
    clock = Clock(T0)
    async with running(tmp_path, clock) as bot:
        await counsellor(bot)
        await book(bot, "ibu-e")
        clock.now = wit(6, 10, 1)
        bot.app.sender.wake()
        await bot.app.wait_idle()
        await bot.send("ibu-e", "menu")
        await bot.send("ibu-e", "1")  # the menu's first choice: information
        assert not any(
            t.startswith("Terima kasih atas konfirmasinya") for t in bot.channel.texts_to("ibu-e")
        )
        booking = (await bot.app.store.bookings.for_contact(await contact_id(bot, "ibu-e")))[0]
        assert not booking.family_confirmed


async def test_no_reminder_goes_out_while_a_counsellor_is_handling_the_family_live(
    tmp_path: Path,
) -> None:
    clock = Clock(T0)
    async with running(tmp_path, clock) as bot:
        await counsellor(bot)
        await book(bot, "ibu-f")
        me = await contact_id(bot, "ibu-f")
        # The live-handoff hook: a case a counsellor has taken (storage.booking.repo).
        raw_update(
            bot.app.store.path,
            "INSERT INTO cases (code, contact_id, category, urgency, status, opened_at,"
            " updated_at) VALUES ('LIVE01', ?, 'lainnya', 'biasa', 'taken', 0, 0)",
            (me,),
        )
        clock.now = wit(6, 10, 1)
        bot.app.sender.wake()
        await bot.app.wait_idle()
        assert reminders(bot.channel, "ibu-f") == []
        assert await bot.app.store.outbox.count_pending() == 1, "only the later one still waits"


async def test_a_reminder_of_a_booking_no_longer_confirmed_is_withdrawn_at_send_time(
    tmp_path: Path,
) -> None:
    clock = Clock(T0)
    async with running(tmp_path, clock) as bot:
        await counsellor(bot)
        await book(bot, "ibu-g")
        # Closed behind the reminders' back (not through a cancel, which withdraws them).
        raw_update(bot.app.store.path, "UPDATE bookings SET status = 'attended'")
        clock.now = wit(7, 8, 1)
        bot.app.sender.wake()
        await bot.app.wait_idle()
        assert reminders(bot.channel, "ibu-g") == []
        assert await bot.app.store.outbox.count_pending() == 0


async def test_no_reminder_goes_to_a_family_that_withdrew_consent(tmp_path: Path) -> None:
    clock = Clock(T0)
    async with running(tmp_path, clock) as bot:
        await counsellor(bot)
        await book(bot, "ibu-h")
        me = await contact_id(bot, "ibu-h")
        raw_update(
            bot.app.store.path,
            "INSERT INTO consents (contact_id, given, version, at) VALUES (?, 0, 'x', 1)",
            (me,),
        )
        clock.now = wit(6, 10, 1)
        bot.app.sender.wake()
        await bot.app.wait_idle()
        assert reminders(bot.channel, "ibu-h") == []
