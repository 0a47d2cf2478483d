"""The counsellor's side: attendance and the one no-show follow-up, /jadwal, the private
calendar feed, and admins setting hours and closures."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from booking_support import T0, WIT, book, contact_id, counsellor, running, wit
from bot_support import paragraphs
from support import Clock

from bot.booking import BookingError, admin
from bot.booking.ical import ICAL_ROUTE, ical_endpoint
from bot.core.texts import BotTexts
from bot.web import WebServer

FOLLOW_UP = "Halo, kami belum sempat bertemu Anda pada janji"


async def test_a_no_show_gets_one_kind_follow_up_offering_a_new_time(tmp_path: Path) -> None:
    clock = Clock(T0)
    async with running(tmp_path, clock) as bot:
        await counsellor(bot)
        await book(bot, "ibu-a")
        booking = (await bot.app.store.bookings.for_contact(await contact_id(bot, "ibu-a")))[0]
        clock.now = wit(7, 12)
        for _ in range(2):
            marked, _ = await admin.mark(
                bot.app.store,
                booking.code.lower(),
                "no-show",
                texts=BotTexts.bundled(),
                config=bot.app.config,
                tz=WIT,
                now=clock.now,
            )
            bot.app.sender.wake()
            await bot.app.wait_idle()
        follow_ups = [t for t in bot.channel.texts_to("ibu-a") if t.startswith(FOLLOW_UP)]
        assert follow_ups == [
            "Halo, kami belum sempat bertemu Anda pada janji Senin, 7 Desember, pukul 10.00 WIT."
            " Tidak apa-apa, kadang ada halangan."
            " Jika Anda ingin memilih waktu baru, balas *janji*. Kami tetap ada untuk Anda."
        ]
        assert marked.status == "no_show"
        await bot.send("ibu-a", "janji")
        assert (
            paragraphs(bot.channel.texts_to("ibu-a"))[-2]
            == "Anda belum punya janji konsultasi. Mari kita buat."
        )


async def test_attended_is_recorded_without_a_message_to_the_family(tmp_path: Path) -> None:
    async with running(tmp_path, Clock(T0)) as bot:
        await counsellor(bot)
        await book(bot, "ibu-b")
        before = len(bot.channel.sent)
        booking = (await bot.app.store.bookings.for_contact(await contact_id(bot, "ibu-b")))[0]
        marked, changed = await admin.mark(
            bot.app.store,
            booking.code,
            "attended",
            texts=BotTexts.bundled(),
            config=bot.app.config,
            tz=WIT,
            now=wit(7, 11),
        )
        await bot.app.wait_idle()
        assert (marked.status, changed, len(bot.channel.sent)) == ("attended", True, before)
        assert await bot.app.store.outbox.count_pending() == 0, "its reminders are withdrawn"


@pytest.mark.parametrize(
    ("code", "outcome", "problem"),
    [
        ("ZZZZZZ", "attended", "no booking with code 'ZZZZZZ'"),
        ("x", "came", "use attended or no-show"),
    ],
)
async def test_a_wrong_code_or_outcome_is_refused_kindly(
    tmp_path: Path, code: str, outcome: str, problem: str
) -> None:
    async with running(tmp_path, Clock(T0)) as bot:
        with pytest.raises(BookingError, match=problem):
            await admin.mark(
                bot.app.store,
                code,
                outcome,
                texts=BotTexts.bundled(),
                config=bot.app.config,
                tz=WIT,
                now=wit(7, 11),
            )


async def test_jadwal_lists_today_and_tomorrow_by_code_mode_and_time_only(
    tmp_path: Path,
) -> None:
    clock = Clock(T0)
    async with running(tmp_path, clock) as bot:
        sari = await counsellor(bot)
        await book(bot, "ibu-c")
        booking = (await bot.app.store.bookings.for_contact(await contact_id(bot, "ibu-c")))[0]
        code = await bot.app.store.staff.issue_link_code(sari, clock.now)
        await bot.send("chat-sari", f"/link {code}")
        clock.now = wit(6, 19)  # Sunday evening: today is empty, tomorrow has the booking
        await bot.send("chat-sari", "/jadwal")
        schedule = bot.channel.texts_to("chat-sari")[-1]
        assert schedule == (
            "Hari ini, Minggu, 6 Desember:\n• tidak ada janji\n\n"
            f"Besok, Senin, 7 Desember:\n• 10.00–11.00 WIT  {booking.code}  kantor"
        )
        text = await admin.schedule_text(
            bot.app.store, "sari", texts=BotTexts.bundled(), tz=WIT, now=wit(7, 8)
        )
        assert text.startswith("Hari ini, Senin, 7 Desember:\n• 10.00–11.00 WIT")
        assert "ibu" not in text.lower()


async def test_the_private_calendar_feed_shows_codes_modes_and_times_only(tmp_path: Path) -> None:
    clock = Clock(T0)
    async with running(tmp_path, clock) as bot:
        await counsellor(bot)
        await book(bot, "+6281234567890")
        booking = (
            await bot.app.store.bookings.for_contact(await contact_id(bot, "+6281234567890"))
        )[0]
        url = await admin.feed_url(
            bot.app.store, "sari", public_url="https://lk3.example/", now=clock.now
        )
        assert url.startswith("https://lk3.example/ical/") and url.endswith(".ics")
        server = WebServer("127.0.0.1", 0)
        server.add_route(
            ICAL_ROUTE,
            ical_endpoint(bot.app.store, config=bot.app.config, clock=clock),
            methods=["GET"],
        )
        transport = httpx.ASGITransport(app=server.app())
        async with httpx.AsyncClient(transport=transport, base_url="http://lk3") as client:
            feed = await client.get(url.removeprefix("https://lk3.example"))
            wrong = await client.get("/ical/not-a-token.ics")
        assert feed.status_code == 200 and feed.headers["content-type"].startswith("text/calendar")
        body = feed.text
        assert f"SUMMARY:Konsultasi {booking.code} (kantor)" in body
        assert "DTSTART:20261207T010000Z" in body and "DTEND:20261207T020000Z" in body
        for private in ("6281234567890", "Sari", "ibu", "kdrt"):
            assert private not in body
        assert wrong.status_code == 404
        await admin.feed_url(bot.app.store, "sari", public_url="", now=clock.now)
        async with httpx.AsyncClient(transport=transport, base_url="http://lk3") as client:
            revoked = await client.get(url.removeprefix("https://lk3.example"))
        assert revoked.status_code == 404, "a new address voids the old one"


@pytest.mark.parametrize(
    ("day", "start", "end", "modes", "problem"),
    [
        ("sennin", "09:00", "12:00", "kantor", "day 'sennin' is not a day name"),
        ("senin", "9", "12:00", "kantor", "--from '9' is not a time like 09:00"),
        ("senin", "12:00", "09:00", "kantor", "--to 09:00 must be later than --from 12:00"),
        ("senin", "09:00", "25:00", "kantor", "--to '25:00' is not a time of day"),
        ("senin", "09:00", "12:00", "zoom", "modes 'zoom': give one or more of kantor"),
    ],
)
async def test_admins_typing_hours_wrong_are_told_what_to_type(
    tmp_path: Path, day: str, start: str, end: str, modes: str, problem: str
) -> None:
    async with running(tmp_path, Clock(T0)) as bot:
        await counsellor(bot, days=())
        with pytest.raises(BookingError, match=problem):
            await admin.set_hours(
                bot.app.store, "sari", day=day, start=start, end=end, modes=modes, at=wit(4, 9)
            )


async def test_hours_and_closures_set_by_an_admin_shape_what_families_are_offered(
    tmp_path: Path,
) -> None:
    async with running(tmp_path, Clock(T0)) as bot:
        await counsellor(bot, days=())
        await admin.set_hours(
            bot.app.store,
            "sari",
            day="senin",
            start="09.00",
            end="11:00",
            modes="kantor,chat",
            at=wit(4, 9),
        )
        assert await admin.hours_lines(bot.app.store, "sari") == [
            "senin   09:00-11:00  kantor, chat"
        ]
        await admin.add_closure(bot.app.store, "2026-12-07", "rapat kantor", wit(4, 9))
        lines = await admin.preview_slots(
            bot.app.store,
            config=bot.app.config,
            texts=BotTexts.bundled(),
            tz=WIT,
            now=wit(4, 9),
            mode="kantor",
            urgent=False,
        )
        assert lines[:3] == [
            "kantor: 2 free time(s)",
            "  Senin, 14 Desember, pukul 09.00 WIT",
            "  Senin, 14 Desember, pukul 10.00 WIT",
        ]
        with pytest.raises(BookingError, match="not closed on 2026-12-08"):
            await admin.remove_closure(bot.app.store, "2026-12-08")
