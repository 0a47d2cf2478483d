"""The live part of a case page: the conversation, re-sent over Server-Sent Events whenever
it changes, and the same block answered to a reply sent by script.

`thread_context` gathers what `case_thread.html` shows (the transcript, the
WhatsApp window, a quick exit) and a `mark` of the transcript that is read
without decrypting anything. The stream (`/console/cases/{code}/events`) reads
that mark when the database says the case, its contact's thread or the reader
changed (PostgreSQL, any process: `bot.core.live`), else every
`FeedSettings.interval` seconds (SQLite, or while the listener is down), and sends
the rendered block when it moved, so a family's new message appears without a
reload; it says
`changed` when the case was taken, released or closed meanwhile (the page then
offers a reload), and ends when the reader may no longer read the case, when
their session ends, after `FeedSettings.lifetime` and at shutdown. Opening a
stream is a reading of the transcript, so it writes a `case_view` audit row
first, as the page does.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import AsyncIterator
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from bot.channels.whatsapp import window_remaining
from bot.console.auth.login import Access, Need, can_read_case
from bot.console.case_desk import label
from bot.console.core import Console, PageRoute
from bot.console.pages.queue import RETRY_MS, event_stream, sse_event
from bot.console.scope import case_by_code
from bot.core.live import Subscription
from storage.channels.instances import kind_of
from storage.handoff.records import LiveCase
from storage.privacy.audit import AuditEntry

__all__ = ["audit_view", "render_thread", "routes", "state_of", "thread_context"]


def state_of(case: LiveCase) -> str:
    """What of a case, once changed, makes the page's buttons wrong (a reload fixes them)."""
    return f"{case.status}:{case.owner_staff_id or 0}:{case.urgency}"


async def audit_view(console: Console, access: Access, case: LiveCase, how: str) -> None:
    """The audit row of a reading of the transcript, written before anything is shown."""
    await console.store.audit.record(
        AuditEntry(
            f"staff:{access.member.id}",
            "case_view",
            f"case:{case.code},contact:{case.contact_id}",
            how,
        )
    )


async def thread_context(console: Console, request: Request, case: LiveCase) -> dict[str, Any]:
    desk = console.desk
    lang = console.lang(request)
    now = console.clock()
    mark = await desk.store.console_cases.transcript_mark(case.contact_id)
    transcript = await desk.store.console_cases.transcript(case.contact_id, until=case.closed_at)
    contact = await desk.store.contacts.get(case.contact_id)
    window = None
    if contact is not None and kind_of(contact.channel) == "whatsapp":
        found = await desk.store.whatsapp.for_contact(case.contact_id)
        left = window_remaining(None if found is None else found.last_inbound_at, now)
        minutes = int(left.total_seconds() // 60)
        window = {
            "open": left.total_seconds() > 0,
            "text": console.t(request, "case_wa_open", h=minutes // 60, m=f"{minutes % 60:02d}")
            if left.total_seconds() > 0
            else console.t(request, "case_wa_closed"),
        }
    left_at = await desk.store.privacy.left_in_a_hurry(case.contact_id)
    return {
        "mark": "-".join(str(n) for n in mark),
        "transcript": [
            (desk.local(line.at), line, label(console.texts, "case_kind", line.kind, lang))
            for line in transcript
        ],
        "labels": await desk.store.safety_labels.for_contact(case.contact_id),
        "media": await desk.store.media.for_contact(case.contact_id),
        "window": window,
        "left_at": None if left_at is None or case.status == "closed" else desk.local(left_at),
    }


def render_thread(
    console: Console, request: Request, access: Access, case: LiveCase, context: dict[str, Any]
) -> str:
    html = console.render(request, access, "case_thread.html", case=case, **context).body
    return bytes(html).decode("utf-8")


async def events(console: Console, request: Request, access: Access) -> Response:
    code = str(request.path_params.get("case_code", ""))[:16]
    first = await case_by_code(console.desk.store, access, code)
    if first is None:
        return console.error(request, access, 404, "error_not_found")
    if not can_read_case(access.member.roles, access.member.id, first.owner_staff_id):
        return console.error(request, access, 403, "error_case_forbidden")
    await audit_view(console, access, first, "live case page in the web console")
    since = request.query_params.get("since", "")[:80]
    seen_state = request.query_params.get("state", "")[:40] or state_of(first)
    feed, live = console.desk.feed, console.desk.live
    settings = feed.settings
    me = access.member
    topics = (f"case:{first.id}", f"thread:{first.contact_id}", f"staff:{me.id}")

    async def stream() -> AsyncIterator[str]:
        with live.hold(), live.subscribe(topics) as woken:
            async for event in watch(woken):
                yield event

    async def watch(woken: Subscription) -> AsyncIterator[str]:
        loop = asyncio.get_running_loop()
        started = last_check = loop.time()
        mark, state = since, seen_state
        yield f"retry: {RETRY_MS}\n\n"
        viewer, member = access, me
        while not feed.closed:
            woken.clear()  # before reading: a change told while reading wakes the next wait
            # The member as they are now: roles taken away (or the account switched off)
            # while the page is open end the stream at the next check.
            fresh = await console.store.staff.get(me.id)
            if fresh is None or not fresh.active:
                yield sse_event("ended", "")
                return
            if fresh != member:
                viewer, member = dataclasses.replace(access, member=fresh), fresh
            case = await console.desk.store.handoff.get(first.id)
            if case is None or not can_read_case(member.roles, member.id, case.owner_staff_id):
                yield sse_event("ended", "")
                return
            if state_of(case) != state:
                state = state_of(case)
                yield sse_event("changed", json.dumps({"state": state}))
            now_mark = await console.desk.store.console_cases.transcript_mark(case.contact_id)
            if "-".join(str(n) for n in now_mark) != mark:
                context = await thread_context(console, request, case)
                mark = context["mark"]
                yield sse_event("thread", render_thread(console, request, viewer, case, context))
            if loop.time() - last_check >= settings.heartbeat:
                last_check = loop.time()
                if await console.auth.resume(access.session_id) is None:
                    yield sse_event("ended", "")
                    return
                yield ": still here\n\n"
            if loop.time() - started >= settings.lifetime:
                return
            if not feed.closed:
                await woken.wait(feed.pace())

    return event_stream(stream())


routes = [PageRoute("/cases/{case_code}/events", events, Need.CASES)]
