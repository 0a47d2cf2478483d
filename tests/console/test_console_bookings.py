"""Bookings pages: a counsellor sees and marks their own appointments (codes, modes and
times only); supervisors and admins see everyone's and keep hours and closures."""

from __future__ import annotations

from datetime import datetime, timedelta

import httpx
from console_support import T0, add_staff, client, csrf_of, login
from support import Clock

from bot.console.core import Console
from storage.booking.records import ConfirmHold, HoldSlot
from storage.records import NewInbound, TurnWrite
from storage.store import Store

TUESDAY_10 = datetime(2026, 3, 3, 1, 0, tzinfo=T0.tzinfo)  # 10.00 WIT, the office's zone
HOUR = timedelta(hours=1)


async def confirmed(store: Store, staff_id: int, n: int, starts: datetime) -> tuple[int, str]:
    """A family with a confirmed appointment, made the way the pipeline makes one."""
    contact, _ = await store.turns.receive(
        "test", f"chat-{n}", NewInbound("test", f"a{n}", "text", "x", T0)
    )
    await store.bookings.hold(
        contact.id,
        HoldSlot(
            "telepon", starts, starts + HOUR, "biasa", (staff_id,), T0 + timedelta(minutes=10)
        ),
        T0,
    )
    _, inbox_id = await store.turns.receive(
        "test", f"chat-{n}", NewInbound("test", f"b{n}", "text", "y", T0)
    )
    assert inbox_id is not None
    await store.turns.commit_turn(
        TurnWrite(inbox_id, contact.id, '{"node": "start"}', (), T0, booking=ConfirmHold(starts))
    )
    booking = (await store.bookings.for_contact(contact.id))[0]
    return contact.id, booking.code


async def follow_ups(store: Store, contact_id: int) -> int:
    return len(
        [r for r in await store.outbox.due(T0 + timedelta(days=60)) if r.contact_id == contact_id]
    )


async def test_a_counsellor_sees_their_own_day_and_week_by_code_mode_and_time(
    console: Console, clock: Clock
) -> None:
    sari, _ = await add_staff(console, "sari", ("counsellor",))
    budi, _ = await add_staff(console, "budi", ("counsellor",))
    _, mine = await confirmed(console.store, sari, 1, TUESDAY_10)
    _, theirs = await confirmed(console.store, budi, 2, TUESDAY_10 + 2 * HOUR)
    await console.store.bookings.add_closure(
        TUESDAY_10.date() + timedelta(days=2), "Rapat <b>dinas</b>", T0
    )
    async with client(console) as http:
        await login(http, "sari", None, clock)
        day = await http.get("/console/bookings?day=2026-03-03")
        assert day.status_code == 200
        assert mine in day.text and "10:00-11:00" in day.text and "Telepon" in day.text
        assert theirs not in day.text
        week = await http.get("/console/bookings?day=2026-03-04&view=week")
        assert mine in week.text and week.text.count('class="day"') == 7
        assert "Rapat &lt;b&gt;dinas&lt;/b&gt;" in week.text and "<b>dinas" not in week.text
        other = await http.get(f"/console/bookings?staff={budi}")
        assert other.status_code == 403
        odd = await http.get("/console/bookings?day=<script>")
        assert odd.status_code == 200 and "Tanggal tidak dikenal" in odd.text
        assert "<script>" not in odd.text


async def test_a_supervisor_picks_any_counsellor(console: Console, clock: Clock) -> None:
    await add_staff(console, "sari", ("counsellor",))
    budi, _ = await add_staff(console, "budi", ("counsellor",))
    _, theirs = await confirmed(console.store, budi, 2, TUESDAY_10)
    _, secret = await add_staff(console, "susi", ("supervisor",))
    async with client(console) as http:
        await login(http, "susi", secret, clock)
        page = await http.get(f"/console/bookings?staff={budi}&day=2026-03-03")
        assert page.status_code == 200 and theirs in page.text and "Budi" in page.text


