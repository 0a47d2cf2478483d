"""The last turn handler: the flow step, with the family's bookings read only when needed.

It always answers. A turn that cannot be planned (a bug) gets the fallback reply
and a case for a person; an export the person asked for is gathered before the
commit; a chosen time another family just took is planned again (`replan`).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime

from bot.booking.host import TAKEN, BookingContext, BookingHost
from bot.config import Config
from bot.core.handlers import Handled, Turn
from bot.core.texts import BotTexts
from bot.core.turns import TurnPlan, fallback_plan
from bot.flowhost.missed import missed_writes
from bot.flowhost.ratings import rating_write
from bot.flowhost.turn import plan_turn
from bot.privacy.export import fulfil_export
from bot.safety import Assessment, Level
from flows.anywhere import turn_language
from flows.exchange import ChannelCaps, Context
from flows.library import FlowLibrary
from flows.state import SessionState
from storage.booking.records import BookingOp
from storage.records import InboxRow
from storage.store import Store

__all__ = ["FlowTurns"]

log = logging.getLogger(__name__)


class FlowTurns:
    """Plans a family's turn through the flows; the pipeline's last handler."""

    checked = True

    def __init__(
        self,
        *,
        store: Store,
        library: FlowLibrary,
        texts: BotTexts,
        config: Config,
        channel_caps: Mapping[str, ChannelCaps],
        clock: Callable[[], datetime],
    ) -> None:
        self._store = store
        self._library = library
        self._texts = texts
        self._config = config
        self._caps = dict(channel_caps)
        self._clock = clock
        self._booking = BookingHost(store=store, config=config, texts=texts, library=library)

    def use_library(self, library: FlowLibrary) -> None:
        """Starts the next turns on `library` (a publish); running conversations keep
        their version, which the new library still holds."""
        self._library = library

    def goes_first(self, kind: str, text: str) -> bool:
        return False

    async def handle(self, turn: Turn) -> Handled:
        row, state, assessment = turn.row, turn.state, turn.assessment
        booking: BookingOp | None = None
        try:
            plan, booking = await self._plan(row, state, assessment)
        except Exception:
            log.exception(
                "contact %s message %s: the turn could not be planned", row.contact_id, row.id
            )
            urgent = assessment.level is Level.URGENT
            plan = fallback_plan(self._texts, self._config, state, urgent)
        for error in plan.errors:
            log.error("flow error %s at %s (contact %s)", error.code, error.where, row.contact_id)
        if plan.export:
            plan = await fulfil_export(
                self._store, plan, row, texts=self._texts, config=self._config, now=self._clock()
            )

        async def replan() -> Handled:
            again, op = await self._plan(row, state, assessment, taken=True)
            return self._handled(again, op)

        return self._handled(plan, booking, replan)

    def _handled(
        self,
        plan: TurnPlan,
        booking: BookingOp | None,
        replan: Callable[[], Awaitable[Handled]] | None = None,
    ) -> Handled:
        now, tz = self._clock(), self._config.office.tz
        rating = rating_write(plan.rating, now, tz)
        missed = missed_writes(plan.unclear, now, tz)
        return Handled(
            plan, booking=booking, rating=rating, missed=missed, merge=True, replan=replan
        )

    async def _plan(
        self,
        row: InboxRow,
        state: SessionState | None,
        assessment: Assessment,
        *,
        taken: bool = False,
    ) -> tuple[TurnPlan, BookingOp | None]:
        """Plans the turn, reading the family's bookings only if the flows ask for them."""
        now = self._clock()
        host_input = TAKEN if taken else await self._booking.reminder_input(row, assessment)
        view = None
        while True:
            window = self._booking.context(view)
            plan = plan_turn(
                library=self._library,
                state=state,
                kind=row.kind,
                text=row.text,
                assessment=assessment,
                ctx=self._context(row, state, window),
                texts=self._texts,
                max_chars=self._config.max_message_chars,
                host_input=host_input,
            )
            if view is not None or not (window.wanted or plan.booking):
                break
            view = await self._booking.load(row.contact_id, now, plan.cases)
        if view is None or not plan.booking:
            return plan, None
        decision = self._booking.decide(
            view,
            plan.booking,
            contact_id=row.contact_id,
            channel=row.channel,
            language=plan.state.language,
        )
        if decision.taken and not taken:
            return await self._plan(row, state, assessment, taken=True)
        return plan, decision.op

    def _context(
        self, row: InboxRow, state: SessionState | None, booking: BookingContext | None = None
    ) -> Context:
        # The office hours in the language the turn settles (an English first message).
        default = self._config.languages[0]
        language = turn_language(self._library, state, row.kind, row.text, default)
        window = booking if booking is not None else self._booking.context()
        return Context(
            now=self._clock(),
            channel=self._caps.get(row.channel, ChannelCaps()),
            values=window.values(self._config.context_values(language), language),
            default_language=self._config.languages[0],
            options=window.options,
            calendar=window.calendar(language),
        )
