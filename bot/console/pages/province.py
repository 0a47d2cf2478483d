"""The province's figures (province supervisors): each office's month in counts, nothing more.

A province supervisor sees, per office, first contacts and cases opened by
urgency: counts read from plain columns, each under the figures page's
small-count rule (1-4 shown as "<5"), and never a case, a code or a name. They
open no case page: their role gives no queue (`Need.CASES`), and their own
office's cases are theirs to read only if they also hold a counsellor or
supervisor role there.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time

from starlette.requests import Request
from starlette.responses import Response

from bot.console.auth.login import Access, Need
from bot.console.core import Console, PageRoute
from bot.console.pages.figures import URGENCIES, month_of, shown
from bot.console.scope import office_config

__all__ = ["OfficeRow", "routes"]


@dataclass(frozen=True, slots=True)
class OfficeRow:
    """One office's month as the page prints it: every count already under the small-count rule."""

    code: str
    name: str
    contacts: str
    cases: str
    by_urgency: tuple[str, ...]  # in URGENCIES order
    archived: bool = False


async def province(console: Console, request: Request, access: Access) -> Response:
    tz = console.office.config.office.tz
    now = console.clock().astimezone(tz)
    asked = request.query_params.get("month", "")
    picked = month_of(asked)
    error = console.t(request, "figures_bad_month") if asked and picked is None else ""
    year, month = picked or (now.year, now.month)
    since = datetime.combine(datetime(year, month, 1).date(), time(0), tzinfo=tz)
    after = (year + month // 12, month % 12 + 1)
    until = datetime.combine(datetime(after[0], after[1], 1).date(), time(0), tzinfo=tz)
    rows: list[OfficeRow] = []
    # Archived offices too: their months stay countable.
    for office in await console.store.offices.list(include_archived=True):
        own = (await office_config(console, office.id)).office.tz  # each office's own month
        starts = datetime.combine(since.date(), time(0), tzinfo=own)
        ends = datetime.combine(until.date(), time(0), tzinfo=own)
        counts = await console.store.office.month(starts, ends, office_id=office.id)
        urgency = dict(counts.by_urgency)
        rows.append(
            OfficeRow(
                code=office.code,
                name=office.name or console.office.config.office.name,
                archived=office.archived,
                contacts=shown(counts.contacts),
                cases=shown(sum(urgency.values())),
                by_urgency=tuple(shown(urgency.get(u, 0)) for u in URGENCIES),
            )
        )
    return console.render(
        request,
        access,
        "province.html",
        month=f"{year:04d}-{month:02d}",
        rows=rows,
        urgencies=URGENCIES,
        error=error,
    )


routes = [PageRoute("/province", province, Need.PROVINCE)]
