"""Attendance from Telegram: a counsellor records came / did not come once the appointment's
time has come, by button under /jadwal or by /hadir and /tidakhadir; never a no-show before."""

from __future__ import annotations

from pathlib import Path

from booking_support import T0, book, contact_id, counsellor, running, wit
from bot_support import Bot
from support import Clock

from bot.channels.base import Outbound

FOLLOW_UP = "Halo, kami belum sempat bertemu Anda pada janji"


def last_to(bot: Bot, address: str) -> Outbound:
    return [m for m in bot.channel.sent if m.address == address][-1]


async def test_a_counsellor_marks_attendance_from_telegram_only_after_the_start(
    tmp_path: Path,
) -> None:
    clock = Clock(T0)
    async with running(tmp_path, clock) as bot:
        sari = await counsellor(bot)
        await book(bot, "ibu-d")
        booking = (await bot.app.store.bookings.for_contact(await contact_id(bot, "ibu-d")))[0]
        code = await bot.app.store.staff.issue_link_code(sari, clock.now)
        await bot.send("chat-sari", f"/link {code}")

        clock.now = wit(7, 9, 30)  # half an hour before the appointment
        await bot.send("chat-sari", "/jadwal")
        assert not last_to(bot, "chat-sari").options, "no attendance buttons before the time"
        await bot.send("chat-sari", f"/tidakhadir {booking.code}")
        assert bot.channel.texts_to("chat-sari")[-1].startswith(
            f"Janji {booking.code} belum dimulai (mulai Senin, 7 Desember, pukul 10.00 WIT)."
        )
        await bot.send("chat-sari", f"!att:{booking.code}:no_show", kind="choice")
        assert "belum dimulai" in bot.channel.texts_to("chat-sari")[-1], "a button is no way round"
        await bot.app.wait_idle()
        assert not [t for t in bot.channel.texts_to("ibu-d") if t.startswith(FOLLOW_UP)]

        clock.now = wit(7, 11, 5)  # after the appointment
        await bot.send("chat-sari", "/jadwal")
        ask = last_to(bot, "chat-sari")
        assert [value for value, _ in ask.options] == [
            f"!att:{booking.code}:attended",
            f"!att:{booking.code}:no_show",
        ]
        assert [label for _, label in ask.options] == [
            f"✅ {booking.code} hadir",
            f"❌ {booking.code} tidak hadir",
        ]
        await bot.send("chat-sari", ask.options[1][0], kind="choice")
        assert (
            bot.channel.texts_to("chat-sari")[-1] == f"Janji {booking.code} dicatat: tidak hadir."
        )
        bot.app.sender.wake()
        await bot.app.wait_idle()
        assert len([t for t in bot.channel.texts_to("ibu-d") if t.startswith(FOLLOW_UP)]) == 1
        await bot.send("chat-sari", f"/hadir {booking.code.lower()}")  # corrected
        assert bot.channel.texts_to("chat-sari")[-1] == f"Janji {booking.code} dicatat: hadir."
        marked = await bot.app.store.bookings.by_code(booking.code)
        assert marked is not None and marked.status == "attended"
        # The same audit row the console writes, once per mark (a no-show, then corrected).
        rows = [r for r in await bot.app.store.audit.rows() if r.action == "booking_attendance"]
        assert [(r.subject, r.reason) for r in rows] == [
            (f"booking:{booking.code}", "no_show"),
            (f"booking:{booking.code}", "attended"),
        ]
        assert {r.actor for r in rows} == {f"staff:{sari}"}


async def test_someone_elses_appointment_is_not_theirs_to_mark(tmp_path: Path) -> None:
    clock = Clock(T0)
    async with running(tmp_path, clock) as bot:
        await counsellor(bot)
        budi = await counsellor(bot, "budi", days=())
        await book(bot, "ibu-e")
        booking = (await bot.app.store.bookings.for_contact(await contact_id(bot, "ibu-e")))[0]
        code = await bot.app.store.staff.issue_link_code(budi, clock.now)
        await bot.send("chat-budi", f"/link {code}")
        clock.now = wit(7, 11, 5)
        await bot.send("chat-budi", f"/tidakhadir {booking.code}")
        assert bot.channel.texts_to("chat-budi")[-1] == (
            f"Janji {booking.code} bukan janji Anda, jadi tidak dicatat."
        )
        await bot.send("chat-budi", "/hadir")
        assert "/hadir KODE" in bot.channel.texts_to("chat-budi")[-1]
        still = await bot.app.store.bookings.by_code(booking.code)
        assert still is not None and still.status == "confirmed"
