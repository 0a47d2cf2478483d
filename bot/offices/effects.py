"""`set_office`: a family without a deep link answers "which regency or city?" and is
put with that office, in the turn's own commit (so a case the same turn opens opens
there). A code no office has, or an archived office's, changes nothing."""

from __future__ import annotations

import re

from bot.core.effects import PlanDraft, register
from flows.exchange import Effect, FlowError

__all__ = ["set_office"]

_CODE = re.compile(r"[a-z][a-z0-9-]{1,31}")


def set_office(effect: Effect, draft: PlanDraft) -> None:
    code = effect.param("office").strip().lower()
    if not _CODE.fullmatch(code):
        draft.errors.append(FlowError("bad_office", "effect set_office: not an office code"))
        return
    draft.office = code


register("set_office", set_office)
