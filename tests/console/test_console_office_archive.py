"""An archived office: no new families, but its staff still sign in and read its cases,
and the province still counts it (marked archived)."""

from __future__ import annotations

from console_support import add_staff
from support import Clock
from test_console_offices import ambon, case_in, signed_in, staff_in

from bot.console.core import Console


async def test_an_archived_offices_staff_still_read_its_cases(
    console: Console, clock: Clock
) -> None:
    other = await ambon(console)
    await staff_in(console, other, "nona", ("supervisor",))
    case = await case_in(console, clock, other, "7301")
    await console.store.offices.archive(other.id, clock())
    async with signed_in(console, clock, "nona") as http:
        page = await http.get(f"/console/cases/{case.code}")
        assert page.status_code == 200 and case.code in page.text
        assert (await http.get("/console/queue")).status_code == 200


async def test_the_province_page_still_counts_an_archived_office(
    console: Console, clock: Clock
) -> None:
    other = await ambon(console)
    for n in range(5):
        await case_in(console, clock, other, f"74{n}")
    await console.store.offices.archive(other.id, clock())
    await add_staff(console, "dinsos", ("province_supervisor",))
    async with signed_in(console, clock, "dinsos") as http:
        page = (await http.get("/console/province")).text
    assert "(ambon, diarsipkan)" in page
