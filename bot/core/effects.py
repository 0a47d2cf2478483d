"""The host side of flow effects: each effect's own module registers what it does to a turn.

A flow emits named effects (`flows.effects` holds the names and parameters); the
turn applies them in order to a `PlanDraft`. The module of each capability
registers its handlers at import, as goflow's actions do:

    register("quick_exit", lambda effect, draft: setattr(draft, "quick_exit", True))

An effect nobody registered changes nothing (`end` needs nothing from the host).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bot.core.turns import Rated, Reply
from flows.exchange import Context, Effect, FlowError
from flows.state import SessionState
from storage.records import CaseOpen, ConsentRecord

if TYPE_CHECKING:
    from bot.core.texts import BotTexts

__all__ = ["EFFECT_HANDLERS", "EffectHandler", "PlanDraft", "apply_effect", "register"]


@dataclass(slots=True)
class PlanDraft:
    """What a turn's effects have decided so far; `bot.flowhost.turn` makes it a `TurnPlan`."""

    state: SessionState
    texts: BotTexts
    ctx: Context
    replies: list[Reply] = field(default_factory=list)
    cases: list[CaseOpen] = field(default_factory=list)
    errors: list[FlowError] = field(default_factory=list)
    language: str | None = None
    consent: ConsentRecord | None = None
    booking: list[Effect] = field(default_factory=list)
    handoff: bool = False
    export_at: int | None = None
    erase: bool = False
    erase_at: int = 0  # where the statement of what was erased goes among the replies
    quick_exit: bool = False
    rating: Rated | None = None
    office: str | None = None  # an office code the family chose (bot.offices.effects)


EffectHandler = Callable[[Effect, PlanDraft], None]

EFFECT_HANDLERS: dict[str, EffectHandler] = {}


def register(name: str, handler: EffectHandler) -> EffectHandler:
    """Says what effect `name` does to a turn; one handler per name."""
    if name in EFFECT_HANDLERS and EFFECT_HANDLERS[name] is not handler:
        raise ValueError(f"effect {name!r} has a host handler already")
    EFFECT_HANDLERS[name] = handler
    return handler


def apply_effect(effect: Effect, draft: PlanDraft) -> None:
    handler = EFFECT_HANDLERS.get(effect.name)
    if handler is not None:
        handler(effect, draft)


def _set_language(effect: Effect, draft: PlanDraft) -> None:
    draft.language = effect.param("language") or None


register("set_language", _set_language)
