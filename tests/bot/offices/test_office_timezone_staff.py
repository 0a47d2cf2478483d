"""A counsellor's side in their own office's time zone (`[offices.<code>] timezone`): an
office in WIB (Asia/Jakarta) beside the default office in WIT. Its counsellor's /jadwal
shows 09.00 WIB for a 09.00-WIB appointment (not 11.00 WIT) and cuts today at Jakarta's
midnight, the attendance answer and the calendar feed say WIB and Asia/Jakarta, a family's
quick exit is reported at Jakarta's time, `lk3 booking slots --office` lists its times in
WIB and `lk3 booking schedule` cuts its counsellor's day at Jakarta's midnight; the
default office is unchanged."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from booking_support import T0, wit
from bot_support import Bot
from support import Clock, RecordingChannel

from bot.app import App
from bot.booking import admin
from bot.booking.ical import ICAL_ROUTE, ical_endpoint
from bot.cli import main
from bot.config import BookingSettings, load_config
from bot.web import WebServer
from flows.days import format_day

JAKARTA = ZoneInfo("Asia/Jakarta")
WIB_OFFICE = """
[office]
name = "LK3 Kota Ambon"

[offices.jkt]
name = "LK3 Jakarta"
timezone = "Asia/Jakarta"
hours = "Senin–Jumat, 08.00–15.00 WIB"
"""


@asynccontextmanager
async def running(tmp_path: Path, clock: Clock) -> AsyncIterator[Bot]:
    path = tmp_path / "lk3.toml"
    path.write_text(WIB_OFFICE, encoding="utf-8")
    config = dataclasses.replace(
        load_config(path, env={}),
        data_dir=tmp_path / "data",
        booking=BookingSettings(urgent_share=0.0, lead_hours=2),
    )
    channel = RecordingChannel()
    app = await App.open(config, [channel], clock=clock, env={})
    await app.start()
    try:
        yield Bot(app, channel)
    finally:
        await app.stop()


async def two_counsellors(bot: Bot) -> dict[str, int]:
    """Sari in Ambon (WIT), Budi in Jakarta (WIB): 09.00-12.00 on weekdays, own time."""
    jkt = await bot.app.store.offices.by_code("jkt")
    assert jkt is not None
    ids = {}
    for username, office_id in (("sari", 1), ("budi", jkt.id)):
        member = await bot.app.store.staff.add(
            username, username.title(), ["counsellor"], T0, office_id=office_id
        )
        for day in range(5):
            await bot.app.store.bookings.add_hours(member.id, day, 9 * 60, 12 * 60, ("kantor",), T0)
        ids[username] = member.id
    return ids


async def book_first_time(bot: Bot, address: str, link: str) -> str:
    """The family books the first time offered on Monday 7 December; its booking code."""
    await bot.send(address, link, kind="start")
    for value in ("agree", "book", "kantor", "2026-12-07"):
        await bot.send(address, value, kind="choice")
    first = bot.channel.sent[-1].options[0][0]
    await bot.send(address, first, kind="choice")
    await bot.send(address, "ya")
    contact = await bot.app.store.contacts.find("test", address)
    assert contact is not None
    (booking,) = await bot.app.store.bookings.for_contact(contact.id)
    return booking.code


async def linked(bot: Bot, staff_id: int, chat: str, clock: Clock) -> None:
    code = await bot.app.store.staff.issue_link_code(staff_id, clock.now)
    await bot.send(chat, f"/link {code}")


async def test_jadwal_and_attendance_are_in_the_counsellors_own_office_time(
    tmp_path: Path,
) -> None:
    clock = Clock(T0)
    async with running(tmp_path, clock) as bot:
        ids = await two_counsellors(bot)
        jakarta = await book_first_time(bot, "ibu-jkt", "jkt")  # 09.00 WIB = 02:00Z
        ambon = await book_first_time(bot, "ibu-ambon", "")  # 09.00 WIT = 00:00Z
        await linked(bot, ids["budi"], "chat-budi", clock)
        await linked(bot, ids["sari"], "chat-sari", clock)
        # Monday 01.00 WIT is still Sunday 23.00 in Jakarta: Budi's today is Sunday.
        clock.now = wit(7, 1)
        await bot.send("chat-budi", "/jadwal")
        assert bot.channel.texts_to("chat-budi")[-1] == (
            "Hari ini, Minggu, 6 Desember:\n• tidak ada janji\n\n"
            f"Besok, Senin, 7 Desember:\n• 09.00–10.00 WIB  {jakarta}  kantor"
        )
        await bot.send("chat-sari", "/jadwal")
        assert bot.channel.texts_to("chat-sari")[-1] == (
            f"Hari ini, Senin, 7 Desember:\n• 09.00–10.00 WIT  {ambon}  kantor\n\n"
            "Besok, Selasa, 8 Desember:\n• tidak ada janji"
        )
        # A no-show before its time is refused, naming the time as Budi's office says it.
        await bot.send("chat-budi", f"/tidakhadir {jakarta}")
        refusal = bot.channel.texts_to("chat-budi")[-1]
        assert "Senin, 7 Desember, pukul 09.00 WIB" in refusal and "WIT" not in refusal


async def test_another_offices_booking_is_a_code_never_given_to_staff_here(
    tmp_path: Path,
) -> None:
    """A supervisor marks the attendance of their own office's bookings only: to anyone
    in another office a booking code there is unknown, marked by nobody (as another
    office's case is "not found" in the console)."""
    clock = Clock(T0)
    async with running(tmp_path, clock) as bot:
        ids = await two_counsellors(bot)
        jakarta = await book_first_time(bot, "ibu-jkt", "jkt")
        ambon = await book_first_time(bot, "ibu-ambon", "")
        store = bot.app.store
        rina = await store.staff.add("rina", "Rina", ["supervisor"], T0, office_id=1)
        await linked(bot, rina.id, "chat-rina", clock)
        await linked(bot, ids["sari"], "chat-sari", clock)
        clock.now = wit(7, 12)  # both appointments are over
        unknown = "Tidak ada janji dengan kode itu. Ketik /jadwal untuk melihat janji Anda."
        for chat in ("chat-rina", "chat-sari"):
            await bot.send(chat, f"/hadir {jakarta}")
            assert bot.channel.texts_to(chat)[-1] == unknown
        before = await store.bookings.by_code(jakarta)
        assert before is not None and before.status == "confirmed"  # not marked
        await bot.send("chat-rina", f"/hadir {ambon}")  # her own office's: marked
        assert bot.channel.texts_to("chat-rina")[-1].startswith(f"Janji {ambon} dicatat")
        marked = await store.bookings.by_code(ambon)
        assert marked is not None and marked.status != "confirmed"


async def test_the_calendar_feed_names_the_counsellors_office_time_zone(tmp_path: Path) -> None:
    clock = Clock(T0)
    async with running(tmp_path, clock) as bot:
        await two_counsellors(bot)
        jakarta = await book_first_time(bot, "ibu-jkt", "jkt")
        server = WebServer("127.0.0.1", 0)
        feed = ical_endpoint(bot.app.store, config=bot.app.config, clock=clock)
        server.add_route(ICAL_ROUTE, feed, methods=["GET"])
        transport = httpx.ASGITransport(app=server.app())
        bodies = {}
        async with httpx.AsyncClient(transport=transport, base_url="http://lk3") as client:
            for username in ("budi", "sari"):
                url = await admin.feed_url(bot.app.store, username, public_url="", now=clock.now)
                bodies[username] = (await client.get(url)).text
        assert "X-WR-TIMEZONE:Asia/Jakarta" in bodies["budi"]
        assert f"SUMMARY:Konsultasi {jakarta} (kantor)" in bodies["budi"]
        assert "DTSTART:20261207T020000Z" in bodies["budi"]  # 09.00 WIB
        assert "X-WR-TIMEZONE:Asia/Jayapura" in bodies["sari"]


def test_lk3_booking_slots_lists_an_offices_times_in_its_own_zone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "lk3.toml"
    config.write_text(f'data_dir = "{tmp_path / "data"}"\n{WIB_OFFICE}', encoding="utf-8")
    args = ["--config", str(config)]
    week = "senin,selasa,rabu,kamis,jumat"
    assert main(["office", "add", "jkt", "LK3 Jakarta", *args]) == 0
    for username, office in (("sari", "utama"), ("budi", "jkt")):
        who = [username, "--name", username.title(), "--role", "counsellor", "--office", office]
        assert main(["staff", "add", *who, *args]) == 0
        hours = ["--day", week, "--from", "09:00", "--to", "12:00", "--modes", "kantor"]
        assert main(["booking", "hours", username, *hours, *args]) == 0
    capsys.readouterr()
    assert main(["booking", "slots", "--office", "jkt", *args]) == 0
    # Hours 09.00-12.00 in each office's own time: slots start at 09.00, 10.00 or 11.00
    # there (which of them are held back for urgent cases depends on the real clock this
    # command reads: a day's first hour is released close to it).
    starts = ("pukul 09.00", "pukul 10.00", "pukul 11.00")
    wib = [line for line in capsys.readouterr().out.splitlines() if line.startswith("  ")]
    assert wib and all(line.endswith(tuple(f"{t} WIB" for t in starts)) for line in wib)
    assert main(["booking", "slots", *args]) == 0
    wit = [line for line in capsys.readouterr().out.splitlines() if line.startswith("  ")]
    assert wit and all(line.endswith(tuple(f"{t} WIT" for t in starts)) for line in wit)
    assert main(["booking", "slots", "--office", "bandung", *args]) == 1
    # `lk3 booking schedule budi`: today is Jakarta's today, cut at Jakarta's midnight.
    capsys.readouterr()
    before = datetime.now(JAKARTA).date()
    assert main(["booking", "schedule", "budi", *args]) == 0
    after = datetime.now(JAKARTA).date()
    head = capsys.readouterr().out.splitlines()[0]
    assert head in {f"Hari ini, {format_day(day, 'id')}:" for day in (before, after)}


async def test_a_family_who_left_is_reported_at_its_offices_time(tmp_path: Path) -> None:
    clock = Clock(T0)  # Friday 09.00 WIT, 07.00 in Jakarta
    async with running(tmp_path, clock) as bot:
        ids = await two_counsellors(bot)
        for username, chat, family, link in (
            ("budi", "chat-budi", "ibu-jkt", "jkt"),
            ("sari", "chat-sari", "ibu-ambon", ""),
        ):
            await linked(bot, ids[username], chat, clock)
            await bot.send(family, link, kind="start")
            await bot.send(family, "aku pengen mati aja")
            contact = await bot.app.store.contacts.find("test", family)
            assert contact is not None
            case = await bot.app.store.handoff.live_for(contact.id)
            assert case is not None
            await bot.send(chat, f"/ambil {case.code}")
            await bot.send(family, "keluar")
            await bot.app.wait_idle()
        budi = bot.channel.texts_to("chat-budi")[-1]
        sari = bot.channel.texts_to("chat-sari")[-1]
        assert "menekan *keluar* (keluar cepat) pukul 07.00" in budi
        assert "menekan *keluar* (keluar cepat) pukul 09.00" in sari
