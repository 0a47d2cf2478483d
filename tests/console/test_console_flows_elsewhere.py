"""Flows published by another process: the console shows them at once, and each running
process follows an office's publish for that office alone.

`store` and `other` are two connections to one database (one SQLite file, or with
`--db postgres` one PostgreSQL database), each with its own `FlowShelves`: B serves the
console, A stands for the process (or `lk3` command) where the admin published.
"""

from __future__ import annotations

import pytest
from console_support import add_staff, client, login, make_console
from support import Clock
from test_console_flows import THANKS
from test_console_office_flows import open_shelves

from bot.config import Config
from bot.console.core import Console
from bot.console.office import Office
from bot.core.texts import BotTexts
from bot.flowhost.shelves import CATCH_UP, FlowShelves
from bot.handoff.service import Handoff
from flows.library import FlowLibrary
from storage.store import Store

FAQ_OLD = "Kantor kami buka"


def console_of(store: Store, clock: Clock, shelves: FlowShelves) -> Console:
    config = Config()
    texts = BotTexts.load(languages=config.languages)
    handoff = Handoff(store, texts, config, shelves.default.library, clock)
    office = Office(config, texts, handoff, shelves.default, shelves=shelves)
    return make_console(store, clock, office=office)


async def test_the_flows_pages_show_what_another_process_published_at_once(
    store: Store, other: Store, clock: Clock
) -> None:
    """No waiting for the next look: an admin never reviews or edits on top of a version
    that is no longer current."""
    b = await open_shelves(store, clock)
    a = await open_shelves(other, clock)
    console = console_of(store, clock, b)
    admin, secret = await add_staff(console, "nona", ("admin",))
    welcome = a.default.source("welcome").replace(THANKS, "Danke vom Prozess A.")
    version, _ = await a.default.publish("welcome", welcome)
    faq = a.default.file_source("faq").replace(FAQ_OLD, "Kantor A buka")
    await a.default.publish_file("faq", faq)
    async with client(console) as http:
        await login(http, "nona", secret, clock)
        page = (await http.get("/console/flows/welcome")).text
        assert "Danke vom Prozess A." in page and version in page
        assert "Kantor A buka" in (await http.get("/console/library/faq")).text
    assert b.default.library.current_version("welcome") == version


async def test_an_offices_publish_reloads_that_offices_shelf_alone(
    store: Store, other: Store, clock: Clock
) -> None:
    ambon = await store.offices.add("ambon", "LK3 Kota Ambon", clock())
    b = await open_shelves(store, clock)
    a = await open_shelves(other, clock)
    told: list[FlowLibrary] = []
    b.default.listen(told.append)
    utama_library = b.default.library
    draft = a.for_office(ambon.id).source("welcome").replace(THANKS, "Salam dari Ambon.")
    version, _ = await a.for_office(ambon.id).publish("welcome", draft)

    await b.catch_up()  # looked at the start: not again within the interval
    assert b.for_office(ambon.id).library.current_version("welcome") != version
    clock.advance(CATCH_UP.total_seconds())
    await b.catch_up()
    assert b.for_office(ambon.id).library.current_version("welcome") == version
    assert "Salam dari Ambon." in b.for_office(ambon.id).source("welcome")
    assert b.default.library is utama_library and told == []


async def test_the_default_offices_listeners_are_told_as_after_a_local_publish(
    store: Store, other: Store, clock: Clock
) -> None:
    """The pipeline and the hand-off hold the default shelf's library by its listeners."""
    b = await open_shelves(store, clock)
    a = await open_shelves(other, clock)
    told: list[FlowLibrary] = []
    b.default.listen(told.append)
    bundled = a.default.library.current_version("welcome")
    edited, _ = await a.default.publish(
        "welcome", a.default.source("welcome").replace(THANKS, "Danke.")
    )
    clock.advance(CATCH_UP.total_seconds())
    await b.catch_up()
    assert [library.current_version("welcome") for library in told] == [edited]
    await a.default.make_current("welcome", bundled)  # a rollback in A
    clock.advance(CATCH_UP.total_seconds())
    await b.catch_up()
    assert [library.current_version("welcome") for library in told] == [edited, bundled]
    assert told[-1].has_flow("welcome", edited)  # still held for conversations on it
    clock.advance(CATCH_UP.total_seconds())
    await b.catch_up()  # nothing moved: nothing reloaded
    assert len(told) == 2


async def test_flows_that_do_not_load_here_are_logged_and_the_shelf_kept(
    store: Store, other: Store, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    """A process running older code than the one that published (an upgrade under way):
    the set does not load here; the shelf keeps what it had, says so once, and tries again
    only when the pointers move again."""
    b = await open_shelves(store, clock)
    before = b.default.library
    broken = b.default.source("welcome").replace('next = "consent_ask"', 'next = "nowhere"', 1)
    await other.flows.publish("welcome", "newer-code", broken, clock())
    await other.flow_current.set_current("welcome", "newer-code", clock())
    for _ in range(2):
        clock.advance(CATCH_UP.total_seconds())
        await b.catch_up()
    assert b.default.library is before
    assert [r.getMessage() for r in caplog.records if "do not load here" in r.getMessage()] == [
        "office 1: flows published elsewhere do not load here (1 problem(s)); keeping the ones"
        " before"
    ]