async def test_a_no_show_sends_one_follow_up_however_often_it_is_marked(
    console: Console, clock: Clock
) -> None:
    sari, _ = await add_staff(console, "sari", ("counsellor",))
    contact, code = await confirmed(console.store, sari, 1, TUESDAY_10)
    before = await follow_ups(console.store, contact)
    clock.advance((TUESDAY_10 - clock()).total_seconds())  # the appointment's time came
    async with client(console) as http:
        await login(http, "sari", None, clock)
        page = "/console/bookings?day=2026-03-03"
        for outcome, status, pending in [
            ("no_show", "Tidak hadir", before + 1),
            ("no_show", "Tidak hadir", before + 1),  # a second press sends nothing more
            ("attended", "Hadir", before),  # corrected: the follow-up is not sent
            ("no_show", "Tidak hadir", before),  # and never a second one
        ]:
            token = csrf_of((await http.get(page)).text)
            form = {"csrf": token, "outcome": outcome, "confirm": "yes"}
            done = await http.post(f"/console/bookings/{code}/mark", data=form)
            assert done.status_code == 200 and f"Janji {code} dicatat: {status}." in done.text
            assert await follow_ups(console.store, contact) == pending
    booking = await console.store.bookings.by_code(code)
    assert booking is not None and booking.status == "no_show"


async def test_a_counsellor_cannot_mark_someone_elses_appointment(
    console: Console, clock: Clock
) -> None:
    await add_staff(console, "sari", ("counsellor",))
    budi, _ = await add_staff(console, "budi", ("counsellor",))
    _, theirs = await confirmed(console.store, budi, 2, TUESDAY_10)
    async with client(console) as http:
        await login(http, "sari", None, clock)
        token = csrf_of((await http.get("/console/bookings")).text)
        refused = await http.post(
            f"/console/bookings/{theirs}/mark", data={"csrf": token, "outcome": "no_show"}
        )
        assert refused.status_code == 403
        unknown = await http.post(
            "/console/bookings/<b>X/mark", data={"csrf": token, "outcome": "no_show"}
        )
        assert unknown.status_code in (400, 404) and "<b>X" not in unknown.text
        no_token = await http.post(f"/console/bookings/{theirs}/mark", data={"outcome": "attended"})
        assert no_token.status_code == 403
    booking = await console.store.bookings.by_code(theirs)
    assert booking is not None and booking.status == "confirmed"


async def test_a_supervisor_keeps_weekly_hours_and_closures(console: Console, clock: Clock) -> None:
    sari, _ = await add_staff(console, "sari", ("counsellor",))
    _, secret = await add_staff(console, "susi", ("supervisor",))
    page = "/console/availability"
    async with client(console) as http:
        await login(http, "susi", secret, clock)

        async def send(path: str, fields: dict[str, str | list[str]]) -> httpx.Response:
            token = csrf_of((await http.get(page)).text)
            return await http.post(path, data={"csrf": token, **fields})

        hours: dict[str, str | list[str]] = {
            "staff_id": str(sari),
            "weekday": "1",
            "start": "09:00",
            "end": "12:00",
            "mode": ["kantor", "telepon"],
        }
        added = await send("/console/availability/hours", hours)
        assert added.status_code == 200 and "Jam layanan disimpan" in added.text
        [block] = await console.store.bookings.hours(sari)
        assert (block.weekday, block.start_minute, block.end_minute) == (1, 540, 720)
        assert block.modes == frozenset({"kantor", "telepon"})
        for changes in (
            {"start": "12:00", "end": "09:00"},  # ends before it starts
            {"start": "<script>"},  # not a time
            {"weekday": "9"},  # not a day
            {"mode": []},  # no mode
            {"staff_id": "999"},  # nobody
            {"start": "11:00", "end": "13:00", "weekday": "1"},  # overlaps
        ):
            bad: dict[str, str | list[str]] = {**hours, **changes}
            refused = await send("/console/availability/hours", bad)
            assert refused.status_code == 400 and "Tidak bisa disimpan" in refused.text
            assert "<script>" not in refused.text
        for odd in ("%C2%B9", "%D9%A3", "-1"):  # '¹' and '٣' pass str.isdigit(): no 500
            unknown = await send(f"/console/availability/hours/{odd}/remove", {})
            assert unknown.status_code == 400
        removed = await send(f"/console/availability/hours/{block.id}/remove", {})
        assert removed.status_code == 200 and await console.store.bookings.hours(sari) == []
        closed = await send(
            "/console/availability/closures",
            {"day": "2026-03-20", "reason": "<script>x</script> Nyepi"},
        )
        assert closed.status_code == 200 and "&lt;script&gt;x&lt;/script&gt; Nyepi" in closed.text
        twice = await send(
            "/console/availability/closures", {"day": "2026-03-20", "reason": "lagi"}
        )
        assert twice.status_code == 400 and "sudah dijadwalkan tutup" in twice.text
        opened = await send("/console/availability/closures/2026-03-20/remove", {})
        assert opened.status_code == 200 and await console.store.bookings.closures() == []
        again = await send("/console/availability/closures/2026-03-20/remove", {})
        assert again.status_code == 400


