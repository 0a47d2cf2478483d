"""The turn handler for a family whose case a counsellor holds: their words go to the owner.

It runs after the crisis check: an urgent message is marked, sent at top priority,
answered with the hotlines, and starts the owner's answer clock
(`Handoff.family_turn`). While it answers, the bot's flows stay silent. The relay
is written in the turn's own transaction; a case released in between makes the
commit fail as stale, and the message is processed again, by the flows.
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
        planned = await self._handoff.family_turn(turn.row, turn.state, turn.assessment)
        if planned is None:
            return None
        plan, relay = planned
        return Handled(plan, relay=relay)
