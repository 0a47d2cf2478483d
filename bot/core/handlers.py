"""The pipeline's turn handlers: an ordered chain that features register with.

A stored message is offered to each handler in turn; the first to answer with a
`Handled` decides the whole turn. A handler that runs before the crisis check
(`checked = False`: the counsellor desk, whose messages are never a family's)
sees no assessment; from the first handler with `checked = True` on, the
message has been checked and `Turn.assessment` holds the result. The last
handler, the flow step, always answers.

    bot.app:  pipeline.add_handler(desk), then (relay), then (flows): the order is the chain
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from bot.core.turns import TurnPlan
from bot.safety import Assessment, Level
from flows.state import SessionState
from storage.booking.records import BookingOp
from storage.flowhost.missed import NewMiss
from storage.flowhost.ratings import NewRating
from storage.handoff.records import RelayIn
from storage.records import InboxRow

__all__ = ["NOT_ASSESSED", "Handled", "Turn", "TurnHandler"]

NOT_ASSESSED = Assessment(Level.NONE, ())


@dataclass(slots=True)
class Turn:
    """One stored message on its way through the handlers."""

    row: InboxRow
    state: SessionState | None
    staff: bool  # the sender may be an active staff member's linked chat
    held: bool  # a counsellor may hold this contact's case
    assessment: Assessment = NOT_ASSESSED


@dataclass(frozen=True, slots=True)
class Handled:
    """A handler's decision: the plan, and what else its commit carries.

    `merge` joins the replies into as few messages as the channel takes; `replan`
    plans the turn again when the commit found a chosen time just taken.
    """

    plan: TurnPlan
    booking: BookingOp | None = None
    rating: NewRating | None = None
    missed: tuple[NewMiss, ...] = ()
    relay: RelayIn | None = None
    merge: bool = False
    replan: Callable[[], Awaitable[Handled]] | None = None


class TurnHandler(Protocol):
    """One link of the chain; `checked`: whether it needs the crisis check before it."""

    @property
    def checked(self) -> bool: ...

    def goes_first(self, kind: str, text: str) -> bool:
        """Whether a message like this must not wait behind routine turns (a take press)."""
        ...

    async def handle(self, turn: Turn) -> Handled | None: ...
