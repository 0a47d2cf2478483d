"""Two `lk3 run` processes on one PostgreSQL database: a counsellor whose console page is
served by process B sees at once what process A did (a case opened, a family's message),
told by the database (LISTEN/NOTIFY, bot.core.live), not found by polling: the
streams here poll once a minute, so only a notification can bring the change in time.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Iterator
from contextlib import aclosing

import asyncpg
import httpx
import pytest
from case_support import family_case
from console_support import FAST, add_staff, make_office
from support import Clock, pgserver
from support.pgserver import PgServer

from bot.console.app import build_console, mount_console
from bot.console.core import SESSION_COOKIE, Console
from bot.console.queue_feed import FeedSettings
from bot.web import WebServer
from storage.engine.pglive import APPLICATION_NAME
from storage.records import NewInbound
from storage.store import Store


@pytest.fixture(scope="module", autouse=True)
def postgres() -> Iterator[PgServer]:
    """The session's server (`--db postgres`), else one of this module's own: these tests
    need PostgreSQL, so they run in `make unit` too (skipped where it is not installed)."""
    with pgserver.session_or_own(active=True) as found:  # its stores open databases on it
        yield found


SLOW_POLL = FeedSettings(interval=60.0, backstop=60.0, heartbeat=600.0, lifetime=120.0)


@pytest.fixture
async def served(store: Store, clock: Clock) -> AsyncIterator[tuple[str, Console]]:
    """Process B: the console on its own store, served over HTTP."""
    office = await make_office(store, clock)
    console = build_console(store, clock=clock, settings=FAST, office=office, queue_feed=SLOW_POLL)
    web = WebServer("127.0.0.1", 0)
    mount_console(web, console)
    await web.start()
    try:
        yield f"http://127.0.0.1:{web.port}", console
    finally:
        await web.stop()
        await console.desk.live.close()


async def signed_in(console: Console, http: httpx.AsyncClient, role: str = "counsellor") -> None:
    """A session, started as the sign-in would (its steps are tested apart)."""
    staff_id, _ = await add_staff(console, "staf", (role,))
    session_id = secrets.token_urlsafe(32)
    await console.store.console.start_session(session_id, staff_id, "full")
    http.cookies.set(SESSION_COOKIE, session_id)


async def until_live(console: Console) -> None:
    async with asyncio.timeout(20):
        while not console.desk.live.live:
            await asyncio.sleep(0.02)


async def test_a_case_opened_by_process_a_reaches_the_queue_and_alarm_served_by_b(
    served: tuple[str, Console], other: Store, clock: Clock
) -> None:
    base, console = served
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        await signed_in(console, http)
        async with (
            http.stream("GET", "/console/alarm/events") as alarm,
            aclosing(alarm.aiter_lines()) as lines,
        ):
            assert alarm.status_code == 200
            async with asyncio.timeout(20):
                async for line in lines:  # the first (empty) alarm: the feed read once
                    if line.startswith("data: ["):
                        assert line == "data: []"
                        break
            await until_live(console)
            loop = asyncio.get_running_loop()
            started = loop.time()
            case = await family_case(other, clock)  # written by process A
            async with asyncio.timeout(20):  # polling alone would take 60 s
                async for line in lines:
                    if line.startswith("data: [") and case.code in line:
                        break
            waited = loop.time() - started
    assert waited < 20
    print(f"case opened by A on B's alarm after {waited * 1000:.0f} ms")


async def test_a_familys_message_taken_in_by_process_a_appears_on_bs_case_page(
    served: tuple[str, Console], other: Store, clock: Clock
) -> None:
    base, console = served
    case = await family_case(other, clock)
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        await signed_in(console, http, "supervisor")  # reads any case
        async with (
            http.stream("GET", f"/console/cases/{case.code}/events") as page,
            aclosing(page.aiter_lines()) as lines,
        ):
            assert page.status_code == 200
            async with asyncio.timeout(20):
                async for line in lines:
                    if line == "event: thread":
                        break
            await until_live(console)
            item = NewInbound("telegram", "7001-later", "text", "MASIH-DI-SINI", clock())
            await other.turns.receive("telegram", "7001", item)  # process A takes it in
            async with asyncio.timeout(20):
                async for line in lines:
                    if "MASIH-DI-SINI" in line:
                        break


async def test_after_the_listening_connection_drops_a_change_still_arrives(
    served: tuple[str, Console], other: Store, clock: Clock
) -> None:
    _, console = served
    feed = console.desk.feed
    async with feed.listen() as listener:
        assert await listener.next() is not None
        await until_live(console)
        listening = console.desk.live.listener
        assert listening is not None
        assert pgserver.ACTIVE is not None
        admin = await asyncpg.connect(pgserver.ACTIVE.database_for(other.path))
        try:
            await admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE application_name = $1",
                APPLICATION_NAME,
            )
            # A case opened while the listener may be down is read by the catch-up.
            case = await family_case(other, clock)
        finally:
            await admin.close()
        async with asyncio.timeout(30):
            while True:
                snap = await listener.next()
                if snap is not None and any(c.code == case.code for c in snap.waiting):
                    break
        assert listening.connections >= 2
