"""What one staff member's office lets them see: every console read of cases goes through here.

A counsellor, supervisor or admin works in one office (`StaffMember.office_id`).
A case of another office is, to them, a case that does not exist: the pages
answer 404 exactly as for a code never given, never a 403 that would confirm
it. The live queue is read once for every office (one query per interval
whatever the number of tabs) and each reader's stream keeps only their
office's rows.
"""

from __future__ import annotations

import weakref
from contextvars import ContextVar
from dataclasses import replace
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response

from bot.config import Config
from bot.console.auth.login import Access
from bot.console.queue_feed import QueueSnapshot
from bot.offices.profiles import OfficeConfigs
from storage.handoff.records import LiveCase
from storage.offices.schema import DEFAULT_OFFICE_ID
from storage.store import Store

if TYPE_CHECKING:
    from bot.console.core import Console, PageHandler
    from bot.flowhost.shelf import FlowShelf
    from flows.library import FlowLibrary

__all__ = [
    "case_by_code",
    "in_office",
    "library_of",
    "office_flows",
    "office_of",
    "office_config",
    "office_shelf",
    "reader_config",
    "snapshot_for",
]


def office_of(access: Access) -> int:
    """The office whose cases, queue, bookings and figures this reader sees."""
    return access.member.office_id


def in_office(case: LiveCase | None, access: Access) -> LiveCase | None:
    """`case` if it belongs to the reader's office; None (shown as "not found") otherwise."""
    return case if case is not None and case.office_id == office_of(access) else None


async def case_by_code(store: Store, access: Access, code: str) -> LiveCase | None:
    """The case with `code` in the reader's office, or None: another office's is not found."""
    return in_office(await store.handoff.by_code(code[:16]), access)


def snapshot_for(snap: QueueSnapshot, access: Access) -> QueueSnapshot:
    """The shared queue snapshot cut down to the reader's office."""
    mine = office_of(access)
    return replace(
        snap,
        waiting=tuple(c for c in snap.waiting if c.office_id == mine),
        taken=tuple(c for c in snap.taken if c.office_id == mine),
    )


_SHELF: ContextVar[FlowShelf | None] = ContextVar("lk3_console_shelf", default=None)


def office_flows(handler: PageHandler) -> PageHandler:
    """A flows page works on the reader's own office's flows (`office_shelf`); an office
    added since the start gets its shelf here, on its admin's first visit. Without
    shelves (a bot given one shelf) only the default office's admins may open it: a
    publish there reaches every office.

    The shelf first follows what another process published or rolled back
    (`FlowShelf.refresh`: one small read of the office's pointers, a reload only when
    they moved). Per page rather than a periodic task in the app: admins' pages are
    rare, so this costs nothing while nobody looks (a timer would read in every process
    all day), needs no task to start and stop, and the page is never even a few seconds
    behind, so an admin never reviews or edits on top of a version no longer current."""

    async def guarded(console: Console, request: Request, access: Access) -> Response:
        office = office_of(access)
        shelves = console.office.shelves
        own = None if shelves is None else await shelves.ensure(office)  # added since start
        if own is not None:
            shelf = own
        elif office == DEFAULT_OFFICE_ID:
            shelf = console.office.flows
        else:
            return console.error(request, access, 403, "error_forbidden")
        await shelf.refresh()  # what another process published meanwhile
        token = _SHELF.set(shelf)
        try:
            return await handler(console, request, access)
        finally:
            _SHELF.reset(token)

    return guarded


_CONFIGS: weakref.WeakKeyDictionary[Console, OfficeConfigs] = weakref.WeakKeyDictionary()


async def office_config(console: Console, office_id: int) -> Config:
    """The configuration as one office has it (`[offices.<code>]` over `[office]`): its time
    zone for days, months and shifts, its words. No `[offices.*]`: nothing is read."""
    config = console.office.config
    if not config.offices:
        return config
    found = _CONFIGS.get(console)
    if found is None:
        found = _CONFIGS[console] = OfficeConfigs(console.store, config)
    return await found.for_office(office_id)


async def reader_config(console: Console, access: Access) -> Config:
    """`office_config` of the reader's own office."""
    return await office_config(console, office_of(access))


async def library_of(console: Console, office_id: int) -> FlowLibrary | None:
    """The flows of one office (a case's, for its triage summary): its own shelf, opened
    now if the office is new; without shelves, the one library everyone has."""
    shelves = console.office.shelves
    shelf = None if shelves is None else await shelves.ensure(office_id)
    return console.desk.library if shelf is None else shelf.library


def office_shelf(console: Console) -> FlowShelf:
    """The flows the current flows page works on: its reader's office's."""
    return _SHELF.get() or console.office.flows
