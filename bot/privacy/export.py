""" "My data": what the service holds about a person, sent to them in readable form.

`render_export` is pure: the data, the words (bot/texts.toml) and a time zone
in, messages out, each short enough for any channel (WhatsApp allows 1600
characters). `fulfil_export` reads the data for a turn that asked for it and
puts the messages (or, when a case is flagged as a safety risk, only a note
to contact the office) where the flow emitted `export_data`, with an audit row
that commits together with the replies.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from datetime import datetime

from bot.config import Config
from bot.core.texts import BotTexts
from bot.core.turns import Reply, TurnPlan
from bot.privacy.words import Words
from flows.library import FlowLibrary
from flows.model import Value
from storage.errors import StorageError
from storage.privacy.audit import AuditEntry
from storage.privacy.repo import SubjectData
from storage.records import InboxRow
from storage.store import Store

__all__ = ["EXPORT_CHUNK_CHARS", "fulfil_export", "render_export", "split_messages"]

log = logging.getLogger(__name__)

EXPORT_CHUNK_CHARS = 1500
_TIME = "%d-%m-%Y %H.%M"


def split_messages(lines: Sequence[str], limit: int = EXPORT_CHUNK_CHARS) -> list[str]:
    """Packs lines into messages of at most `limit` characters, breaking between lines.

    A line longer than `limit` (a long message of theirs) is cut into pieces.
    """
    pieces: list[str] = []
    for line in lines:
        while len(line) > limit:
            pieces.append(line[:limit])
            line = line[limit:]
        pieces.append(line)
    messages: list[str] = []
    current = ""
    for piece in pieces:
        joined = piece if not current else f"{current}\n{piece}"
        if len(joined) <= limit:
            current = joined
            continue
        messages.append(current)
        current = piece
    if current:
        messages.append(current)
    # A section break that fell on a boundary must not leave a message blank-edged.
    return [m.strip("\n") for m in messages if m.strip()]


def render_export(
    data: SubjectData,
    answers: Sequence[tuple[str, Value]],
    *,
    words: Words,
    now: datetime,
    limit: int = EXPORT_CHUNK_CHARS,
    missed_days: int = 30,
) -> list[str]:
    """The person's data as messages, in their language and the office's time zone.

    Every item is said in words (`bot.privacy.words`): no code, variable name or
    value the bot uses inside reaches the family.
    """

    def say(key: str, **extra: str) -> str:
        return words.say(f"export.{key}", **extra)

    def when(at: datetime) -> str:
        return at.astimezone(words.tz).strftime(_TIME)

    none = say("none")
    lines = [
        say("intro", now=when(now)),
        "",
        say("account", since=when(data.created_at)),
        "",
        say("consents"),
    ]
    for consent in data.consents:
        key = (
            "consent_withdrawn"
            if consent.withdrawal
            else "consent_given"
            if consent.given
            else "consent_declined"
        )
        lines.append("• " + say(key, at=when(consent.at), version=consent.version))
    if not data.consents:
        lines.append(none)
    lines += ["", say("cases")]
    for case in data.cases:
        category, urgency, status = words.case(case)
        lines.append(
            "• "
            + say(
                "case",
                code=case.code,
                category=category,
                urgency=urgency,
                status=status,
                at=when(case.opened_at),
            )
        )
    if not data.cases:
        lines.append(none)
    lines += ["", say("bookings")]
    for booking in data.bookings:
        at, mode, status = words.booking(booking)
        line = say("booking", code=booking.code, when=at, mode=mode, status=status)
        if booking.detail:
            line += " " + say("booking_detail", detail=booking.detail)
        lines.append("• " + line)
    if not data.bookings:
        lines.append(none)
    lines += ["", say("answers")]
    lines += [f"• {line}" for line in words.answers(answers)] or [none]
    lines += ["", say("messages", count=str(len(data.messages)))]
    for message in data.messages:
        if message.kind == "text":
            body = message.text if message.text else say("not_kept")
        elif message.kind == "choice":
            label = words.pressed(message.text, answers) if message.text else None
            body = (
                say("pressed", value=label)
                if label
                else say("pressed_button")
                if message.text
                else say("not_kept")
            )
        elif message.kind == "start":
            body = say("started")
        else:
            body = say("not_text", kind=words.kind(message.kind))
        lines.append(f"• {when(message.at)}: {body}")
    if not data.messages:
        lines.append(none)
    if data.missed:
        lines += ["", say("missed", days=str(missed_days))]
        lines += [f"• {when(m.at)}: {m.text}" for m in data.missed]
    lines += ["", say("outro")]
    return split_messages(lines, limit)


async def fulfil_export(
    store: Store,
    plan: TurnPlan,
    row: InboxRow,
    *,
    texts: BotTexts,
    library: FlowLibrary,
    config: Config,
    now: datetime,
) -> TurnPlan:
    """The plan with the person's data (or the withheld note) where the flow asked for it."""
    language = plan.state.language
    values = config.context_values(language)
    actor = f"family:{row.contact_id}"
    subject = f"contact:{row.contact_id}"
    try:
        data = await store.privacy.subject(row.contact_id)
    except StorageError as exc:
        log.error("contact %s: export could not be read (%s)", row.contact_id, type(exc).__name__)
        data = None
    if data is None:
        messages = [texts.get("privacy.export.failed", language, **values)]
        entry = None
    elif data.withheld:
        messages = [texts.get("privacy.export.withheld", language, **values)]
        entry = AuditEntry(
            actor,
            "export_withheld",
            subject,
            "the person asked for their data; a case is flagged as a safety risk",
        )
    else:
        messages = render_export(
            data,
            plan.state.vars,
            words=Words(texts, library, language, values, config.office.tz),
            now=now,
            missed_days=config.retention.first_contact_days,
        )
        entry = AuditEntry(actor, "export", subject, "the person asked for their data in the chat")
    at = min(plan.export_at, len(plan.replies))
    replies = (*plan.replies[:at], *(Reply(m) for m in messages), *plan.replies[at:])
    audit = plan.audit if entry is None else (*plan.audit, entry)
    return dataclasses.replace(plan, replies=replies, audit=audit)
