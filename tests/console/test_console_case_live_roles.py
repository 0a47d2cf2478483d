"""The live case stream checks the viewer as they are now, not as they were when the page
opened: a supervisor whose role is taken away stops receiving the family's words."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import aclosing

import httpx
import pytest
from case_support import family_case
from console_support import FAST, add_staff, login
from support import Clock

from bot.console.app import build_console, mount_console
from bot.console.core import Console
from bot.console.office import Office
from bot.console.queue_feed import FeedSettings
from bot.web import WebServer
from storage.store import Store


@pytest.fixture
async def served(store: Store, office: Office, clock: Clock) -> AsyncIterator[tuple[str, Console]]:
    console = build_console(
        store,
        clock=clock,
        settings=FAST,
        office=office,
        queue_feed=FeedSettings(interval=0.05, heartbeat=600, lifetime=60),
    )
    web = WebServer("127.0.0.1", 0)
    mount_console(web, console)
    await web.start()
    try:
        yield f"http://127.0.0.1:{web.port}", console
    finally:
        await web.stop()


async def test_a_supervisor_demoted_while_watching_a_case_is_cut_off(
    served: tuple[str, Console], clock: Clock
) -> None:
    base, console = served
    staff_id, _ = await add_staff(console, "supri", ("supervisor",))
    case = await family_case(console.store, clock)
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        await login(http, "supri", None, clock)
        async with http.stream("GET", f"/console/cases/{case.code}/events") as stream:
            assert stream.status_code == 200
            async with aclosing(stream.aiter_lines()) as lines:
                seen = [await anext(lines)]
                await console.store.staff.set_roles(staff_id, ["admin"], clock())
                async with asyncio.timeout(20):  # the stream would run 60 s if never cut
                    async for line in lines:
                        seen.append(line)
                        if line == "event: ended":
                            break
    assert "event: ended" in seen
