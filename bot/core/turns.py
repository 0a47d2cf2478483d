"""What one inbound message leads to: the `TurnPlan` a turn handler decides, and its replies.

A plan holds the new session state, the replies (with their priority) and the
changes to cases, language and consent that the pipeline writes in one
transaction. The flow step that decides most plans is `bot.flowhost.turn`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from flows.exchange import Effect, FlowError
from flows.state import SessionState
from storage.privacy.audit import AuditEntry
from storage.records import CaseOpen, ConsentRecord

if TYPE_CHECKING:
    from bot.config import Config
    from bot.core.texts import BotTexts

__all__ = [
    "MERGED_REPLY_CHARS",
    "PRIORITY_ALERT",
    "PRIORITY_ROUTINE",
    "PRIORITY_URGENT",
    "Rated",
    "Reply",
    "TurnPlan",
    "Unclear",
    "empty_state",
    "fallback_plan",
    "merge_replies",
]

# Outbox priorities, lowest first. A counsellor's alert goes before a family's crisis
# reply: in a flood the sends wait for Telegram's 30 a second, and one alert (a digest)
# brings a person to up to 30 families, while each family's reply waits one send for it.
PRIORITY_ALERT = 0
PRIORITY_URGENT = 1
PRIORITY_ROUTINE = 5
# A turn's replies are joined up to this many characters (merge_replies): below every
# channel's limit for one message (WhatsApp's 1,024 for a text with buttons is the least).
MERGED_REPLY_CHARS = 1000


@dataclass(frozen=True, slots=True)
class Reply:
    text: str
    options: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class Rated:
    """A rating a family gave, with the codes of the case it was about (when known)."""

    rating: int
    category: str | None = None
    urgency: str | None = None


@dataclass(frozen=True, slots=True)
class Unclear:
    """A typed answer a question did not take (bot/flowhost/missed.py): the question, a
    close call or not, and the scrubbed words only for a family who consented."""

    flow: str
    node: str
    close: bool = False
    words: str | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True)
class TurnPlan:
    state: SessionState
    replies: tuple[Reply, ...]
    priority: int
    cases: tuple[CaseOpen, ...] = ()
    language: str | None = None
    consent: ConsentRecord | None = None
    errors: tuple[FlowError, ...] = ()
    booking: tuple[Effect, ...] = ()  # the booking flow's effects, for bot.booking.host
    forget_text: bool = False
    # Rights exercised in the chat (flows/library/privacy.toml; bot/privacy/worker.py):
    # the person's data goes out at reply index `export_at`; an erasure the person
    # confirmed (with what it erased said at reply `erase_at`); a quick exit.
    export: bool = False
    export_at: int = 0
    erase: bool = False
    erase_at: int = 0  # the statement of what was erased goes before reply `erase_at`
    quick_exit: bool = False
    audit: tuple[AuditEntry, ...] = ()
    rating: Rated | None = None  # a closed case's rating, counted once (bot/flowhost/ratings.py)
    unclear: tuple[Unclear, ...] = ()  # answers not understood (bot/flowhost/missed.py)
    office: str | None = None  # the office code the family chose (bot/offices/effects.py)


def merge_replies(replies: tuple[Reply, ...], limit: int = MERGED_REPLY_CHARS) -> tuple[Reply, ...]:
    """Joins a turn's consecutive replies into as few messages as fit, in order.

    A welcome, a note and the question after it arrive as one message: the family
    reads one answer instead of a burst, Telegram's pace of one message a second
    per chat no longer spreads a turn over seconds (a crisis reply with its
    hotlines arrives whole, at once), and every send saved is CPU and rate-limit
    budget saved in a flood. Choices stay with their question: a reply with
    choices ends a message, since its buttons belong under its own words. Texts
    are joined with a blank line while the result stays within `limit`
    characters; a longer text stays its own message (the channel splits it).
    """
    merged: list[Reply] = []
    for reply in replies:
        last = merged[-1] if merged else None
        if last is not None and not last.options and len(last.text) + 2 + len(reply.text) <= limit:
            merged[-1] = Reply(f"{last.text}\n\n{reply.text}", reply.options)
        else:
            merged.append(reply)
    return tuple(merged)


def fallback_plan(
    texts: BotTexts, config: Config, state: SessionState | None, urgent: bool
) -> TurnPlan:
    """A reply and a case for a human when the bot itself failed: nobody waits silently."""
    language = state.language if state is not None else config.languages[0]
    keep = state if state is not None else SessionState(language=language, stack=(), vars=())
    text = texts.get("internal_error", language, **config.context_values(language))
    return TurnPlan(
        state=keep,
        replies=(Reply(text),),
        priority=PRIORITY_URGENT if urgent else PRIORITY_ROUTINE,
        cases=(CaseOpen(category="lainnya", urgency="darurat" if urgent else "segera"),),
    )


def empty_state(language: str) -> SessionState:
    """A state with no conversation under way, for contacts who have sent nothing readable."""
    return SessionState(language=language, stack=(), vars=())
