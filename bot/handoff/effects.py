"""What `open_case` and `handoff` do to a turn: a case for a person to see.

Both values are stored in plain text for reports, so only code-shaped values
pass: a flow that put a person's answer here must not leak it.
"""

from __future__ import annotations

import re

from bot.core.effects import PlanDraft, register
from flows.exchange import Effect, FlowError
from storage.records import URGENCIES, CaseOpen

__all__ = ["open_case", "wants_a_person"]

_CODE = re.compile(r"[a-z][a-z0-9_]{1,31}")


def open_case(effect: Effect, draft: PlanDraft) -> None:
    """Opens (or raises) the family's case with the flow's category and urgency codes."""
    urgency = effect.param("urgency")
    if urgency not in URGENCIES:
        draft.errors.append(FlowError("bad_urgency", "effect open_case: unknown urgency"))
        urgency = "segera"
    category = effect.param("category")
    if not _CODE.fullmatch(category):
        draft.errors.append(FlowError("bad_category", "effect open_case: not a category code"))
        category = "lainnya"
    draft.cases.append(CaseOpen(category=category, urgency=urgency))


def wants_a_person(effect: Effect, draft: PlanDraft) -> None:
    """A person asked for a human: the turn opens a case unless the flow opened one."""
    draft.handoff = True


register("open_case", open_case)
register("handoff", wants_a_person)
