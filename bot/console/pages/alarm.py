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

import json

from starlette.requests import Request
from starlette.responses import Response

from bot.console.auth.login import Access, Need
from bot.console.case_desk import crisis_labels
from bot.console.core import Console, PageRoute
from bot.console.pages.queue import feed_events, sse_event
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
    async def urgent(snap: QueueSnapshot) -> str:
        mine = snapshot_for(snap, access)  # only the reader's office rings
        return sse_event("urgent", urgent_waiting(console, request, mine))

    return feed_events(console, access, urgent, None)


routes = [PageRoute("/alarm/events", events, Need.CASES)]
