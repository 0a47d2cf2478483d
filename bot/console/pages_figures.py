"""Figures (supervisors and admins): the month's counts for the office and the Dinas Sosial.

Counts only, read from plain columns; nothing is decrypted and no case is
named. A count from 1 to 4 is shown as "<5" (and draws no bar), so a small
number cannot point at one family.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time

from starlette.requests import Request
from starlette.responses import Response

from bot.console.auth import Access, Need
from bot.console.core import Console
from bot.console.office import Office

__all__ = ["SMALL", "register", "shown"]

SMALL = 5


def shown(count: int) -> str:
    """What a page may print for a count: "<5" for 1-4."""
    return "<5" if 0 < count < SMALL else str(count)


@dataclass(frozen=True, slots=True)
class Bar:
    label: str
    count: str
    value: int  # what the bar draws: 0 when the count is hidden
    top: int


def bars(rows: list[tuple[str, int]]) -> list[Bar]:
    top = max((n for _, n in rows if n >= SMALL), default=1)
    return [Bar(label, shown(n), n if n >= SMALL else 0, top) for label, n in rows]


def register(console: Console, office: Office) -> None:
    """Adds the figures page."""
    tz = office.config.office.tz

    def month_of(raw: str) -> tuple[int, int] | None:
        parts = raw.split("-")
        if len(parts) != 2 or not all(p.isdigit() for p in parts):
            return None
        year, month = int(parts[0]), int(parts[1])
        return (year, month) if 2000 <= year <= 2999 and 1 <= month <= 12 else None

    async def figures(request: Request, access: Access) -> Response:
        now = console.clock().astimezone(tz)
        asked = request.query_params.get("month", "")
        picked = month_of(asked)
        error = console.t(request, "figures_bad_month") if asked and picked is None else ""
        year, month = picked or (now.year, now.month)
        since = datetime.combine(datetime(year, month, 1).date(), time(0), tzinfo=tz)
        after = (year + month // 12, month % 12 + 1)
        until = datetime.combine(datetime(after[0], after[1], 1).date(), time(0), tzinfo=tz)
        counts = await console.store.office.month(since, until)
        handoff = await office.handoff.figures(since, until)
        urgency_rows = dict(counts.by_urgency)
        by_urgency = [
            (console.t(request, "urgency_" + u), urgency_rows.get(u, 0))
            for u in ("darurat", "segera", "biasa")
        ]
        replies = [
            (
                console.t(request, "urgency_" + f.urgency),
                shown(f.opened),
                shown(f.answered),
                None
                if f.median_first_reply_seconds is None or f.answered < SMALL
                else round(f.median_first_reply_seconds / 60, 1),
                shown(f.waited_past_target),
            )
            for f in handoff.by_urgency
        ]
        bookings = [(console.t(request, "status_" + s), n) for s, n in counts.bookings]
        return console.render(
            request,
            access,
            "figures.html",
            month=f"{year:04d}-{month:02d}",
            contacts=shown(counts.contacts),
            by_category=bars(list(counts.by_category)),
            by_urgency=bars(by_urgency),
            replies=replies,
            target_minutes=handoff.target_seconds // 60,
            bookings=bars(bookings),
            error=error,
        )

    console.add("/figures", figures, Need.OFFICE)
