"""The host's side of the `record_rating` effect: one rating per closed case, codes only.

When a counsellor closes a case, `bot.handoff.service` starts the feedback flow and
puts a ticket in the family's (sealed) session: the closed case's category and
urgency, no code. The flow emits `record_rating` with the chosen 1-5; the turn
then uses the ticket up and counts the rating with those codes, in the same
transaction as the turn (`storage.flowhost.ratings`). So a rating counts once per closed
case: a second rating, or one given without a closed case to rate (a flow that
asks elsewhere), finds no ticket and is not counted. The family's comment is
never part of it.

Pure: no I/O; the pipeline adds the office month when it writes the turn.
"""

from __future__ import annotations

import dataclasses
import re
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.core.effects import PlanDraft, register
from bot.core.turns import Rated
from bot.digits import digits
from flows.exchange import Effect, FlowError
from flows.state import SessionState
from storage.flowhost.ratings import RATINGS, NewRating
from storage.records import URGENCIES

__all__ = ["TICKET_VAR", "rating_write", "record_rating", "take_rating", "with_ticket"]

TICKET_VAR = "feedback_case"
"""The session variable holding the closed case's `category/urgency` until it is rated."""
_CODE = re.compile(r"[a-z][a-z0-9_]{1,31}")


def with_ticket(state: SessionState, category: str, urgency: str) -> SessionState:
    """The state with a ticket to rate the case just closed (replacing an unused one)."""
    kept = tuple((k, v) for k, v in state.vars if k != TICKET_VAR)
    ticket = f"{category}/{urgency}"
    return dataclasses.replace(state, vars=tuple(sorted((*kept, (TICKET_VAR, ticket)))))


def take_rating(
    state: SessionState, value: str
) -> tuple[SessionState, Rated | None, FlowError | None]:
    """Uses up the state's ticket for a `record_rating` effect with parameter `value`.

    Returns the state without the ticket and the rating to count; the state as it
    was and None when there is no ticket; an error (and nothing counted) when
    `value` is not 1-5, which is a flow author's mistake, e.g. a free answer put
    there: it must never reach a plain column.
    """
    if not digits(value) or int(value) not in RATINGS:
        return state, None, FlowError("bad_rating", "effect record_rating: not a rating 1-5")
    ticket = state.var(TICKET_VAR)
    if not isinstance(ticket, str):
        return state, None, None
    category, _, urgency = ticket.partition("/")
    known = _CODE.fullmatch(category) is not None and urgency in URGENCIES
    rest = tuple((k, v) for k, v in state.vars if k != TICKET_VAR)
    rated = Rated(int(value), category if known else None, urgency if known else None)
    return dataclasses.replace(state, vars=rest), rated, None


def rating_write(rated: Rated | None, now: datetime, tz: ZoneInfo) -> NewRating | None:
    """What the turn stores: the rating in the office's month of `now`."""
    if rated is None:
        return None
    month = now.astimezone(tz).strftime("%Y-%m")
    return NewRating(month, rated.rating, rated.category, rated.urgency)


def record_rating(effect: Effect, draft: PlanDraft) -> None:
    """The `record_rating` effect: uses up the ticket, counts the rating with the turn."""
    draft.state, draft.rating, error = take_rating(draft.state, effect.param("rating"))
    draft.errors.extend(() if error is None else (error,))


register("record_rating", record_rating)
