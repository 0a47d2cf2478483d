"""Two offices on one console: each sees only its own cases, queue, bookings, staff, figures.

Another office's case is, to a counsellor or supervisor, a code that does not
exist: every page answers 404 exactly as for a code never given (never a 403
that would confirm it), and no list, stream or count includes it. A province
supervisor sees counts per office, small ones as "<5", and no case at all.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

import httpx
import pytest
from case_support import family_case
from console_support import add_staff, client, csrf_of, login, post
from media_support import family_media
from support import Clock
from support.media import ogg_opus

from bot.console.core import Console
from bot.console.office import Office
from storage.handoff.records import LiveCase
from storage.offices.repo import Office as OfficeRow
from storage.records import NewInbound


async def ambon(console: Console) -> OfficeRow:
    return await console.store.offices.add("ambon", "LK3 Kota Ambon", console.clock())


async def staff_in(
    console: Console, office: OfficeRow, username: str, roles: tuple[str, ...]
) -> int:
    staff_id, _ = await add_staff(console, username, roles)
    await console.store.offices.assign_staff(staff_id, office.id)
    return staff_id


async def case_in(
    console: Console, clock: Clock, office: OfficeRow, address: str, **kwargs: str
) -> LiveCase:
    """A family routed to `office` (as a deep link would) whose case then opens there."""
    first = NewInbound("telegram", f"{address}-hello", "start", "/start ambon", clock())
    contact, _ = await console.store.turns.receive("telegram", address, first)
    await console.store.offices.route_contact(contact.id, office.id)
    case = await family_case(console.store, clock, address=address, **kwargs)
    assert case.office_id == office.id
    return case


@asynccontextmanager
async def signed_in(
    console: Console, clock: Clock, username: str
) -> AsyncIterator[httpx.AsyncClient]:
    async with client(console) as http:
        await login(http, username, None, clock)
        yield http


async def test_a_case_of_another_office_is_not_found_on_every_case_page(
    console: Console, clock: Clock
) -> None:
    other = await ambon(console)
    await add_staff(console, "sari", ("supervisor", "counsellor"))  # the default office
    theirs = await case_in(console, clock, other, "8001")
    await family_media(
        console.store, clock, theirs, "voice", "audio/ogg", ogg_opus(0.1), address="8001"
    )
    mine = await family_case(console.store, clock, address="7001")
    async with signed_in(console, clock, "sari") as http:
        assert (await http.get(f"/console/cases/{mine.code}")).status_code == 200
        for path in (
            f"/console/cases/{theirs.code}",
            f"/console/cases/{theirs.code}/events",
            f"/console/cases/{theirs.code}/media/1",
        ):
            response = await http.get(path)
            assert response.status_code == 404, path
        # Word for word the page of a code never given (the address is echoed in both).
        never = (await http.get("/console/cases/ZZZ999")).text
        found = (await http.get(f"/console/cases/{theirs.code}")).text
        assert found.replace(theirs.code, "ZZZ999") == never
        for action, form in (
            ("take", {}),
            ("reply", {"text": "halo"}),
            ("notes", {"text": "catatan"}),
            ("refer", {"service": "polisi"}),
            ("release", {}),
            ("close", {"outcome": "resolved"}),
            ("label", {"label": "urgent", "message": "1"}),
        ):
            response = await post(http, f"/console/cases/{theirs.code}/{action}", form)
            assert response.status_code == 404, action
    after = await console.store.handoff.get(theirs.id)
    assert after is not None and after.status == "open" and after.owner_staff_id is None


async def test_the_queue_home_and_alarm_show_only_the_readers_office(
    console: Console, clock: Clock
) -> None:
    other = await ambon(console)
    await add_staff(console, "sari", ("counsellor",))
    await staff_in(console, other, "nona", ("counsellor",))
    mine = await family_case(console.store, clock, address="7001")
    theirs = await case_in(console, clock, other, "8001")
    for reader, sees, hidden in (("sari", mine, theirs), ("nona", theirs, mine)):
        async with signed_in(console, clock, reader) as http:
            for path in ("/console/queue", "/console/queue/events", "/console/alarm/events"):
                text = (await http.get(path)).text
                assert sees.code in text, (reader, path)
                assert hidden.code not in text, (reader, path)
            home = (await http.get("/console/")).text
            assert hidden.code not in home


async def test_bookings_availability_and_users_are_the_offices_own(
    console: Console, clock: Clock
) -> None:
    other = await ambon(console)
    await add_staff(console, "sari", ("supervisor", "admin", "counsellor"))
    nona = await staff_in(console, other, "nonaambon", ("counsellor",))
    await console.store.bookings.add_hours(nona, 0, 9 * 60, 12 * 60, ("kantor",), clock())
    await console.store.bookings.add_closure(
        (clock() + timedelta(days=3)).date(), "Hari jadi Kota Ambon", clock(), office_id=other.id
    )
    await console.store.roster.add(nona, 0, 8 * 60, 16 * 60, clock())
    async with signed_in(console, clock, "sari") as http:
        for path in ("/console/bookings", "/console/availability", "/console/users"):
            text = (await http.get(path)).text
            assert "Nonaambon" not in text and "nonaambon" not in text, path
            assert "Hari jadi" not in text, path
        for path, form in (
            (f"/console/users/{nona}/roles", {"role": "admin"}),
            (f"/console/users/{nona}/active", {"active": "0"}),
            (f"/console/users/{nona}/password", {"password": "kata-sandi-baru-panjang"}),
            (f"/console/users/{nona}/link-code", {}),
        ):
            assert (await post(http, path, form)).status_code == 404, path
        # Hours, shifts and closures of another office cannot be removed from here.
        hours = await console.store.bookings.hours(nona)
        await post(http, f"/console/availability/hours/{hours[0].id}/remove", {})
        assert await console.store.bookings.hours(nona) == hours
        shifts = await console.store.roster.shifts(office_id=other.id)
        await post(http, f"/console/availability/roster/{shifts[0].id}/remove", {})
        assert await console.store.roster.shifts(office_id=other.id) == shifts
        day = (clock() + timedelta(days=3)).date().isoformat()
        await post(http, f"/console/availability/closures/{day}/remove", {})
        assert len(await console.store.bookings.closures(office_id=other.id)) == 1
        # A staff member added here works here; the province role is not taken from a form.
        token = csrf_of((await http.get("/console/users")).text)
        form = {
            "username": "budi",
            "display_name": "Budi",
            "password": "kata-sandi-yang-panjang",
            "role": ["counsellor", "province_supervisor"],
            "csrf": token,
        }
        assert (await http.post("/console/users", data=form)).status_code == 200
    budi = await console.store.staff.by_username("budi")
    assert budi is not None and budi.office_id == 1
    assert budi.roles == {"counsellor"}  # the province role: from the command line only


async def test_figures_count_the_readers_office_only(console: Console, clock: Clock) -> None:
    other = await ambon(console)
    await add_staff(console, "sari", ("supervisor",))
    for n in range(6):
        await case_in(console, clock, other, f"80{n}")
    async with signed_in(console, clock, "sari") as http:
        page = (await http.get("/console/figures")).text
        csv = (await http.get("/console/figures.csv")).text
    assert "cases_by_urgency,darurat,0" in csv
    assert ",6" not in csv
    assert "Darurat" in page


async def test_the_audit_log_shows_what_the_offices_own_staff_did(
    console: Console, clock: Clock
) -> None:
    other = await ambon(console)
    await add_staff(console, "sari", ("supervisor",))
    await staff_in(console, other, "nona", ("supervisor",))
    theirs = await case_in(console, clock, other, "8001")
    async with signed_in(console, clock, "nona") as http:
        assert (await http.get(f"/console/cases/{theirs.code}")).status_code == 200
    async with signed_in(console, clock, "sari") as http:
        audit = (await http.get("/console/audit")).text
    assert theirs.code not in audit


async def test_flows_are_edited_from_the_default_office_only(
    console: Console, clock: Clock
) -> None:
    other = await ambon(console)
    await staff_in(console, other, "nona", ("admin",))
    await add_staff(console, "sari", ("admin",))
    async with signed_in(console, clock, "nona") as http:
        assert (await http.get("/console/flows")).status_code == 403
    async with signed_in(console, clock, "sari") as http:
        assert (await http.get("/console/flows")).status_code == 200


@pytest.mark.parametrize("cases_in_ambon", [3, 7])
async def test_a_province_supervisor_sees_counts_per_office_and_no_case(
    console: Console, office: Office, clock: Clock, cases_in_ambon: int
) -> None:
    other = await ambon(console)
    await add_staff(console, "prov", ("province_supervisor",))
    codes = [(await case_in(console, clock, other, f"80{n}")).code for n in range(cases_in_ambon)]
    async with signed_in(console, clock, "prov") as http:
        page = await http.get("/console/province")
        assert page.status_code == 200
        assert "LK3 Kota Ambon" in page.text and "(ambon)" in page.text
        shown = "&lt;5" if cases_in_ambon < 5 else str(cases_in_ambon)
        assert f'<td class="num">{shown}</td>' in page.text
        for code in codes:
            assert code not in page.text
        assert (await http.get(f"/console/cases/{codes[0]}")).status_code == 403
        assert (await http.get("/console/queue")).status_code == 403
        assert 'href="/console/province"' in (await http.get("/console/")).text
