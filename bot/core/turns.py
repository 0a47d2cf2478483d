"""What one inbound message leads to, decided without I/O.

Given the session state, the message and its crisis assessment, `plan_turn`
returns the new state, the replies (with their priority) and the changes to
cases, language and consent that the pipeline then writes in one transaction.
Keeping this pure makes the safety rules testable as tables.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from bot.booking import BOOKING_EFFECTS, BOOKING_FLOW
from bot.core.texts import BotTexts
from bot.flowhost.ratings import Rated, take_rating
from bot.safety import Assessment, Level
from flows.engine import Context, Effect, FlowError, Input, Message, step
from flows.library import FlowLibrary
from flows.matching import match_command
from flows.state import SessionState
from storage.privacy.audit import AuditEntry
from storage.records import CaseOpen, ConsentRecord

__all__ = [
    "CRISIS_FLOW",
    "PRIORITY_ALERT",
    "PRIORITY_ROUTINE",
    "PRIORITY_URGENT",
    "READABLE_KINDS",
    "MERGED_REPLY_CHARS",
    "SAFETY_CHECK_FLOW",
    "Reply",
    "TurnPlan",
    "merge_replies",
    "plan_turn",
]

log = logging.getLogger(__name__)

CRISIS_FLOW = "crisis"
SAFETY_CHECK_FLOW = "safety_check"
PRIVACY_FLOW = "privacy"  # its start node answers someone who withdrew consent
# Outbox priorities, lowest first. A counsellor's alert goes before a family's crisis
# reply: in a flood the sends wait for Telegram's 30 a second, and one alert (a digest)
# brings a person to up to 30 families, while each family's reply waits one send for it.
PRIORITY_ALERT = 0
PRIORITY_URGENT = 1
PRIORITY_ROUTINE = 5
READABLE_KINDS = frozenset({"text", "choice", "start"})
URGENCIES = ("biasa", "segera", "darurat")
# A turn's replies are joined up to this many characters (merge_replies): below every
# channel's limit for one message (WhatsApp's 1,024 for a text with buttons is the least).
MERGED_REPLY_CHARS = 1000
_CODE = re.compile(r"[a-z][a-z0-9_]{1,31}")
_VERSION = re.compile(r"[A-Za-z0-9_.-]{1,32}")


@dataclass(frozen=True, slots=True)
class Reply:
    text: str
    options: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class TurnPlan:
    state: SessionState
    replies: tuple[Reply, ...]
    priority: int
    cases: tuple[CaseOpen, ...] = ()
    language: str | None = None
    consent: ConsentRecord | None = None
    errors: tuple[FlowError, ...] = ()
    wants_booking: bool = False
    booking: tuple[Effect, ...] = ()  # the booking flow's effects, for bot.booking.host
    forget_text: bool = False
    # Rights exercised in the chat (flows/library/privacy.toml; bot/privacy/worker.py):
    # the person's data goes out at reply index `export_at`; an erasure the person
    # confirmed; a quick exit.
    export: bool = False
    export_at: int = 0
    erase: bool = False
    quick_exit: bool = False
    audit: tuple[AuditEntry, ...] = ()
    rating: Rated | None = None  # a closed case's rating, counted once (bot/flowhost/ratings.py)


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


def withdrawn(state: SessionState | None) -> bool:
    """True between a withdrawal of consent and the next answer to the consent question.

    Only while no conversation is under way: after `mulai` (or a start) the
    consent question is running and its answer must reach it.
    """
    return state is not None and state.ended and state.var("withdrawn") == "yes"


def is_command(library: FlowLibrary, kind: str, text: str) -> bool:
    """Whether a message is one of the global command words (they work for everyone)."""
    return kind == "text" and match_command(text, library.globals.commands) is not None


def empty_state(language: str) -> SessionState:
    """A state with no conversation under way, for contacts who have sent nothing readable."""
    return SessionState(language=language, stack=(), vars=())


def plan_turn(
    *,
    library: FlowLibrary,
    state: SessionState | None,
    kind: str,
    text: str,
    assessment: Assessment,
    ctx: Context,
    texts: BotTexts,
    max_chars: int,
    host_input: Input | None = None,
) -> TurnPlan:
    """Decides the whole response to one message.

    `host_input` is what the host has decided this message means when no safety
    rule applies first (a reply to a booking reminder, a time just taken).
    """
    language = state.language if state is not None else ctx.default_language
    if kind not in READABLE_KINDS:
        key = (
            f"unsupported.{kind}" if f"unsupported.{kind}" in texts.entries else "unsupported.other"
        )
        return TurnPlan(
            state=state if state is not None else empty_state(language),
            replies=(Reply(texts.get(key, language, **ctx.values)),),
            priority=PRIORITY_ROUTINE,
        )

    prefix: list[Reply] = []
    if kind == "text" and len(text) > max_chars:
        text = text[:max_chars]
        prefix.append(Reply(texts.get("too_long", language, limit=str(max_chars))))

    current = state.current_flow if state is not None and not state.ended else None
    inp: Input
    if assessment.level is Level.URGENT and current != CRISIS_FLOW:
        inp = Input(kind="interrupt", flow=CRISIS_FLOW)
    elif assessment.level is Level.CHECK and current not in (CRISIS_FLOW, SAFETY_CHECK_FLOW):
        inp = Input(kind="interrupt", flow=SAFETY_CHECK_FLOW)
    elif withdrawn(state) and kind != "start" and not is_command(library, kind, text):
        # Consent withdrawn: nothing is processed, only a short note with the way back.
        inp = Input(kind="interrupt", flow=PRIVACY_FLOW)
    elif host_input is not None:
        inp = host_input
    elif kind == "start":
        inp = Input(kind="start", text=text)
    elif kind == "choice":
        inp = Input(kind="choice", choice=text)
    else:
        inp = Input(kind="text", text=text)

    turn = step(library, state, inp, ctx)
    after, outputs = _into_booking(library, turn.state, turn.outputs, ctx)
    return _apply(after, outputs, prefix, assessment, texts, ctx)


def _into_booking(
    library: FlowLibrary,
    state: SessionState,
    outputs: tuple[Message | Effect | FlowError, ...],
    ctx: Context,
) -> tuple[SessionState, tuple[Message | Effect | FlowError, ...]]:
    """`offer_slots` (the end of triage, the menu's "book") leads into the booking flow."""
    offered = any(isinstance(o, Effect) and o.name == "offer_slots" for o in outputs)
    if not offered or not library.has_flow(BOOKING_FLOW):
        return state, outputs  # a flow set without booking: staff arrange the time
    booking = step(library, state, Input(kind="interrupt", flow=BOOKING_FLOW), ctx)
    kept = tuple(o for o in outputs if not (isinstance(o, Effect) and o.name == "offer_slots"))
    return booking.state, kept + booking.outputs


def _apply(
    state: SessionState,
    outputs: tuple[Message | Effect | FlowError, ...],
    prefix: list[Reply],
    assessment: Assessment,
    texts: BotTexts,
    ctx: Context,
) -> TurnPlan:
    replies = list(prefix)
    cases: list[CaseOpen] = []
    errors: list[FlowError] = []
    language: str | None = None
    consent: ConsentRecord | None = None
    wants_booking = False
    booking: list[Effect] = []
    handoff = False
    export_at: int | None = None
    erase = quick_exit = False
    rating: Rated | None = None
    for out in outputs:
        if isinstance(out, Message):
            replies.append(Reply(out.text, tuple((o.value, o.label) for o in out.options)))
        elif isinstance(out, FlowError):
            errors.append(out)
        elif out.name == "open_case":
            # Both are stored in plain text for reports, so only code-shaped values pass:
            # a flow that put a person's answer here must not leak it.
            urgency = out.param("urgency")
            if urgency not in URGENCIES:
                errors.append(FlowError("bad_urgency", "effect open_case: unknown urgency"))
                urgency = "segera"
            category = out.param("category")
            if not _CODE.fullmatch(category):
                errors.append(FlowError("bad_category", "effect open_case: not a category code"))
                category = "lainnya"
            cases.append(CaseOpen(category=category, urgency=urgency))
        elif out.name == "handoff":
            handoff = True
        elif out.name == "set_language":
            language = out.param("language") or None
        elif out.name == "record_consent":
            version = out.param("version")
            if not _VERSION.fullmatch(version):
                errors.append(FlowError("bad_version", "effect record_consent: not a version"))
                version = "unknown"
            consent = ConsentRecord(given=out.param("given") == "yes", version=version)
        elif out.name == "withdraw_consent":
            version = ctx.values.get("consent_version", "")
            consent = ConsentRecord(given=False, version=version, withdrawal=True)
        elif out.name == "export_data":
            export_at = len(replies)
        elif out.name == "delete_data":
            erase = True
        elif out.name == "quick_exit":
            quick_exit = True
        elif out.name == "record_rating":
            state, rating, error = take_rating(state, out.param("rating"))
            errors.extend(() if error is None else (error,))
        elif out.name in BOOKING_EFFECTS:
            booking.append(out)
        elif out.name == "offer_slots":
            wants_booking = True
            replies.append(Reply(texts.get("booking_pending", state.language, **ctx.values)))
        # "end" needs nothing from the host: the engine has already closed the conversation.
    if handoff and not cases:
        # A person asked for (or a flow called for) a human: make sure someone sees it.
        cases.append(CaseOpen(category="lainnya", urgency="segera"))
    urgent = assessment.level is Level.URGENT or any(c.urgency == "darurat" for c in cases)
    # Someone who declined consent keeps getting information, but their words are
    # not kept, unless they describe a danger that a counsellor must be able to read.
    declined = state.var("consent") == "no" or (consent is not None and not consent.given)
    forget = declined and not cases and assessment.level is Level.NONE
    return TurnPlan(
        state=state,
        replies=tuple(replies),
        priority=PRIORITY_URGENT if urgent else PRIORITY_ROUTINE,
        cases=tuple(cases),
        language=language,
        consent=consent,
        errors=tuple(errors),
        wants_booking=wants_booking,
        booking=tuple(booking),
        forget_text=forget,
        export=export_at is not None,
        export_at=0 if export_at is None else export_at,
        erase=erase,
        quick_exit=quick_exit,
        rating=rating,
    )
