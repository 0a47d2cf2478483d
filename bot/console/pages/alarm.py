"""The emergency alarm on every console page: the codes of urgent cases waiting, streamed.

The queue page raises its alarm from its own table; every other page of a
counsellor or supervisor listens here (`/console/alarm/events`), on the same
shared queue feed, and gets the urgent cases waiting whenever the queue
changes: their codes and their kinds of danger by name, never anything a family
wrote. The page's script sounds the alarm for a code it has not announced yet
(remembered for the browser tab across pages) and keeps the banner up until it
is acknowledged or the case is taken.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from bot.console.auth.login import Access, Need
from bot.console.case_desk import crisis_labels
from bot.console.core import Console, PageRoute
from bot.console.pages.queue import RETRY_MS, sse_event
from bot.console.queue_feed import QueueSnapshot
from bot.console.scope import snapshot_for

__all__ = ["routes", "urgent_waiting"]


def urgent_waiting(console: Console, request: Request, snap: QueueSnapshot) -> str:
    """The urgent cases waiting as JSON: `[{"code": ..., "label": "K7F3Q2 (Bunuh diri)"}]`."""
    lang = console.lang(request)
    out = []
    for case in snap.waiting:
        if case.urgency != "darurat":
            continue
        kinds = ", ".join(crisis_labels(console.texts, case.crisis, lang))
        out.append({"code": case.code, "label": f"{case.code} ({kinds})" if kinds else case.code})
    return json.dumps(out, ensure_ascii=False)


async def events(console: Console, request: Request, access: Access) -> Response:
    session_id = access.session_id
    settings = console.desk.feed.settings

    async def stream() -> AsyncIterator[str]:
        loop = asyncio.get_running_loop()
        started = loop.time()
        async with console.desk.feed.listen() as listener:
            yield f"retry: {RETRY_MS}\n\n"
            while not listener.closed:
                snap = await listener.next()
                if listener.closed:
                    break
                if snap is None:
                    if await console.auth.resume(session_id) is None:
                        yield sse_event("ended", "")
                        break
                    yield ": still here\n\n"
                else:
                    mine = snapshot_for(snap, access)  # only the reader's office rings
                    yield sse_event("urgent", urgent_waiting(console, request, mine))
                if loop.time() - started >= settings.lifetime:
                    break

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={"X-Accel-Buffering": "no", "Cache-Control": "no-store"},
    )


routes = [PageRoute("/alarm/events", events, Need.CASES)]
