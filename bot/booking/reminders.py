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
from dataclasses import replace
from datetime import datetime, timedelta, tzinfo

from bot.booking import BOOKING_FLOW
from bot.booking.timefmt import format_time, format_when
from bot.channels.base import Channel, Outbound, Template
from bot.config import Config
from bot.core.outbox import OutboxSender
from bot.core.texts import BotTexts
from bot.offices.profiles import OfficeConfigs
from flows.exchange import Input
from flows.matching import normalize
from storage.booking.records import REF_KIND, Booking, Reminder
from storage.records import NewOutbound, OutboxRef, OutboxRow
from storage.store import Store

__all__ = [
    "MIN_NOTICE",
    "REMINDER_PRIORITY",
    "TEMPLATE_PURPOSES",
    "ReminderGate",
    "ReminderTemplates",
    "register",
    "reminder_reply",
    "reminders_for",
]

REMINDER_PRIORITY = 5
MIN_NOTICE = timedelta(hours=1)
"""A reminder due sooner than this after the booking is made is not worth sending."""
OFFSETS = (("day_before", timedelta(days=1)), ("two_hours", timedelta(hours=2)))
TEMPLATE_PURPOSES = {"day_before": "reminder", "two_hours": "reminder", "no_show": "follow_up"}
"""Which approved template a booking row goes as, by its kind, where free text may not."""

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
        if row.ref is None or row.ref.kind != REF_KIND:
            return None
        if await self._store.bookings.live_handoff(row.contact_id):
            return "live_handoff"
        consent = await self._store.consents.latest(row.contact_id)
        if consent is None or not consent.given:
            return "no_consent"  # withdrawn since: nothing more is sent about the booking
        if row.ref.action == "no_show":
            return None
        booking = await self._store.bookings.get(row.ref.id)
        if booking is None or booking.status != "confirmed":
            return "booking_closed"
        return None


class ReminderTemplates:
    """Delivers a booking row with what a template needs where free text may not go
    (WhatsApp outside its window): the reminder's time, or the missed booking's day,
    worded in every language of the office."""

    def __init__(
        self,
        store: Store,
        texts: BotTexts,
        *,
        tz: tzinfo,
        languages: tuple[str, ...],
        offices: OfficeConfigs | None = None,
    ) -> None:
        self._store = store
        self._texts = texts
        self._tz = tz
        self._languages = languages
        self._offices = offices  # each family's office's time zone (several offices)

    async def __call__(self, row: OutboxRow, channel: Channel, message: Outbound) -> str | None:
        template = None if row.ref is None else await self.template(row.ref)
        return await channel.send(replace(message, template=template))

    async def template(self, ref: OutboxRef) -> Template | None:
        if ref.kind != REF_KIND or ref.action not in TEMPLATE_PURPOSES:
            return None
        purpose = TEMPLATE_PURPOSES[ref.action]
        booking = await self._store.bookings.get(ref.id)
        if booking is None:
            return Template(purpose)  # nothing left to remind of: no variables
        tz = self._tz
        if self._offices is not None and booking.contact_id is not None:
            tz = (await self._offices.for_contact(booking.contact_id)).office.tz
        return Template(
            purpose,
            tuple(
                (language, (("1", self._when(ref.action, booking.starts_at, language, tz)),))
                for language in self._languages
            ),
        )

    def _when(self, kind: str, starts_at: datetime, language: str, tz: tzinfo) -> str:
        if kind == "no_show":
            return format_when(starts_at, tz, language)
        return self._texts.get(
            f"whatsapp.reminder_when.{kind}",
            language,
            time=format_time(starts_at, tz, language),
        )


def register(sender: OutboxSender, store: Store, texts: BotTexts, config: Config) -> None:
    """Booking rows (`booking:<id>:<kind>`) go through the gate, with their template."""
    templates = ReminderTemplates(
        store,
        texts,
        tz=config.office.tz,
        languages=config.languages,
        offices=OfficeConfigs(store, config) if config.offices else None,
    )
    sender.handle_refs(REF_KIND, gate=ReminderGate(store), deliver=templates)
