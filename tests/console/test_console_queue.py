"""The queue: its order, the take race, and the live event stream shared by every tab."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from contextlib import aclosing

import httpx
import pytest
from case_support import family_case
from console_support import FAST, add_staff, client, login, post
from support import Clock

import bot.web
from bot.console.app import build_console, mount_console
from bot.console.core import Console
from bot.console.office import Office
from bot.console.queue_feed import FeedSettings, QueueFeed
from bot.web import WebServer
from storage.handoff.records import LiveCase
from storage.store import Store


def codes_in(html: str) -> list[str]:
    return re.findall(r'data-case="([0-9A-Z]+)"', html)


async def test_queue_orders_by_risk_then_waiting_time_and_shows_nothing_identifying(
    console: Console, clock: Clock
) -> None:
    await add_staff(console, "sari", ("counsellor",))
    routine = await family_case(
        console.store,
        clock,
        ["saya mau tanya bansos"],
        address="1",
        urgency="biasa",
        category="bansos",
    )
    soon = await family_case(
        console.store, clock, ["anak saya dipukul"], address="2", urgency="segera", category="anak"
    )
    urgent_late = await family_case(console.store, clock, ["tolong sekarang"], address="3")
    clock.advance(60)
    async with client(console) as http:
        await login(http, "sari", None, clock)
        page = (await http.get("/console/queue")).text
    assert codes_in(page) == [urgent_late.code, soon.code, routine.code]
    assert "Darurat" in page and "KDRT" in page and "Bantuan sosial" in page
    for words in ("bansos", "dipukul", "tolong", "7001"):
        assert words not in page.replace("Bantuan sosial", "")
    assert "1 mnt" in page  # waiting time, in words


async def test_two_counsellors_take_at_once_one_owns_it_the_other_sees_who(
    console: Console, clock: Clock
) -> None:
    sari, _ = await add_staff(console, "sari", ("counsellor",))
    budi, _ = await add_staff(console, "budi", ("counsellor",))
    case = await family_case(console.store, clock)
    async with client(console) as a, client(console) as b:
        await login(a, "sari", None, clock)
        await login(b, "budi", None, clock)
        path = f"/console/cases/{case.code}/take"
        first, second = await asyncio.gather(
            post(a, path, {}, "/console/queue"), post(b, path, {}, "/console/queue")
        )
    results = sorted([first, second], key=lambda r: r.status_code)
    assert [r.status_code for r in results] == [303, 409]
    after = await console.store.handoff.get(case.id)
    assert after is not None and after.status == "taken"
    winner = "Sari" if after.owner_staff_id == sari else "Budi"
    assert after.owner_staff_id in (sari, budi)
    assert results[0].headers["location"] == f"/console/cases/{case.code}"
    assert f"Kasus {case.code} sudah diambil oleh {winner}." in results[1].text


async def test_take_of_an_unknown_or_closed_case_is_answered_kindly(
    console: Console, office: Office, clock: Clock
) -> None:
    sari, _ = await add_staff(console, "sari", ("counsellor",))
    case = await family_case(console.store, clock)
    await office.handoff.close(sari, case.id, "salah_sambung", supervisor=True)
    async with client(console) as http:
        await login(http, "sari", None, clock)
        gone = await post(http, "/console/cases/NOSUCH/take", {}, "/console/queue")
        closed = await post(http, f"/console/cases/{case.code}/take", {}, "/console/queue")
    assert gone.status_code == 404
    assert closed.status_code == 409 and "sudah ditutup" in closed.text


async def test_event_stream_sends_the_queue_rendered_for_the_reader(
    console: Console, clock: Clock
) -> None:
    await add_staff(console, "sari", ("counsellor",))
    case = await family_case(console.store, clock)
    async with client(console) as http:
        await login(http, "sari", None, clock)
        response = await http.get("/console/queue/events")
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.text.startswith("retry: 3000\n\n")
    assert "event: queue\n" in response.text and f'data-case="{case.code}"' in response.text
    assert 'name="csrf"' in response.text
    assert all(
        line.startswith(("event:", "data:", "retry:")) for line in response.text.split("\n") if line
    )


# --- the shared feed ---------------------------------------------------------------


class CountingQueue:
    """A queue to publish: what `load` returns, and how often it was asked."""

    def __init__(self, cases: list[LiveCase]) -> None:
        self.cases = cases
        self.reads = 0

    async def load(self) -> tuple[list[LiveCase], list[LiveCase]]:
        self.reads += 1
        return list(self.cases), []


async def test_many_listeners_share_one_reader_and_all_see_each_change(
    console: Console, clock: Clock
) -> None:
    first = await family_case(console.store, clock)
    source = CountingQueue([first])
    feed = QueueFeed(source.load, FeedSettings(interval=60, heartbeat=60))
    ready = asyncio.Event()
    got: list[list[int]] = [[] for _ in range(100)]
    arrived = 0

    async def tab(i: int) -> None:
        nonlocal arrived
        async with feed.listen() as listener:
            for _ in range(2):
                snap = await listener.next()
                assert snap is not None
                got[i].append(len(snap.waiting))
                arrived += 1
                if arrived == 100:
                    ready.set()

    tabs = [asyncio.create_task(tab(i)) for i in range(100)]
    await asyncio.wait_for(ready.wait(), 10)
    assert source.reads == 1, "a hundred tabs, one read"
    second = await family_case(console.store, clock, address="7002")
    source.cases = [first, second]
    feed.wake()
    await asyncio.wait_for(asyncio.gather(*tabs), 10)
    assert got == [[1, 2]] * 100 and source.reads == 2
    await feed.stop()


async def test_closing_the_feed_ends_every_listener(console: Console, clock: Clock) -> None:
    source = CountingQueue([await family_case(console.store, clock)])
    feed = QueueFeed(source.load, FeedSettings(interval=60, heartbeat=600))
    ended = asyncio.Event()

    async def tab() -> None:
        async with feed.listen() as listener:
            while not listener.closed:
                await listener.next()
        ended.set()

    task = asyncio.create_task(tab())
    while feed.snapshot is None:
        await asyncio.sleep(0)
    feed.close()
    await asyncio.wait_for(ended.wait(), 10)
    await task
    assert feed.listeners == 0


# --- over a real socket: the browser's view ----------------------------------------------


@pytest.fixture
async def served(
    store: Store, office: Office, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[tuple[WebServer, Console]]:
    # A graceful shutdown that would wait ten minutes: stopping fast proves the streams end.
    monkeypatch.setattr(bot.web, "SHUTDOWN_GRACE_SECONDS", 600)
    console = build_console(
        store,
        clock=clock,
        settings=FAST,
        office=office,
        queue_feed=FeedSettings(interval=0.05, heartbeat=600, lifetime=3600),
    )
    web = WebServer("127.0.0.1", 0)
    mount_console(web, console)
    await web.start()
    try:
        yield web, console
    finally:
        await web.stop()


async def next_queue_event(lines: AsyncIterator[str]) -> str:
    data: list[str] = []
    event = ""
    async for line in lines:
        if line.startswith("event: "):
            event = line[7:]
        elif line.startswith("data: "):
            data.append(line[6:])
        elif line == "" and event == "queue":
            return "\n".join(data)
        elif line == "":
            data, event = [], ""
    raise AssertionError("the stream ended before a queue event")


async def test_a_new_urgent_case_reaches_open_streams_and_streams_end_on_shutdown(
    served: tuple[WebServer, Console], clock: Clock
) -> None:
    web, console = served
    await add_staff(console, "sari", ("counsellor",))
    base = f"http://127.0.0.1:{web.port}"
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        await login(http, "sari", None, clock)
        async with http.stream("GET", "/console/queue/events") as stream:
            lines = aclosing(stream.aiter_lines())
            async with lines as it:
                assert codes_in(await next_queue_event(it)) == []
                case = await family_case(console.store, clock)
                fresh = await next_queue_event(it)
                assert codes_in(fresh) == [case.code] and 'data-urgency="darurat"' in fresh
                # The browser goes away: its listener goes too.
        feed_owner = console.stop_hooks[0].__self__  # type: ignore[attr-defined]
        assert isinstance(feed_owner, QueueFeed)
        for _ in range(1000):
            if feed_owner.listeners == 0:
                break
            await asyncio.sleep(0.01)
        assert feed_owner.listeners == 0
        async with http.stream("GET", "/console/queue/events") as stream:
            async with aclosing(stream.aiter_lines()) as it:
                await next_queue_event(it)
                await asyncio.wait_for(web.stop(), 30)  # hangs for 600 s if the stream stayed
                rest = [line async for line in it]
    assert "event: queue" not in rest
