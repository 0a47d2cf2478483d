"""One office's month of figures, for the figures API: the console figures page's counts
(`storage.console.office`, `storage.handoff.figures`, `storage.flowhost.ratings`) with
every row read limited to the office (`office_id`, migration 0021).

Counts and times only, from plain columns; the small-count rule is applied by the caller
(`bot.console.pages.figures.csv_rows`), exactly as the console applies it.
"""

from __future__ import annotations

from datetime import datetime

from storage.console.office import BOOKING_OUTCOMES, MonthCounts
from storage.engine.clock import to_micros
from storage.engine.db import Readers
from storage.flowhost.ratings import RATINGS, RatingCounts
from storage.handoff.figures import figures_of
from storage.handoff.records import HandoffFigures

__all__ = ["OfficeMonthRepo"]


class OfficeMonthRepo:
    def __init__(self, readers: Readers) -> None:
        self._readers = readers

    async def counts(self, office_id: int, since: datetime, until: datetime) -> MonthCounts:
        """First contacts, cases by category and urgency, appointments: one office's."""
        span = (to_micros(since, "since"), to_micros(until, "until"), office_id)
        contacts = await self._readers.fetchone(
            "SELECT COUNT(*) FROM contacts WHERE created_at >= ? AND created_at < ?"
            " AND office_id = ?",
            span,
            what="office_month.contacts",
        )
        categories = await self._readers.fetchall(
            "SELECT category, COUNT(*) FROM cases WHERE opened_at >= ? AND opened_at < ?"
            " AND office_id = ? GROUP BY category ORDER BY category",
            span,
            what="office_month.categories",
        )
        urgencies = await self._readers.fetchall(
            "SELECT urgency, COUNT(*) FROM cases WHERE opened_at >= ? AND opened_at < ?"
            " AND office_id = ? GROUP BY urgency",
            span,
            what="office_month.urgencies",
        )
        bookings = await self._readers.fetchall(
            "SELECT b.status, COUNT(*) FROM bookings b JOIN staff s ON s.id = b.staff_id"
            " WHERE b.starts_at >= ? AND b.starts_at < ? AND s.office_id = ?"
            " AND (b.status != 'cancelled' OR b.confirmed_at IS NOT NULL) GROUP BY b.status",
            span,
            what="office_month.bookings",
        )
        by_status = {str(r[0]): int(r[1]) for r in bookings}
        return MonthCounts(
            contacts=int(contacts[0]) if contacts is not None else 0,
            by_category=tuple((str(r[0]), int(r[1])) for r in categories),
            by_urgency=tuple((str(r[0]), int(r[1])) for r in urgencies),
            bookings=tuple((s, by_status.get(s, 0)) for s in BOOKING_OUTCOMES),
        )

    async def handoff(
        self, office_id: int, since: datetime, until: datetime, target_seconds: int
    ) -> HandoffFigures:
        start, end = to_micros(since, "since"), to_micros(until, "until")
        rows = await self._readers.fetchall(
            "SELECT urgency, opened_at, first_reply_at FROM cases"
            " WHERE opened_at >= ? AND opened_at < ? AND office_id = ?",
            (start, end, office_id),
            what="office_month.handoff",
        )
        timings = [(str(r[0]), int(r[1]), None if r[2] is None else int(r[2])) for r in rows]
        return figures_of(timings, since, until, target_seconds)

    async def ratings(self, office_id: int, month: str) -> RatingCounts:
        rows = await self._readers.fetchall(
            "SELECT rating, sum(count) FROM rating_counts WHERE month = ? AND office_id = ?"
            " GROUP BY rating",
            (month, office_id),
            what="office_month.ratings",
        )
        found = {int(r[0]): int(r[1]) for r in rows}
        return RatingCounts(tuple((r, found.get(r, 0)) for r in RATINGS))
