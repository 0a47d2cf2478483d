"""The queue (counsellors and supervisors): cases waiting, most urgent and longest waiting
first, live over Server-Sent Events, and the button that takes one.

The page shows codes, categories, urgency, waiting time and who holds what:
nothing a family wrote. The event stream sends the same table, rendered for
the reader (their language, their CSRF token), whenever the shared feed sees a
change, and again at each heartbeat so waiting times stay current. A stream
ends when the browser goes away, when the session ends (checked at each
heartbeat, without extending it), after `FeedSettings.lifetime`, and at once on
shutdown.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from bot.console.auth.login import Access, Need
from bot.console.case_desk import crisis_labels, label, waited
from bot.console.core import Console, PageRoute, redirect
from bot.console.queue_feed import QueueSnapshot
from bot.console.scope import case_by_code, office_of, snapshot_for
from storage.handoff.records import LiveCase

__all__ = ["event_stream", "feed_events", "routes", "sse_event"]

RETRY_MS = 3000


def sse_event(event: str, data: str) -> str:
    """One Server-Sent Event; every line of `data` gets its own `data:` field."""
    lines = data.replace("\r", "").split("\n")
    return f"event: {event}\n" + "".join(f"data: {line}\n" for line in lines) + "\n"


async def rows(
    console: Console, request: Request, me: int, cases: tuple[LiveCase, ...]
) -> list[dict[str, object]]:
    lang = console.lang(request)
    now = console.clock()
    names: dict[int, str] = {}
    out: list[dict[str, object]] = []
    for case in cases:
        owner = ""
        if case.owner_staff_id is not None:
            if case.owner_staff_id not in names:
                member = await console.store.staff.get(case.owner_staff_id)
                names[case.owner_staff_id] = "" if member is None else member.display_name
            owner = names[case.owner_staff_id]
        since = case.waiting_since if case.status == "open" else case.taken_at or case.opened_at
        out.append(
            {
                "code": case.code,
                "urgency": case.urgency,
                "urgency_label": label(console.texts, "urgency", case.urgency, lang),
                "category": label(console.texts, "case_category", case.category, lang),
                "kinds": crisis_labels(console.texts, case.crisis, lang),
                "waited": waited(since, now, console.texts, lang),
                "since": console.desk.local(since),
                "owner": owner,
                "mine": case.owner_staff_id == me,
            }
        )
    return out


async def context(
    console: Console, request: Request, access: Access, snap: QueueSnapshot
) -> dict[str, Any]:
    me = access.member.id
    snap = snapshot_for(snap, access)  # the shared feed holds every office's rows
    return {
        "waiting": await rows(console, request, me, snap.waiting),
        "taken": await rows(console, request, me, snap.taken),
        "version": snap.version,
    }


async def current(console: Console, access: Access) -> QueueSnapshot:
    office = office_of(access)
    waiting, taken = (
        await console.desk.handoff.queue(office_id=office),
        await console.desk.store.console_cases.taken(office_id=office),
    )
    return QueueSnapshot(0, tuple(waiting), tuple(taken))


async def page(
    console: Console, request: Request, access: Access, *, notice: str = "", status: int = 200
) -> Response:
    values = await context(console, request, access, await current(console, access))
    return console.render(request, access, "queue.html", status=status, notice=notice, **values)


async def queue(console: Console, request: Request, access: Access) -> Response:
    return await page(console, request, access)


Said = Callable[[QueueSnapshot], Awaitable[str]]
"""What a stream sends for a snapshot: one or more Server-Sent Events."""


def event_stream(body: AsyncIterator[str]) -> Response:
    return StreamingResponse(
        body,
        media_type="text/event-stream",
        headers={"X-Accel-Buffering": "no", "Cache-Control": "no-store"},
    )


def feed_events(console: Console, access: Access, changed: Said, quiet: Said | None) -> Response:
    """The shared queue feed as an event stream: the one loop of the queue page and the alarm.

    `changed` says a new snapshot; at a quiet heartbeat, once the session is found
    still signed in (resume does not extend it), `quiet` says the latest snapshot
    again (the queue: waiting times move) or, without it, a comment keeps the
    connection up (the alarm).
    """
    session_id = access.session_id
    feed = console.desk.feed

    async def stream() -> AsyncIterator[str]:
        loop = asyncio.get_running_loop()
        started = loop.time()
        async with feed.listen() as listener:
            yield f"retry: {RETRY_MS}\n\n"
            latest: QueueSnapshot | None = None
            while not listener.closed:
                snap = await listener.next()
                if listener.closed:
                    break
                if snap is not None:
                    latest = snap
                    yield await changed(snap)
                elif await console.auth.resume(session_id) is None:
                    yield sse_event("ended", "")
                    break
                elif quiet is None:
                    yield ": still here\n\n"
                else:
                    latest = latest or feed.snapshot
                    if latest is not None:
                        yield await quiet(latest)
                if loop.time() - started >= feed.settings.lifetime:
                    break

    return event_stream(stream())


async def events(console: Console, request: Request, access: Access) -> Response:
    async def table(snap: QueueSnapshot) -> str:
        values = await context(console, request, access, snap)
        html = console.render(request, access, "queue_live.html", **values).body
        return sse_event("queue", bytes(html).decode("utf-8"))

    return feed_events(console, access, table, table)


async def take(console: Console, request: Request, access: Access) -> Response:
    code = str(request.path_params.get("case_code", ""))
    case = await case_by_code(console.desk.store, access, code)
    if case is None:
        return console.error(request, access, 404, "error_not_found")
    result = await console.desk.handoff.take(access.member.id, case.id)
    console.desk.changed()
    if result.outcome in ("done", "already"):
        return redirect(f"/cases/{case.code}")
    if result.outcome == "held" and result.case is not None:
        owner_id = result.case.owner_staff_id
        owner = None if owner_id is None else await console.store.staff.get(owner_id)
        name = owner.display_name if owner is not None else "?"
        notice = console.t(request, "q_take_held", code=case.code, name=name)
    else:
        notice = console.t(request, "q_take_closed", code=case.code)
    return await page(console, request, access, notice=notice, status=409)


routes = [
    PageRoute("/queue", queue, Need.CASES),
    PageRoute("/queue/events", events, Need.CASES),
    PageRoute("/cases/{case_code}/take", take, Need.CASES, ("POST",)),
]
