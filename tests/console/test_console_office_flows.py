"""Each office its own flows: an office's admin publishes for their office's families only,
and each office keeps what it published across a restart."""

from __future__ import annotations

from console_support import add_staff, client, login, make_console
from support import Clock
from test_console_flows import THANKS, send

from bot.config import Config
from bot.console.office import Office
from bot.core.texts import BotTexts
from bot.flowhost.shelves import CATCH_UP, FlowShelves
from bot.handoff.service import Handoff
from flows.loader import bundled_library_dir, load_library
from storage.store import Store


async def open_shelves(store: Store, clock: Clock) -> FlowShelves:
    config = Config()
    library = load_library(bundled_library_dir(), languages=config.languages)
    return await FlowShelves.open(
        store, library, base_dir=bundled_library_dir(), languages=config.languages, clock=clock
    )


async def test_an_offices_admin_publishes_for_that_office_alone(store: Store, clock: Clock) -> None:
    ambon = await store.offices.add("ambon", "LK3 Kota Ambon", clock())
    shelves = await open_shelves(store, clock)
    assert shelves.several and shelves.has(ambon.id)
    config = Config()
    texts = BotTexts.load(languages=config.languages)
    handoff = Handoff(store, texts, config, shelves.default.library, clock)
    office = Office(config, texts, handoff, shelves.default, shelves=shelves)
    console = make_console(store, clock, office=office)
    nona, secret = await add_staff(console, "nona", ("admin",))
    await store.offices.assign_staff(nona, ambon.id)
    folder_version = shelves.default.library.current_version("welcome")
    draft = shelves.for_office(ambon.id).source("welcome").replace(THANKS, "Danke, Ambon.")
    async with client(console) as http:
        await login(http, "nona", secret, clock)
        assert (await send(http, "publish", draft)).status_code == 200
    ambon_version = shelves.for_office(ambon.id).library.current_version("welcome")
    assert ambon_version != folder_version
    assert shelves.default.library.current_version("welcome") == folder_version
    assert await store.flow_current.current() != await store.flow_current.current(
        office_id=ambon.id
    )
    # A restart: each office keeps its own.
    again = await open_shelves(store, clock)
    assert again.for_office(ambon.id).library.current_version("welcome") == ambon_version
    assert again.default.library.current_version("welcome") == folder_version


async def test_an_office_added_while_the_bot_runs_gets_its_flows_page_at_once(
    store: Store, other: Store, clock: Clock
) -> None:
    """`lk3 office add` from another shell (or another process on the same database):
    another connection adds the office; its admin's first visit opens its shelf, and a
    publish there is that office's alone."""
    shelves = await open_shelves(store, clock)
    assert not shelves.several
    later = await other.offices.add("tual", "LK3 Kota Tual", clock())
    config = Config()
    texts = BotTexts.load(languages=config.languages)
    handoff = Handoff(store, texts, config, shelves.default.library, clock)
    office = Office(config, texts, handoff, shelves.default, shelves=shelves)
    console = make_console(store, clock, office=office)
    admin, secret = await add_staff(console, "ana", ("admin",))
    await other.offices.assign_staff(admin, later.id)
    folder_version = shelves.default.library.current_version("welcome")
    async with client(console) as http:
        await login(http, "ana", secret, clock)
        assert (await http.get("/console/flows")).status_code == 200
        assert shelves.has(later.id) and shelves.several
        draft = shelves.for_office(later.id).source("welcome").replace(THANKS, "Salam, Tual.")
        assert (await send(http, "publish", draft)).status_code == 200
    assert shelves.for_office(later.id).library.current_version("welcome") != folder_version
    assert shelves.default.library.current_version("welcome") == folder_version


async def test_a_running_bot_looks_for_new_offices_now_and_then_never_every_turn(
    store: Store, other: Store, clock: Clock
) -> None:
    shelves = await open_shelves(store, clock)
    later = await other.offices.add("tual", "LK3 Kota Tual", clock())
    await shelves.catch_up()  # looked at the start: not again so soon
    assert not shelves.several
    clock.advance(CATCH_UP.total_seconds())
    await shelves.catch_up()
    assert shelves.several and shelves.has(later.id)
    assert await shelves.ensure(999) is None  # no office has that id
