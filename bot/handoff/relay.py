"""The turn handler for a family whose case a counsellor holds: their words go to the owner.

It runs after the crisis check: an urgent message is marked, sent at top priority,
answered with the hotlines, and starts the owner's answer clock
(`Handoff.family_turn`). While it answers, the bot's flows stay silent.
"""

from __future__ import annotations

from bot.core.handlers import Handled, Turn
from bot.handoff.service import Handoff

__all__ = ["HeldCaseRelay"]


class HeldCaseRelay:
    """Relays a family's turn to the counsellor holding their case."""

    checked = True

    def __init__(self, handoff: Handoff) -> None:
        self._handoff = handoff

    def goes_first(self, kind: str, text: str) -> bool:
        return False

    async def handle(self, turn: Turn) -> Handled | None:
        if not turn.held:
            return None
        plan = await self._handoff.family_turn(turn.row, turn.state, turn.assessment)
        return None if plan is None else Handled(plan)
