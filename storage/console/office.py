"""Reads and small writes the console's office pages need that booking and hand-off lack.

The month's counts for the figures page are codes and numbers, never a story.

Everything here reads plain columns (times, category and urgency codes,
statuses), so no data key is touched and nothing needs decrypting. Time to
first human reply comes from `storage.handoff.repo` (via `bot.handoff.service.Handoff.figures`),
not from here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from storage.booking.hours import hours_from_row
from storage.booking.records import WeeklyHours
from storage.engine.clock import to_micros
from storage.engine.db import Readers, Tx, Writer

__all__ = ["ConsoleOfficeRepo", "MonthCounts"]

BOOKING_OUTCOMES = ("confirmed", "attended", "no_show", "cancelled")


@dataclass(frozen=True, slots=True)
class MonthCounts:
    contacts: int
    by_category: tuple[tuple[str, int], ...]
    by_urgency: tuple[tuple[str, int], ...]
    bookings: tuple[tuple[str, int], ...]  # status -> count, in BOOKING_OUTCOMES order


class ConsoleOfficeRepo:
    def __init__(self, readers: Readers, writer: Writer) -> None:
        self._readers = readers
        self._writer = writer

    async def remove_hours(self, hours_id: int, *, office_id: int = 1) -> WeeklyHours | None:
        """Removes one block of weekly hours; the block removed, or None if there was none.

        Appointments already booked in those hours stay: only new offers change.
        """

        async def job(tx: Tx) -> WeeklyHours | None:
            row = await tx.fetchone(
                "DELETE FROM booking_hours WHERE id = ?"
                " AND staff_id IN (SELECT id FROM staff WHERE office_id = ?)"
                " RETURNING id, staff_id, weekday, start_minute, end_minute, modes",
                (hours_id, office_id),
            )
            return None if row is None else hours_from_row(row)

        return await self._writer.run("office.remove_hours", job)

    async def month(
        self, since: datetime, until: datetime, *, office_id: int | None = None
    ) -> MonthCounts:
        """Counts for [since, until): first contacts, cases opened, appointments in it;
        of one office with `office_id` (None: of every office).

        A booking counts as cancelled only if it had been confirmed (a hold a family
        let run out is not an appointment). A booking is its counsellor's office's.
        """
        span = (
            to_micros(since, "figures since"),
            to_micros(until, "figures until"),
            office_id or 0,
            office_id is None,
        )
        contacts = await self._readers.fetchone(
            "SELECT COUNT(*) FROM contacts WHERE created_at >= ? AND created_at < ?"
            " AND (office_id = ? OR ?)",
            span,
            what="figures.contacts",
        )
        categories = await self._readers.fetchall(
            "SELECT category, COUNT(*) FROM cases WHERE opened_at >= ? AND opened_at < ?"
            " AND (office_id = ? OR ?) GROUP BY category ORDER BY category",
            span,
            what="figures.categories",
        )
        urgencies = await self._readers.fetchall(
            "SELECT urgency, COUNT(*) FROM cases WHERE opened_at >= ? AND opened_at < ?"
            " AND (office_id = ? OR ?) GROUP BY urgency",
            span,
            what="figures.urgencies",
        )
        bookings = await self._readers.fetchall(
            "SELECT b.status, COUNT(*) FROM bookings b JOIN staff s ON s.id = b.staff_id"
            " WHERE b.starts_at >= ? AND b.starts_at < ? AND (s.office_id = ? OR ?)"
            " AND (b.status != 'cancelled' OR b.confirmed_at IS NOT NULL) GROUP BY b.status",
            span,
            what="figures.bookings",
        )
        by_status = {str(r[0]): int(r[1]) for r in bookings}
        return MonthCounts(
            contacts=int(contacts[0]) if contacts is not None else 0,
            by_category=tuple((str(r[0]), int(r[1])) for r in categories),
            by_urgency=tuple((str(r[0]), int(r[1])) for r in urgencies),
            bookings=tuple((s, by_status.get(s, 0)) for s in BOOKING_OUTCOMES),
        )
