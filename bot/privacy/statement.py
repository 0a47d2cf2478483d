"""What an erasure erased, told to the person in the reply that confirms it.

A person who deletes their data is owed an account of what went: how many of
their messages and answers, which cases, and each booking still to come, which
the erasure cancels (its time is freed for another family; the counsellor sees a
cancellation and nothing of who it was). `render_statement` is pure: the data
read just before the turn commits, the words, out comes one reply. `fulfil_erasure`
reads the data and puts the statement where the flow emitted `delete_data`.
"""

from __future__ import annotations

import dataclasses
import logging
from datetime import datetime

from bot.config import Config
from bot.core.texts import BotTexts
from bot.core.turns import Reply, TurnPlan
from bot.privacy.words import Words
from flows.library import FlowLibrary
from flows.model import Value
from storage.errors import StorageError
from storage.privacy.repo import SubjectData
from storage.records import InboxRow
from storage.store import Store

__all__ = ["fulfil_erasure", "render_statement"]

log = logging.getLogger(__name__)


def render_statement(
    data: SubjectData, answers: tuple[tuple[str, Value], ...], *, words: Words, now: datetime
) -> str:
    """One reply: what was deleted, item by item, bookings included."""

    def say(key: str, **extra: str) -> str:
        return words.say(f"erased.{key}", **extra)

    lines = [say("intro")]
    lines.append("• " + say("messages", count=str(len(data.messages))))
    said = words.answers(answers)
    if said:
        lines.append("• " + say("answers", count=str(len(said))))
    if data.consents:
        lines.append("• " + say("consents"))
    if data.cases:
        codes = ", ".join(case.code for case in data.cases)
        lines.append("• " + say("cases", count=str(len(data.cases)), codes=codes))
    for booking in data.bookings:
        if booking.status == "held":
            continue  # a time being chosen: let go, nothing was booked
        at, mode, _ = words.booking(booking)
        upcoming = booking.status == "confirmed" and booking.ends_at > now
        key = "booking_cancelled" if upcoming else "booking_past"
        lines.append("• " + say(key, code=booking.code, when=at, mode=mode))
    if data.missed:
        lines.append("• " + say("missed", count=str(len(data.missed))))
    lines.append("• " + say("account"))
    return "\n".join(lines) + "\n\n" + say("outro")


async def fulfil_erasure(
    store: Store,
    plan: TurnPlan,
    row: InboxRow,
    *,
    texts: BotTexts,
    library: FlowLibrary,
    config: Config,
    now: datetime,
) -> TurnPlan:
    """The plan with the statement of what the erasure deletes, where the flow asked for it.

    If the data cannot be read the erasure still happens; the flow's own words say it.
    """
    try:
        data = await store.privacy.subject(row.contact_id)
    except StorageError as exc:
        log.error("contact %s: erasure statement not read (%s)", row.contact_id, type(exc).__name__)
        return plan
    if data is None:
        return plan
    language = plan.state.language
    words = Words(texts, library, language, config.context_values(language), config.office.tz)
    statement = render_statement(data, plan.state.vars, words=words, now=now)
    at = min(plan.erase_at, len(plan.replies))
    replies = (*plan.replies[:at], Reply(statement), *plan.replies[at:])
    return dataclasses.replace(plan, replies=replies)
