"""Free consultation times, computed without I/O from hours, closures and bookings.

A counsellor's weekly hours are cut into slots of `slot_minutes` from the start
of each block, in the office's time zone. Closed days (national holidays and
office closures) have none. A family sees only slots that start at least
`lead` from now and on a day no more than `horizon_days` ahead.

A share of each day's slots is held back for urgent (`segera`) cases: the
earliest ones of the day, across all counsellors, rounded up so that any share
above zero keeps at least one. Urgent families may take them and are offered
the earliest times first; for everyone else a held-back slot opens only when it
is about to go unused (`urgent_release` before it starts).
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import lru_cache

from storage.booking.records import WeeklyHours

__all__ = [
    "Busy",
    "Slot",
    "SlotRules",
    "candidates",
    "day_grid",
    "free_slots",
    "start_times",
]

Busy = tuple[int, datetime, datetime]
"""A counsellor (staff id) taken from one moment to another (a live booking)."""


@dataclass(frozen=True, slots=True)
class SlotRules:
    slot_minutes: int = 60
    lead: timedelta = timedelta(hours=2)
    horizon_days: int = 14
    urgent_share: float = 0.25
    urgent_release: timedelta = timedelta(hours=3)


@dataclass(frozen=True, slots=True)
class Slot:
    """One counsellor's time, in UTC; `held_back` marks a slot kept for urgent cases."""

    staff_id: int
    starts_at: datetime
    ends_at: datetime
    modes: frozenset[str]
    held_back: bool = False


def _at(day: date, minute: int, tz: tzinfo) -> datetime:
    midnight = datetime.combine(day, time(0), tzinfo=tz)
    return (midnight + timedelta(minutes=minute)).astimezone(UTC)


def day_grid(hours: Iterable[WeeklyHours], day: date, tz: tzinfo, rules: SlotRules) -> list[Slot]:
    """Every slot of one office-local day (busy or not), the earliest held back for urgency."""
    return list(_grid(tuple(hours), day, tz, rules))


@lru_cache(maxsize=1024)
def _grid(
    hours: tuple[WeeklyHours, ...], day: date, tz: tzinfo, rules: SlotRules
) -> tuple[Slot, ...]:
    """`day_grid`, remembered: a pure function of values that change rarely (the hours,
    the rules) and a day, asked for again by every booking turn for two weeks ahead."""
    step = rules.slot_minutes
    found: list[tuple[int, int, frozenset[str]]] = []  # (minute, staff, modes)
    for block in hours:
        if block.weekday != day.weekday():
            continue
        start = block.start_minute
        while start + step <= block.end_minute:
            found.append((start, block.staff_id, block.modes))
            start += step
    found.sort(key=lambda item: (item[0], item[1]))
    kept = math.ceil(len(found) * rules.urgent_share - 1e-9) if rules.urgent_share > 0 else 0
    return tuple(
        Slot(staff, _at(day, minute, tz), _at(day, minute + step, tz), modes, held_back=i < kept)
        for i, (minute, staff, modes) in enumerate(found)
    )


class _Taken:
    """Each counsellor's busy intervals as sorted timestamps, for a quick overlap test."""

    def __init__(self, busy: Sequence[Busy]) -> None:
        by_staff: dict[int, list[tuple[float, float]]] = {}
        for staff, start, end in busy:
            by_staff.setdefault(staff, []).append((start.timestamp(), end.timestamp()))
        self._ends: dict[int, list[float]] = {}
        self._starts: dict[int, list[float]] = {}
        for staff, spans in by_staff.items():
            spans.sort(key=lambda span: span[1])
            self._ends[staff] = [end for _, end in spans]
            self._starts[staff] = [start for start, _ in spans]

    def overlaps(self, slot: Slot) -> bool:
        ends = self._ends.get(slot.staff_id)
        if not ends:
            return False
        start, end = slot.starts_at.timestamp(), slot.ends_at.timestamp()
        # One counsellor's live bookings never overlap (the database sees to it), so
        # sorted by end they are sorted by start too: the first one ending after the
        # slot starts is the only one that can overlap it.
        first = bisect.bisect_right(ends, start)
        return first < len(ends) and self._starts[slot.staff_id][first] < end


def free_slots(
    hours: Sequence[WeeklyHours],
    *,
    tz: tzinfo,
    closed: Collection[date],
    rules: SlotRules,
    busy: Sequence[Busy],
    now: datetime,
    urgent: bool = False,
    mode: str | None = None,
) -> list[Slot]:
    """The slots a family may book now, earliest first (ties: lower staff id first)."""
    today = now.astimezone(tz).date()
    earliest = now + rules.lead
    taken = _Taken(busy)
    grid_hours = tuple(hours)
    found: list[Slot] = []
    for offset in range(rules.horizon_days + 1):
        day = today + timedelta(days=offset)
        if day in closed:
            continue
        for slot in _grid(grid_hours, day, tz, rules):
            if slot.starts_at < earliest or taken.overlaps(slot):
                continue
            if mode is not None and mode not in slot.modes:
                continue
            if slot.held_back and not urgent and slot.starts_at >= now + rules.urgent_release:
                continue
            found.append(slot)
    return found


def start_times(slots: Iterable[Slot]) -> list[datetime]:
    """The distinct start times among `slots`, earliest first (a family picks a time,
    not a counsellor)."""
    return sorted({s.starts_at for s in slots})


def candidates(
    slots: Iterable[Slot],
    starts_at: datetime,
    *,
    known_staff: Sequence[int] = (),
    load: Sequence[tuple[int, int]] = (),
) -> tuple[int, ...]:
    """Counsellors free at `starts_at`, best first: one who already knows the family
    (latest first), then the least loaded, then the lowest id."""
    free = {s.staff_id for s in slots if s.starts_at == starts_at}
    booked = dict(load)

    def rank(staff_id: int) -> tuple[int, int, int]:
        knows = known_staff.index(staff_id) if staff_id in known_staff else len(known_staff)
        return (knows, booked.get(staff_id, 0), staff_id)

    return tuple(sorted(free, key=rank))
