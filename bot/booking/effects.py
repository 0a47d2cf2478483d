"""What the booking effects do to a turn: carried by the plan for `bot.booking.host`.

`offer_slots` outside a flow set with a booking flow leaves a note that staff will
arrange the time; inside one, the turn has already moved into the booking flow.
"""

from __future__ import annotations

from bot.booking import BOOKING_EFFECTS
from bot.core.effects import PlanDraft, register
from bot.core.turns import Reply
from flows.exchange import Effect

__all__ = ["booking_change", "offer_slots"]


def booking_change(effect: Effect, draft: PlanDraft) -> None:
    """Holds, confirms, releases, cancels: decided by the host from a snapshot at commit."""
    draft.booking.append(effect)


def offer_slots(effect: Effect, draft: PlanDraft) -> None:
    draft.replies.append(
        Reply(draft.texts.get("booking_pending", draft.state.language, **draft.ctx.values))
    )


for _name in sorted(BOOKING_EFFECTS):
    register(_name, booking_change)
register("offer_slots", offer_slots)
