"""The home page: for whoever answers cases, the emergencies waiting now and the cases they
hold, one tap from the queue (the page a counsellor's phone opens to at 2 a.m.).

Only codes, counts and waiting times: nothing a family wrote.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response

from bot.console.auth.login import Access, Need, allowed
from bot.console.case_desk import waited
from bot.console.core import Console, PageRoute
from bot.console.scope import office_of

__all__ = ["QueueGlance", "routes"]

URGENT = "darurat"


@dataclass(frozen=True, slots=True)
class QueueGlance:
    """What the home page says about the queue: how many wait, the longest urgent wait."""

    waiting: int
    urgent: int
    longest_urgent: str  # in words (`23 mnt`), empty when no emergency waits
    held: tuple[str, ...]  # codes of the cases the reader holds


async def glance(console: Console, request: Request, access: Access) -> QueueGlance:
    desk = console.desk
    waiting = await desk.handoff.queue(office_id=office_of(access))
    urgent = [case for case in waiting if case.urgency == URGENT]
    longest = ""
    if urgent:
        since = min(case.waiting_since for case in urgent)
        longest = waited(since, console.clock(), console.texts, console.lang(request))
    held = await desk.handoff.held_by(access.member.id)
    return QueueGlance(len(waiting), len(urgent), longest, tuple(case.code for case in held))


async def home(console: Console, request: Request, access: Access) -> Response:
    queue = None
    if console.has_desk and allowed(Need.CASES, access.member.roles):
        queue = await glance(console, request, access)
    return console.render(request, access, "home.html", queue=queue)


routes = [PageRoute("/", home, Need.STAFF)]
