"""The on-call roster: who is on duty on which weekday, from when to when (office time).

Days are 0 (Monday, `senin`) to 6 (Sunday, `minggu`); times are minutes since
midnight in the office's time zone. A shift whose end is not after its start
runs past midnight into the next day (22:00-06:00).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from storage.engine.clock import to_micros
from storage.engine.db import Readers, Tx, Writer
from storage.errors import InvalidRecordError, NotFoundError

__all__ = ["RosterRepo", "Shift"]


@dataclass(frozen=True, slots=True)
class Shift:
    id: int
    staff_id: int
    username: str
    day: int
    start_minute: int
    end_minute: int

    def covers(self, day: int, minute: int) -> bool:
        """Whether this shift has someone on duty at `minute` of weekday `day`."""
        if self.end_minute > self.start_minute:
            return day == self.day and self.start_minute <= minute < self.end_minute
        if day == self.day:
            return minute >= self.start_minute
        return day == (self.day + 1) % 7 and minute < self.end_minute


class RosterRepo:
    def __init__(self, readers: Readers, writer: Writer) -> None:
        self._readers = readers
        self._writer = writer

    async def add(
        self, staff_id: int, day: int, start_minute: int, end_minute: int, at: datetime
    ) -> int:
        if not 0 <= day <= 6:
            raise InvalidRecordError(f"roster day {day} is not 0 (Monday) to 6 (Sunday)")
        if not 0 <= start_minute < 1440 or not 0 < end_minute <= 1440:
            raise InvalidRecordError("a roster shift's times must lie within one day")
        if start_minute == end_minute:
            raise InvalidRecordError(
                "a roster shift must not start and end at the same time", code="shift_empty"
            )
        now = to_micros(at, "RosterRepo.add at")

        async def job(tx: Tx) -> int:
            row = await tx.fetchone(
                "INSERT INTO roster (staff_id, day, start_minute, end_minute, created_at)"
                " VALUES (?, ?, ?, ?, ?) RETURNING id",
                (staff_id, day, start_minute, end_minute, now),
            )
            assert row is not None
            return int(row[0])

        return await self._writer.run("roster.add", job)

    async def remove(self, shift_id: int, *, office_id: int | None = None) -> None:
        """Removes a shift (only one of `office_id`'s staff when given)."""

        async def job(tx: Tx) -> None:
            removed = await tx.execute(
                "DELETE FROM roster WHERE id = ? AND (? OR staff_id IN"
                " (SELECT id FROM staff WHERE office_id = ?))",
                (shift_id, office_id is None, office_id or 0),
            )
            if removed == 0:
                raise NotFoundError(f"no roster shift with id {shift_id}")

        await self._writer.run("roster.remove", job)

    async def shifts(self, *, office_id: int | None = None) -> list[Shift]:
        """Every shift of active staff (of one office with `office_id`), by day and start."""
        rows = await self._readers.fetchall(
            "SELECT r.id, r.staff_id, s.username, r.day, r.start_minute, r.end_minute"
            " FROM roster r JOIN staff s ON s.id = r.staff_id WHERE s.active = 1"
            " AND (s.office_id = ? OR ?) ORDER BY r.day, r.start_minute, s.username",
            (office_id or 0, office_id is None),
            what="roster.shifts",
        )
        return [
            Shift(int(r[0]), int(r[1]), str(r[2]), int(r[3]), int(r[4]), int(r[5])) for r in rows
        ]

    async def on_duty(self, day: int, minute: int) -> set[int]:
        """Staff ids on duty at this office weekday and minute."""
        return {s.staff_id for s in await self.shifts() if s.covers(day, minute)}
