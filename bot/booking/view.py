"""One family's booking situation at one moment, and what follows from it, without I/O.

Built from a `BookingSnapshot` read just before a turn, a `BookingView` answers
the flow engine's questions (which modes, days and times to offer; the booking
code and time to show) and turns the booking flow's effects into the storage
change to commit with the turn: which counsellors may take the chosen time, in
the order the family should get them, and which reminders to queue.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from functools import cached_property

from bot.booking.calendar import closed_days, national_holidays
from bot.booking.reminders import reminders_for
from bot.booking.slots import Slot, SlotRules, candidates, free_slots, start_times
from bot.booking.timefmt import format_day, format_when
from bot.config import BookingSettings
from bot.core.texts import BotTexts
from flows.exchange import Calendar, ClosedDay, Effect, Option, OptionSource
from flows.model import Value
from storage.booking.records import (
    MODES,
    BookingOp,
    BookingSnapshot,
    CancelBooking,
    ConfirmAttendance,
    ConfirmHold,
    HoldSlot,
    ReleaseHold,
)
from storage.records import URGENCIES

__all__ = [
    "MAX_TIMES",
    "SOONEST",
    "BookingView",
    "Decision",
    "all_modes",
    "mode_options",
    "parse_slot",
    "slot_value",
]

SOONEST = "soonest"
"""The day value that asks for the earliest times on any day (offered to urgent cases)."""
MAX_TIMES = 8
"""Choice lists stay short enough for a channel (10 at most, with the flow's own choices);
every free day is offered, and the flow engine shows them a page at a time."""
HOLIDAYS_AHEAD = timedelta(days=400)
"""How far ahead holidays are named when a family asks for a day beyond the horizon."""
SOONEST_TIMES = 5


def slot_value(moment: datetime) -> str:
    """A time as a choice value: UTC, to the minute (`2026-12-07T01:00Z`)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ")


def parse_slot(value: str) -> datetime | None:
    """The time a choice value stands for; None for anything else."""
    try:
        parsed = datetime.strptime(value.strip(), "%Y-%m-%dT%H:%MZ")
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Decision:
    """What a turn's booking effects come to: a change to commit, or "that time is gone"."""

    op: BookingOp | None = None
    taken: bool = False


def rules_from(settings: BookingSettings) -> SlotRules:
    return SlotRules(
        slot_minutes=settings.slot_minutes,
        lead=timedelta(hours=settings.lead_hours),
        horizon_days=settings.horizon_days,
        urgent_share=settings.urgent_share,
        urgent_release=timedelta(hours=settings.urgent_release_hours),
    )


def mode_options(modes: Sequence[str], texts: BotTexts, language: str) -> list[Option]:
    """The consultation modes as the family sees them (the known ones, in this order)."""
    return [Option(m, texts.get(f"booking.mode.{m}", language)) for m in modes if m in MODES]


def all_modes(modes: Sequence[str], texts: BotTexts) -> OptionSource:
    """The booking modes as offered when each has a free time (for measuring the matcher)."""

    def source(name: str, variables: Mapping[str, Value], language: str) -> Sequence[Option]:
        return mode_options(modes, texts, language) if name == "booking_modes" else ()

    return source


@dataclass(frozen=True)
class BookingView:
    snapshot: BookingSnapshot
    settings: BookingSettings
    tz: tzinfo
    now: datetime
    texts: BotTexts
    pending_urgency: str | None = None  # from a case this very turn opens or raises

    @cached_property
    def _free(self) -> list[Slot]:
        """The free times over the horizon, worked out when a turn first asks (most
        booking turns never do: a menu, a confirmation, a cancellation)."""
        today = self.now.astimezone(self.tz).date()
        last = today + timedelta(days=self.settings.horizon_days)
        closed = closed_days(today, last, (c.day for c in self.snapshot.closures))
        return list(
            free_slots(
                self.snapshot.hours,
                tz=self.tz,
                closed=closed,
                rules=rules_from(self.settings),
                busy=self.snapshot.busy,
                now=self.now,
                urgent=self.urgent,
            )
        )

    # who the family is ------------------------------------------------------------

    @property
    def urgency(self) -> str:
        """The family's most urgent case urgency (open, or opened this turn); else biasa."""
        found = [u for u in (self.snapshot.urgency, self.pending_urgency) if u in URGENCIES]
        return max(found, key=URGENCIES.index) if found else "biasa"

    @property
    def urgent(self) -> bool:
        return self.urgency in ("segera", "darurat")

    # options for the flow ----------------------------------------------------------

    def free(self, mode: str | None = None) -> list[Slot]:
        if mode is None:
            return list(self._free)
        return [s for s in self._free if mode in s.modes]

    def options(self, name: str, variables: Mapping[str, Value], language: str) -> list[Option]:
        """The choices for `booking_modes`, `booking_days` or `booking_times`."""
        mode = str(variables.get("booking_mode", ""))
        if name == "booking_modes":
            offered = [m for m in self.settings.modes if self.free(m)]
            return mode_options(offered, self.texts, language)
        if name == "booking_days":
            days = sorted({s.starts_at.astimezone(self.tz).date() for s in self.free(mode)})
            found = [Option(d.isoformat(), format_day(d, language), d.isoformat()) for d in days]
            if self.urgent and found:
                found.insert(0, Option(SOONEST, self.texts.get("booking.soonest", language)))
            return found
        if name == "booking_times":
            day = str(variables.get("booking_day", ""))
            times = self.times(mode, day)
            return [
                Option(
                    slot_value(t),
                    format_when(t, self.tz, language),
                    t.astimezone(self.tz).strftime("%Y-%m-%dT%H:%M"),
                )
                for t in times
            ]
        return []

    def calendar(self, language: str) -> Calendar:
        """The office's days as the flow engine needs them to answer a typed day honestly:
        the weekdays with hours, holidays (named in `language`) and office closures."""
        today = self.now.astimezone(self.tz).date()
        holidays = national_holidays(today, today + HOLIDAYS_AHEAD, language)
        closed = [ClosedDay(day, "holiday", name) for day, name in holidays.items()]
        closed += [
            ClosedDay(c.day, "closure") for c in self.snapshot.closures if c.day not in holidays
        ]
        return Calendar(
            today=today,
            last=today + timedelta(days=self.settings.horizon_days),
            open_weekdays=frozenset(h.weekday for h in self.snapshot.hours),
            closed=tuple(sorted(closed, key=lambda c: c.day)),
        )

    def times(self, mode: str, day: str) -> list[datetime]:
        slots = self.free(mode)
        if day == SOONEST:
            return start_times(slots)[:SOONEST_TIMES]
        try:
            wanted = date.fromisoformat(day)
        except ValueError:
            return []
        return start_times(s for s in slots if s.starts_at.astimezone(self.tz).date() == wanted)[
            :MAX_TIMES
        ]

    def values(self, language: str) -> dict[str, str]:
        """The booking context keys for this family (present only when there is a booking)."""
        found: dict[str, str] = {}
        for prefix, booking in (("booking", self.snapshot.upcoming), ("hold", self.snapshot.hold)):
            if booking is None:
                continue
            found[f"{prefix}_code"] = booking.code
            found[f"{prefix}_when"] = format_when(booking.starts_at, self.tz, language)
            found[f"{prefix}_mode"] = self.texts.get(f"booking.mode.{booking.mode}", language)
            found[f"{prefix}_counsellor"] = self.snapshot.staff_name(booking.staff_id) or "-"
        return found

    # effects into storage changes ---------------------------------------------------

    def decide(
        self,
        effects: Sequence[Effect],
        *,
        contact_id: int,
        channel: str,
        language: str,
        context: Mapping[str, str],
    ) -> Decision:
        """The storage change for the turn's booking effects (the first one counts)."""
        for effect in effects:
            if effect.name == "hold_slot":
                return self._hold(effect)
            if effect.name == "confirm_booking":
                return self._confirm(effect, contact_id, channel, language, context)
            if effect.name == "release_hold":
                return Decision(ReleaseHold())
            if effect.name == "cancel_booking":
                upcoming = self.snapshot.upcoming
                return Decision(CancelBooking(upcoming.id) if upcoming else None)
            if effect.name == "confirm_attendance":
                upcoming = self.snapshot.upcoming
                return Decision(ConfirmAttendance(upcoming.id) if upcoming else None)
        return Decision()

    def _hold(self, effect: Effect) -> Decision:
        mode = effect.param("mode")
        starts = parse_slot(effect.param("slot"))
        if starts is None or mode not in MODES:
            return Decision(taken=True)
        free = [s for s in self.free(mode) if s.starts_at == starts]
        chosen = candidates(
            free, starts, known_staff=self.snapshot.known_staff, load=self.snapshot.load
        )
        if not chosen:
            return Decision(taken=True)
        return Decision(
            HoldSlot(
                mode=mode,
                starts_at=starts,
                ends_at=free[0].ends_at,
                urgency=self.urgency,
                candidates=chosen,
                expires_at=self.now + timedelta(minutes=self.settings.hold_minutes),
                detail=effect.param("detail").strip()[:500],
            )
        )

    def _confirm(
        self,
        effect: Effect,
        contact_id: int,
        channel: str,
        language: str,
        context: Mapping[str, str],
    ) -> Decision:
        hold = self.snapshot.hold
        starts = parse_slot(effect.param("slot"))
        if hold is None or (starts is not None and starts != hold.starts_at):
            return Decision(taken=True)
        reminders = reminders_for(
            hold,
            now=self.now,
            tz=self.tz,
            language=language,
            texts=self.texts,
            wording=self.settings.reminder_wording,
            contact_id=contact_id,
            channel=channel,
            context=context,
        )
        return Decision(ConfirmHold(hold.starts_at, reminders))
