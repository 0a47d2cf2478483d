"""Each office its own globals.toml and faq.toml: an office's admin publishes the FAQ for
their office's families alone; what each office published survives a restart, and an
upgrade of the folder's file reaches every office (as a flow's does)."""

from __future__ import annotations

import re

import httpx
from case_support import TRIAGE_VARS
from console_support import add_staff, client, csrf_of, login, make_console
from support import Clock
from test_console_office_flows import open_shelves
from test_console_offices import case_in, signed_in, staff_in

from bot.config import Config
from bot.console.office import Office
from bot.core.texts import BotTexts
from bot.flowhost.shelves import FlowShelves
from bot.handoff.service import Handoff
from flows.errors import FlowSetError
from storage.store import Store

OPEN = "Kantor kami buka {office_hours}."
TUAL = "Kantor Tual buka {office_hours}, juga lewat telepon."
SEAL = re.compile(r'name="checked" value="([^"]+)"')


def hours_answer(shelves: FlowShelves, office_id: int) -> str:
    topic = next(t for t in shelves.library_for(office_id).faq.topics if t.id == "hours")
    return topic.answer.get("id")


async def console_for(store: Store, clock: Clock, shelves: FlowShelves) -> Office:
    config = Config()
    texts = BotTexts.load(languages=config.languages)
    handoff = Handoff(store, texts, config, shelves.default.library, clock)
    return Office(config, texts, handoff, shelves.default, shelves=shelves)


async def post(http: httpx.AsyncClient, action: str, source: str, seal: str = "") -> httpx.Response:
    token = csrf_of((await http.get("/console/library/faq")).text)
    data = {"csrf": token, "source": source}
    if seal:
        data["checked"] = seal
    return await http.post(f"/console/library/faq/{action}", data=data)


async def test_an_offices_admin_publishes_the_faq_for_that_office_alone(
    store: Store, clock: Clock
) -> None:
    tual = await store.offices.add("tual", "LK3 Kota Tual", clock())
    shelves = await open_shelves(store, clock)
    console = make_console(store, clock, office=await console_for(store, clock, shelves))
    ana, secret = await add_staff(console, "ana", ("admin",))
    await store.offices.assign_staff(ana, tual.id)
    folder_faq = shelves.default.file_source("faq")
    draft = folder_faq.replace(OPEN, TUAL)
    assert draft != folder_faq
    async with client(console) as http:
        await login(http, "ana", secret, clock)
        listing = await http.get("/console/flows")
        assert 'href="/console/library/faq"' in listing.text
        assert 'href="/console/library/globals"' in listing.text
        # Not checked: refused, nothing stored.
        assert (await post(http, "publish", draft)).status_code == 409
        broken = await post(http, "check", folder_faq.replace("[[topics]]", "[[topics", 1))
        assert broken.status_code == 400 and "faq.toml" in broken.text
        checked = await post(http, "check", draft)
        assert checked.status_code == 200
        found = SEAL.search(checked.text)
        assert found is not None
        published = await post(http, "publish", draft, found.group(1))
        assert published.status_code == 200
        assert (await http.get("/console/library/nothing")).status_code == 404
    assert hours_answer(shelves, tual.id).startswith("Kantor Tual buka")
    assert hours_answer(shelves, 1).startswith("Kantor kami buka")
    rows = [r for r in await store.audit.rows() if r.action == "library_published"]
    assert [r.subject for r in rows] == ["file:faq.toml"]
    # A restart: each office keeps its own FAQ, and the flows still load beside it.
    again = await open_shelves(store, clock)
    assert hours_answer(again, tual.id).startswith("Kantor Tual buka")
    assert hours_answer(again, 1).startswith("Kantor kami buka")


async def test_a_library_file_that_breaks_the_set_is_never_published(
    store: Store, clock: Clock
) -> None:
    shelves = await open_shelves(store, clock)
    shelf = shelves.default
    before = shelf.file_source("globals")
    broken = before.replace('goto = "welcome.menu"', 'goto = "welcome.nowhere"', 1)
    try:
        await shelf.publish_file("globals", broken)
    except FlowSetError as exc:
        assert any("nowhere" in p.message for p in exc.problems)
    else:
        raise AssertionError("a broken globals.toml was published")
    assert shelf.file_source("globals") == before
    _, changed = await shelf.publish_file("globals", before)
    assert not changed


async def test_a_cases_triage_summary_is_worded_by_its_offices_flows(
    store: Store, clock: Clock
) -> None:
    tual = await store.offices.add("tual", "LK3 Kota Tual", clock())
    shelves = await open_shelves(store, clock)
    triage = shelves.for_office(tual.id).source("triage")
    assert 'label.id = "Pasangan saya"' in triage
    await shelves.for_office(tual.id).publish(
        "triage", triage.replace('label.id = "Pasangan saya"', 'label.id = "Suami atau istri"')
    )
    console = make_console(store, clock, office=await console_for(store, clock, shelves))
    await staff_in(console, tual, "nona", ("supervisor",))
    partner = (*(v for v in TRIAGE_VARS if v[0] != "who"), ("who", "partner"))
    case = await case_in(console, clock, tual, "7101", variables=partner)
    async with signed_in(console, clock, "nona") as http:
        page = await http.get(f"/console/cases/{case.code}")
    assert page.status_code == 200
    assert "Suami atau istri" in page.text and "Pasangan saya" not in page.text
