"""The office's calendar: each counsellor's weekly hours and the days the office is closed.

What free times are computed from, apart from the bookings made in them: staff set
these in the console; a family's options read them (`BookingRepo.snapshot`).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

from storage.booking.records import MODES, Closure, WeeklyHours
from storage.engine.clock import to_micros
from storage.engine.db import Readers, Row, Tx, Writer
from storage.errors import InvalidRecordError, NotFoundError

__all__ = ["OfficeHours", "closure_from_row", "hours_from_row"]


class OfficeHours:
    """Weekly hours and closures (the part of `BookingRepo` that is the office's calendar)."""

    def __init__(self, readers: Readers, writer: Writer) -> None:
        self._readers = readers
        self._writer = writer

    # weekly hours --------------------------------------------------------------

    async def add_hours(
        self,
        staff_id: int,
        weekday: int,
        start_minute: int,
        end_minute: int,
        modes: Iterable[str],
        at: datetime,
    ) -> WeeklyHours:
        """Adds a block of weekly hours; refuses one that overlaps the same day's hours."""
        if not 0 <= weekday <= 6:
            raise InvalidRecordError(f"weekday {weekday} is not 0 (Monday) to 6 (Sunday)")
        if not 0 <= start_minute < end_minute <= 24 * 60:
            raise InvalidRecordError(
                "weekly hours must start before they end, within one day", code="hours_order"
            )
        mode_text = _modes(modes)
        now = to_micros(at, "BookingRepo.add_hours at")

        async def job(tx: Tx) -> WeeklyHours:
            clash = await tx.fetchone(
                "SELECT start_minute, end_minute FROM booking_hours WHERE staff_id = ?"
                " AND weekday = ? AND start_minute < ? AND end_minute > ?",
                (staff_id, weekday, end_minute, start_minute),
            )
            if clash is not None:
                start, end = _hhmm(int(clash[0])), _hhmm(int(clash[1]))
                raise InvalidRecordError(
                    f"these hours overlap hours already set that day ({start}-{end})",
                    code="hours_overlap",
                    values={"start": start, "end": end},
                )
            exists = await tx.fetchone("SELECT 1 FROM staff WHERE id = ?", (staff_id,))
            if exists is None:
                raise NotFoundError(f"no staff member with id {staff_id}")
            row = await tx.fetchone(
                "INSERT INTO booking_hours (staff_id, weekday, start_minute, end_minute, modes,"
                " created_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
                (staff_id, weekday, start_minute, end_minute, mode_text, now),
            )
            assert row is not None
            return WeeklyHours(
                int(row[0]),
                staff_id,
                weekday,
                start_minute,
                end_minute,
                frozenset(mode_text.split(",")),
            )

        return await self._writer.run("bookings.add_hours", job)

    async def clear_hours(self, staff_id: int, weekday: int | None = None) -> int:
        """Removes a counsellor's weekly hours (one weekday, or all); returns how many."""

        async def job(tx: Tx) -> int:
            if weekday is None:
                return await tx.execute("DELETE FROM booking_hours WHERE staff_id = ?", (staff_id,))
            return await tx.execute(
                "DELETE FROM booking_hours WHERE staff_id = ? AND weekday = ?", (staff_id, weekday)
            )

        return await self._writer.run("bookings.clear_hours", job)

    async def hours(self, staff_id: int | None = None) -> list[WeeklyHours]:
        rows = await self._readers.fetchall(
            "SELECT id, staff_id, weekday, start_minute, end_minute, modes FROM booking_hours"
            + (" WHERE staff_id = ?" if staff_id is not None else "")
            + " ORDER BY staff_id, weekday, start_minute",
            (staff_id,) if staff_id is not None else (),
            what="bookings.hours",
        )
        return [hours_from_row(row) for row in rows]

    # closures ------------------------------------------------------------------

    async def add_closure(
        self, day: date, reason: str, at: datetime, *, office_id: int = 1
    ) -> Closure:
        """Closes the office on `day` (office-local); a second closure of a day is refused."""
        reason = " ".join(reason.split())
        if not reason:
            raise InvalidRecordError(
                "a closure needs a reason (staff read it in the list)", code="closure_reason"
            )
        now = to_micros(at, "BookingRepo.add_closure at")

        async def job(tx: Tx) -> Closure:
            row = await tx.fetchone(
                "INSERT INTO booking_closures (office_id, day, reason, created_at)"
                " VALUES (?, ?, ?, ?) ON CONFLICT (office_id, day) DO NOTHING RETURNING day",
                (office_id, day.isoformat(), reason, now),
            )
            if row is None:
                raise InvalidRecordError(
                    f"the office is already closed on {day.isoformat()}",
                    code="already_closed",
                    values={"day": day.isoformat()},
                )
            return Closure(day, reason)

        return await self._writer.run("bookings.add_closure", job)

    async def remove_closure(self, day: date, *, office_id: int = 1) -> bool:
        async def job(tx: Tx) -> bool:
            changed = await tx.execute(
                "DELETE FROM booking_closures WHERE office_id = ? AND day = ?",
                (office_id, day.isoformat()),
            )
            return changed > 0

        return await self._writer.run("bookings.remove_closure", job)

    async def closures(
        self, start: date | None = None, end: date | None = None, *, office_id: int = 1
    ) -> list[Closure]:
        """One office's closures from `start` to `end` inclusive (both optional), by day."""
        rows = await self._readers.fetchall(
            "SELECT day, reason FROM booking_closures WHERE office_id = ? AND day >= ?"
            " AND day <= ? ORDER BY day",
            (office_id, (start or date.min).isoformat(), (end or date.max).isoformat()),
            what="bookings.closures",
        )
        return [closure_from_row(r) for r in rows]


def hours_from_row(row: Row) -> WeeklyHours:
    return WeeklyHours(
        int(row[0]),
        int(row[1]),
        int(row[2]),
        int(row[3]),
        int(row[4]),
        frozenset(m for m in str(row[5]).split(",") if m),
    )


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def closure_from_row(row: Row) -> Closure:
    return Closure(date.fromisoformat(str(row[0])), str(row[1]))


def _modes(modes: Iterable[str]) -> str:
    chosen = set(modes)
    if not chosen:
        raise InvalidRecordError(
            "weekly hours need at least one consultation mode", code="modes_missing"
        )
    for mode in sorted(chosen):
        if mode not in MODES:
            known = ", ".join(MODES)
            raise InvalidRecordError(f"unknown consultation mode {mode!r}; known: {known}")
    return ",".join(sorted(chosen, key=MODES.index))
