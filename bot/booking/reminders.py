"""Reminders: what they say, when they go, when they must not, and how a reply is read.

A confirmed booking gets two outbox rows with a due time (the day before and two
hours before), written in the same transaction as the confirmation, so a restart
loses none and a cancellation withdraws both. They are discreet by default: no
word about counselling or the problem, since others may read the phone.

At send time `ReminderGate` withdraws a booking's row when a counsellor is
handling the family live (`storage.booking.repo.LIVE_HANDOFF_CASE_STATUSES`), the
family has withdrawn consent, or the booking is no longer confirmed. A reply "1"
or "2" answers the reminder only when that reminder is the last thing the family
was sent (`BookingRepo.awaiting_reply`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta, tzinfo

from bot.booking import BOOKING_FLOW
from bot.booking.timefmt import format_time, format_when
from bot.core.texts import BotTexts
from flows.engine import Input
from flows.matching import normalize
from storage.booking.records import Booking, Reminder
from storage.records import NewOutbound, OutboxRow
from storage.store import Store

__all__ = [
    "MIN_NOTICE",
    "REMINDER_PRIORITY",
    "ReminderGate",
    "reminder_reply",
    "reminders_for",
]

REMINDER_PRIORITY = 5
MIN_NOTICE = timedelta(hours=1)
"""A reminder due sooner than this after the booking is made is not worth sending."""
OFFSETS = (("day_before", timedelta(days=1)), ("two_hours", timedelta(hours=2)))

YES_WORDS = frozenset({"1", "ya", "iya", "iyo", "konfirmasi", "confirm", "yes", "ok", "oke"})
CHANGE_WORDS = frozenset({"2", "ganti", "ganti waktu", "ubah", "change", "change the time"})


def reminders_for(
    booking: Booking,
    *,
    now: datetime,
    tz: tzinfo,
    language: str,
    texts: BotTexts,
    wording: str,
    contact_id: int,
    channel: str,
    context: Mapping[str, str],
) -> tuple[Reminder, ...]:
    """The reminder rows for a booking being confirmed now, in the family's language."""
    values = dict(context)
    values.update(
        time=format_time(booking.starts_at, tz, language),
        when=format_when(booking.starts_at, tz, language),
        mode=texts.get(f"booking.mode.{booking.mode}", language),
        code=booking.code,
    )
    options = (
        ("1", texts.get("booking.reminder.yes", language)),
        ("2", texts.get("booking.reminder.change", language)),
    )
    found: list[Reminder] = []
    for kind, before in OFFSETS:
        due = booking.starts_at - before
        if due < now + MIN_NOTICE:
            continue
        text = texts.get(f"booking.reminder.{wording}.{kind}", language, **values)
        message = NewOutbound(contact_id, channel, text, options, REMINDER_PRIORITY, due)
        found.append(Reminder(kind, message))
    return tuple(found)


def reminder_reply(text: str) -> str | None:
    """ "confirm" or "change" when a message could answer a reminder, else None."""
    said = normalize(text)
    if said in YES_WORDS:
        return "confirm"
    if said in CHANGE_WORDS:
        return "change"
    return None


def reply_input(meaning: str) -> Input:
    """Where a reminder's answer leads in the booking flow."""
    node = "remind_yes" if meaning == "confirm" else "remind_change"
    return Input("interrupt", flow=BOOKING_FLOW, node=node)


class ReminderGate:
    """Checked by the outbox sender before a booking row goes out: None to send it,
    or the code it is withdrawn with."""

    def __init__(self, store: Store) -> None:
        self._store = store

    async def __call__(self, row: OutboxRow) -> str | None:
        if row.ref is None or not row.ref.startswith("booking:"):
            return None
        if await self._store.bookings.live_handoff(row.contact_id):
            return "live_handoff"
        consent = await self._store.consents.latest(row.contact_id)
        if consent is None or not consent.given:
            return "no_consent"  # withdrawn since: nothing more is sent about the booking
        _, booking_id, kind = row.ref.split(":", 2)
        if kind == "no_show" or not booking_id.isdigit():
            return None
        booking = await self._store.bookings.get(int(booking_id))
        if booking is None or booking.status != "confirmed":
            return "booking_closed"
        return None
