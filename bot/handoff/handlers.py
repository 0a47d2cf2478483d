"""The two turn handlers the handoff package adds to the pipeline's chain.

A family's text passes both here, without opening the counsellor desk:

1. `StaffDesk` runs before the crisis check (a counsellor's words are never a
   family's). It takes `/link`, a take-case press and anything a linked staff
   member sends, and hands them to `desk.CounsellorDesk`; every other message
   goes on.
2. `HeldCaseRelay` runs after the crisis check. While a counsellor holds the
   family's case their words go to the owner (`Handoff.family_turn`): an urgent
   message is marked, sent at top priority, answered with the hotlines, and starts
   the owner's answer clock, and the bot's flows stay silent. The relay is written
   in the turn's own transaction; a case released in between makes the commit fail
   as stale, and the message is processed again, by the flows. A quick exit
   (`keluar`) is the one exception: the flows carry it out (a neutral reply, the
   chat deleted, nothing more sent) and the owner is warned not to write or call.
   A photo or voice note is fetched and kept first (`media.MediaFetch`), so that it
   reaches the owner as itself and plays on the case page.
"""

from __future__ import annotations

import dataclasses

from bot.core.handlers import Handled, Turn, TurnHandler
from bot.handoff.alerts import TAKE_PREFIX
from bot.handoff.desk import CounsellorDesk, is_link, is_take_press
from bot.handoff.media import MediaFetch
from bot.handoff.service import Handoff
from storage.media.records import FETCHED_KINDS

__all__ = ["HeldCaseRelay", "StaffDesk"]


class StaffDesk:
    """Gives the desk what is the staff's; a family's message passes untouched."""

    checked = False

    def __init__(self, desk: CounsellorDesk) -> None:
        self._desk = desk

    def goes_first(self, kind: str, text: str) -> bool:
        """A take press goes first, like a crisis: a counsellor is waiting on it."""
        return kind == "choice" and text.startswith(TAKE_PREFIX)

    async def handle(self, turn: Turn) -> Handled | None:
        if not turn.staff and not is_link(turn.row) and not is_take_press(turn.row):
            return None
        plan = await self._desk.plan(turn.row, turn.state, staff=turn.staff)
        return None if plan is None else Handled(plan)


class HeldCaseRelay:
    """Relays a family's turn to the counsellor holding their case."""

    checked = True

    def __init__(
        self, handoff: Handoff, flows: TurnHandler | None = None, media: MediaFetch | None = None
    ) -> None:
        """`flows`: the flow step, which carries out a quick exit during a hand-off;
        `media`: what fetches a family's photo or voice note (none: never fetched)."""
        self._handoff = handoff
        self._flows = flows
        self._media = media

    def goes_first(self, kind: str, text: str) -> bool:
        return False

    async def handle(self, turn: Turn) -> Handled | None:
        if not turn.held:
            return None
        if (
            self._flows is not None
            and turn.row.kind == "text"
            and self._handoff.is_quick_exit(turn.row.text)
        ):
            handled = await self._flows.handle(turn)
            if handled is None:
                return None
            notice = await self._handoff.left_notice(turn.row)
            return handled if notice is None else dataclasses.replace(handled, relay=notice)
        outcome = None
        if self._media is not None and turn.row.kind in FETCHED_KINDS:
            outcome = await self._media.settle(turn.row)
        planned = await self._handoff.family_turn(
            turn.row, turn.state, turn.assessment, media=outcome
        )
        if planned is None:
            return None
        plan, relay = planned
        return Handled(plan, relay=relay)
