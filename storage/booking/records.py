"""The values booking storage takes and gives: hours, closures, bookings, and the
booking changes a turn commits together with its replies.

Times are aware UTC datetimes, as everywhere in storage; weekly hours are in the
office's own time zone (minutes since local midnight), because that is how a
counsellor's week is written down.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from storage.errors import InvalidRecordError
from storage.records import URGENCIES, NewOutbound, OutboxRef

__all__ = [
    "BOOKING_STATUSES",
    "LIVE_STATUSES",
    "MODES",
    "OUTCOMES",
    "REF_KIND",
    "REMINDER_KINDS",
    "Booking",
    "BookingOp",
    "BookingSnapshot",
    "CancelBooking",
    "Closure",
    "ConfirmAttendance",
    "ConfirmHold",
    "HoldSlot",
    "ReleaseHold",
    "Reminder",
    "WeeklyHours",
    "reminder_ref",
]

MODES = ("kantor", "telepon", "chat", "kunjungan")
"""Consultation modes: at the office, by phone, by chat through the bot, a home visit."""
BOOKING_STATUSES = ("held", "confirmed", "cancelled", "attended", "no_show")
LIVE_STATUSES = ("held", "confirmed")
OUTCOMES = ("attended", "no_show")
REMINDER_KINDS = ("day_before", "two_hours", "no_show")
"""Outbox rows a booking may have waiting: two reminders, and the no-show follow-up."""


REF_KIND = "booking"
"""The kind of a booking row's `OutboxRef`: `booking:<booking id>:<reminder kind>`."""


def reminder_ref(booking_id: int, kind: str) -> OutboxRef:
    """The outbox `ref` of one of a booking's rows: `booking:12:day_before`."""
    if kind not in REMINDER_KINDS:
        raise InvalidRecordError(f"unknown booking reminder kind {kind!r}")
    return OutboxRef(REF_KIND, booking_id, kind)


def _aware(value: datetime, what: str) -> None:
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        raise InvalidRecordError(f"{what} is a naive datetime; storage needs timezone-aware UTC")


def _mode(mode: str, what: str) -> None:
    if mode not in MODES:
        raise InvalidRecordError(f"{what} {mode!r} is not one of {', '.join(MODES)}")


@dataclass(frozen=True, slots=True)
class WeeklyHours:
    """A counsellor's regular hours on one weekday (0 = Monday), in office-local minutes."""

    id: int
    staff_id: int
    weekday: int
    start_minute: int
    end_minute: int
    modes: frozenset[str]


@dataclass(frozen=True, slots=True)
class Closure:
    day: date
    reason: str


@dataclass(frozen=True, slots=True)
class Booking:
    id: int
    code: str
    contact_id: int | None
    staff_id: int
    mode: str
    urgency: str
    starts_at: datetime
    ends_at: datetime
    status: str
    hold_expires_at: datetime | None
    created_at: datetime
    family_confirmed: bool = False

    @property
    def live(self) -> bool:
        return self.status in LIVE_STATUSES


@dataclass(frozen=True, slots=True)
class BookingSnapshot:
    """Everything slot arithmetic needs for one family, read in one go.

    `busy` holds the live bookings of every counsellor (holds that ran out are
    left out; the family's own hold too, so they may pick that time again).
    `known_staff` lists the counsellors who met this family before, latest first.
    """

    hours: tuple[WeeklyHours, ...]
    staff_names: tuple[tuple[int, str], ...]
    closures: tuple[Closure, ...]
    busy: tuple[tuple[int, datetime, datetime], ...]
    load: tuple[tuple[int, int], ...]  # staff id -> live bookings ahead
    known_staff: tuple[int, ...]
    hold: Booking | None  # the family's latest hold (even one whose time ran out)
    upcoming: Booking | None  # the family's next confirmed booking
    urgency: str | None  # of the family's open case

    def staff_name(self, staff_id: int) -> str:
        for sid, name in self.staff_names:
            if sid == staff_id:
                return name
        return ""


@dataclass(frozen=True, slots=True)
class Reminder:
    """A row to send later about a booking; storage adds the `ref` once the id is known."""

    kind: str
    message: NewOutbound

    def __post_init__(self) -> None:
        reminder_ref(0, self.kind)


@dataclass(frozen=True, slots=True)
class HoldSlot:
    """Hold a time for the family with the first free counsellor of `candidates`."""

    mode: str
    starts_at: datetime
    ends_at: datetime
    urgency: str
    candidates: tuple[int, ...]  # staff ids, most preferred first
    expires_at: datetime
    detail: str = ""  # the phone number to call or the address to visit

    def __post_init__(self) -> None:
        _mode(self.mode, "HoldSlot.mode")
        if self.urgency not in URGENCIES:
            raise InvalidRecordError(f"HoldSlot.urgency {self.urgency!r} is not an urgency")
        for value, what in ((self.starts_at, "starts_at"), (self.ends_at, "ends_at")):
            _aware(value, f"HoldSlot.{what}")
        _aware(self.expires_at, "HoldSlot.expires_at")
        if self.ends_at <= self.starts_at:
            raise InvalidRecordError("HoldSlot.ends_at must be after starts_at")


@dataclass(frozen=True, slots=True)
class ConfirmHold:
    """Confirm the family's hold at `starts_at`; it replaces their other upcoming booking."""

    starts_at: datetime
    reminders: tuple[Reminder, ...] = ()

    def __post_init__(self) -> None:
        _aware(self.starts_at, "ConfirmHold.starts_at")


@dataclass(frozen=True, slots=True)
class ReleaseHold:
    """Let the family's held time go (they chose not to book it)."""


@dataclass(frozen=True, slots=True)
class CancelBooking:
    """Cancel the family's confirmed booking and withdraw its reminders."""

    booking_id: int


@dataclass(frozen=True, slots=True)
class ConfirmAttendance:
    """The family answered a reminder: they will come."""

    booking_id: int


BookingOp = HoldSlot | ConfirmHold | ReleaseHold | CancelBooking | ConfirmAttendance
