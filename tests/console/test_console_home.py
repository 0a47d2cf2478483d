"""The home page: whoever answers cases sees at once how many emergencies wait, the longest
wait, a link to the queue and the cases they hold; nothing a family wrote."""

from __future__ import annotations

from contextlib import aclosing

from case_support import family_case
from console_support import signed_in
from support import Clock

from bot.console.core import Console

WORDS = "suami saya memukuli saya sekarang"


async def test_a_counsellor_sees_the_waiting_emergencies_and_the_longest_wait(
    console: Console, clock: Clock
) -> None:
    await family_case(console.store, clock, [WORDS], address="7001")
    clock.advance(25 * 60)
    await family_case(console.store, clock, [WORDS], address="7002")
    await family_case(console.store, clock, ["halo"], address="7003", urgency="biasa")
    clock.advance(5 * 60)
    sari, http = await signed_in(console, clock, "sari", ("counsellor",))
    async with aclosing(http):
        held = await family_case(console.store, clock, [WORDS], address="7004")
        await console.desk.handoff.take(sari, held.id)
        page = (await http.get("/console/")).text
    assert "2 kasus darurat menunggu" in page
    assert "terlama sudah 30 mnt" in page
    assert "Semua kasus yang menunggu: 3" in page
    assert 'href="/console/queue">Lihat semua kasus yang menunggu' in page
    assert f'href="/console/cases/{held.code}">Kasus {held.code}' in page
    assert WORDS not in page and "halo" not in page


async def test_with_no_emergency_waiting_the_page_says_so(console: Console, clock: Clock) -> None:
    _, http = await signed_in(console, clock, "budi", ("supervisor",))
    async with aclosing(http):
        http.cookies.set("lk3_lang", "en", domain="console.test", path="/console")
        page = (await http.get("/console/")).text
    assert "No emergency case is waiting." in page
    assert "All cases waiting: 0" in page


async def test_one_emergency_is_counted_in_the_singular_in_english(
    console: Console, clock: Clock
) -> None:
    await family_case(console.store, clock, [WORDS])
    _, http = await signed_in(console, clock, "sari", ("counsellor",))
    async with aclosing(http):
        http.cookies.set("lk3_lang", "en", domain="console.test", path="/console")
        page = (await http.get("/console/")).text
    assert "1 emergency case is waiting" in page


async def test_an_admin_who_answers_no_cases_sees_no_queue(console: Console, clock: Clock) -> None:
    await family_case(console.store, clock, [WORDS])
    _, http = await signed_in(console, clock, "ana", ("admin",))
    async with aclosing(http):
        page = (await http.get("/console/")).text
    assert "kasus darurat menunggu" not in page and "Antrean sekarang" not in page
