"""The flow step of a turn: safety routing, the engine's step, and the host's effects.

Given the session state, the message and its crisis assessment, `plan_turn`
returns the new state, the replies (with their priority) and the changes to
cases, language and consent that the pipeline then writes in one transaction.
It is pure, which makes the safety rules testable as tables. Each effect a flow
emits is applied by the handler its own module registered (`bot.core.effects`).
"""

from __future__ import annotations

import dataclasses

from bot.booking import BOOKING_FLOW
from bot.booking import effects as booking_effects
from bot.core import effects
from bot.core.effects import PlanDraft, apply_effect
from bot.core.texts import BotTexts
from bot.core.turns import PRIORITY_ROUTINE, PRIORITY_URGENT, Reply, TurnPlan, empty_state
from bot.flowhost import missed, ratings
from bot.handoff import effects as handoff_effects
from bot.handoff.kinds import crisis_kinds
from bot.offices import effects as office_effects
from bot.privacy import effects as privacy_effects
from bot.safety import Assessment, Level
from flows.engine import step
from flows.exchange import Context, Effect, FlowError, Input, Message
from flows.library import FlowLibrary
from flows.matching import match_command
from flows.state import SessionState
from storage.records import CaseOpen

__all__ = [
    "CRISIS_FLOW",
    "EFFECT_MODULES",
    "PRIVACY_FLOW",
    "READABLE_KINDS",
    "SAFETY_CHECK_FLOW",
    "is_command",
    "plan_turn",
    "withdrawn",
]

CRISIS_FLOW = "crisis"
SAFETY_CHECK_FLOW = "safety_check"
PRIVACY_FLOW = "privacy"  # its start node answers someone who withdrew consent
READABLE_KINDS = frozenset({"text", "choice", "start"})

EFFECT_MODULES = (
    effects,
    booking_effects,
    handoff_effects,
    privacy_effects,
    ratings,
    office_effects,
)
"""The modules whose import registers the host's effect handlers."""


def withdrawn(state: SessionState | None) -> bool:
    """True between a withdrawal of consent and the next answer to the consent question.

    Only while no conversation is under way: after `mulai` (or a start) the
    consent question is running and its answer must reach it.
    """
    return state is not None and state.ended and state.var("withdrawn") == "yes"


def is_command(library: FlowLibrary, kind: str, text: str) -> bool:
    """Whether a message is one of the global command words (they work for everyone)."""
    return kind == "text" and match_command(text, library.globals.commands) is not None


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
        replies = [Reply(texts.get(key, language, **ctx.values))]
        if state is None:
            # Their very first message: who we are first, and the numbers to call
            # now, since no menu has been shown yet.
            replies.insert(0, Reply(texts.get("unsupported.first", language, **ctx.values)))
            replies.append(Reply(texts.get("unsupported.first_help", language, **ctx.values)))
        return TurnPlan(
            state=state if state is not None else empty_state(language),
            replies=tuple(replies),
            priority=PRIORITY_ROUTINE,
        )

    prefix: list[Reply] = []
    if kind == "text" and len(text) > max_chars:
        text = text[:max_chars]
        prefix.append(Reply(texts.get("too_long", language, limit=str(max_chars))))

    current = state.current_flow if state is not None and not state.ended else None
    inp: Input
    if assessment.level is Level.URGENT and current != CRISIS_FLOW:
        inp = Input(kind="interrupt", flow=CRISIS_FLOW, text=text if kind == "text" else "")
    elif assessment.level is Level.CHECK and current not in (CRISIS_FLOW, SAFETY_CHECK_FLOW):
        inp = Input(kind="interrupt", flow=SAFETY_CHECK_FLOW, text=text if kind == "text" else "")
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
    draft = PlanDraft(state=after, texts=texts, ctx=ctx, replies=prefix)
    for out in outputs:
        if isinstance(out, Message):
            draft.replies.append(Reply(out.text, tuple((o.value, o.label) for o in out.options)))
        elif isinstance(out, FlowError):
            draft.errors.append(out)
        else:
            apply_effect(out, draft)
    plan = _plan(draft, assessment)
    # Words said in or near a crisis are never kept for the flow page: only counted.
    keep = assessment.level is Level.NONE and not plan.forget_text
    found = missed.unclear(
        turn.missed,
        typed=kind == "text" and inp.kind == "text" and inp is not host_input,
        text=text,
        state=plan.state,
        keep=keep,
        consent_version=ctx.values.get("consent_version", ""),
        quiet_flows=(CRISIS_FLOW, SAFETY_CHECK_FLOW),
    )
    return dataclasses.replace(plan, unclear=found) if found else plan


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


def _plan(draft: PlanDraft, assessment: Assessment) -> TurnPlan:
    """The plan the effects drafted, with the rules that hold whatever the flow said."""
    cases = list(draft.cases)
    if draft.handoff and not cases:
        # A person asked for (or a flow called for) a human: make sure someone sees it.
        cases.append(CaseOpen(category="lainnya", urgency="segera"))
    kinds = crisis_kinds(assessment)
    if kinds:  # the queue shows which danger an urgent case is about (bot.handoff.kinds)
        cases = [dataclasses.replace(c, crisis=kinds) for c in cases]
    urgent = assessment.level is Level.URGENT or any(c.urgency == "darurat" for c in cases)
    # Someone who declined consent keeps getting information, but their words are
    # not kept, unless they describe a danger that a counsellor must be able to read:
    # words that worried the check wait for the safety question's answer, and go at
    # the next turn that opens no case (storage forgets what came before it too).
    state, consent = draft.state, draft.consent
    declined = state.var("consent") == "no" or (consent is not None and not consent.given)
    # Words written in the crisis flow are for the counsellor of its urgent case: the
    # flow says they are kept for them, and a crisis works without consent.
    crisis = not state.ended and state.current_flow == CRISIS_FLOW
    forget = declined and not cases and assessment.level is Level.NONE and not crisis
    return TurnPlan(
        state=state,
        replies=tuple(draft.replies),
        priority=PRIORITY_URGENT if urgent else PRIORITY_ROUTINE,
        cases=tuple(cases),
        language=draft.language,
        consent=consent,
        errors=tuple(draft.errors),
        booking=tuple(draft.booking),
        forget_text=forget,
        export=draft.export_at is not None,
        export_at=0 if draft.export_at is None else draft.export_at,
        erase=draft.erase,
        erase_at=draft.erase_at,
        quick_exit=draft.quick_exit,
        rating=draft.rating,
        office=draft.office,
    )