async def test_a_supervisor_keeps_the_on_call_roster_that_decides_who_is_alerted(
    console: Console, clock: Clock
) -> None:
    sari, _ = await add_staff(console, "sari", ("counsellor",))
    _, secret = await add_staff(console, "susi", ("supervisor",))
    page = "/console/availability"
    async with client(console) as http:
        await login(http, "susi", secret, clock)

        async def send(path: str, fields: dict[str, str]) -> httpx.Response:
            token = csrf_of((await http.get(page)).text)
            return await http.post(path, data={"csrf": token, **fields})

        assert "Belum ada jadwal piket" in (await http.get(page)).text
        night = {"staff_id": str(sari), "weekday": "4", "start": "22:00", "end": "06:00"}
        added = await send("/console/availability/roster", night)
        assert added.status_code == 200 and "Jadwal piket disimpan" in added.text
        [shift] = await console.store.roster.shifts()
        assert (shift.staff_id, shift.day, shift.start_minute, shift.end_minute) == (
            sari,
            4,
            22 * 60,
            6 * 60,
        )
        # Through midnight: on duty late on Friday and early on Saturday.
        assert await console.store.roster.on_duty(4, 23 * 60) == {sari}
        assert await console.store.roster.on_duty(5, 5 * 60) == {sari}
        for changes in (
            {"start": "<script>"},  # not a time
            {"start": "24:00"},  # not a start
            {"start": "09:00", "end": "09:00"},  # empty
            {"weekday": "7"},  # not a day
            {"staff_id": "999"},  # nobody
        ):
            refused = await send("/console/availability/roster", {**night, **changes})
            assert refused.status_code == 400 and "Tidak bisa disimpan" in refused.text
            assert "<script>" not in refused.text
        assert len(await console.store.roster.shifts()) == 1
        removed = await send(f"/console/availability/roster/{shift.id}/remove", {})
        assert removed.status_code == 200 and await console.store.roster.shifts() == []
        again = await send(f"/console/availability/roster/{shift.id}/remove", {})
        assert again.status_code == 400
    actions = [row.action for row in await console.store.audit.rows()]
    assert actions.count("roster_added") == 1 and actions.count("roster_removed") == 1


async def test_the_availability_page_is_titled_in_words_and_shows_the_roster_once(
    console: Console, clock: Clock
) -> None:
    _, secret = await add_staff(console, "susi", ("supervisor",))
    async with client(console) as http:
        await login(http, "susi", secret, clock)
        html = (await http.get("/console/availability")).text
    title = html.split("<title>", 1)[1].split("</title>", 1)[0]
    assert "<" not in title and "Belum ada jadwal piket" not in title
    assert html.count('id="roster"') == 1
