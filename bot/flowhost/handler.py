"""The last turn handler: the flow step, with what storage holds read only when needed.

It always answers. A turn is planned with the values at hand; when its flows looked
up what only storage knows (the family's bookings, who is told of a crisis:
`bot.core.ondemand`), that is read and the turn planned again. A turn that cannot
be planned (a bug) gets the fallback reply and a case for a person; an export the
person asked for is gathered before the commit; a chosen time another family just
took is planned again (`replan`).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from bot.booking.host import FAMILY_KEYS, TAKEN, BookingContext, BookingHost
from bot.config import Config
from bot.core.handlers import Handled, Turn
from bot.core.ondemand import OnDemand, ValueSource
from bot.core.texts import BotTexts
from bot.core.turns import TurnPlan, fallback_plan
from bot.flowhost.missed import missed_writes
from bot.flowhost.ratings import rating_write
from bot.flowhost.shelves import FlowShelves
from bot.flowhost.turn import plan_turn
from bot.handoff.reach import WhoIsTold
from bot.offices.profiles import OfficeConfigs
from bot.privacy.export import fulfil_export
from bot.privacy.statement import fulfil_erasure
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


@dataclass(frozen=True, slots=True)
class _OfficeTurn:
    """What the family's office gives one turn."""

    library: FlowLibrary
    config: Config
    sources: tuple[ValueSource, ...]


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
        self._sources: tuple[ValueSource, ...] = (WhoIsTold(store, config, texts),)
        self._offices = OfficeConfigs(store, config)
        self._shelves: FlowShelves | None = None  # each office its own flows

    def use_shelves(self, shelves: FlowShelves) -> None:
        """Plans each family's turn on its own office's flows (several offices)."""
        self._shelves = shelves

    async def _office_for(self, contact_id: int) -> _OfficeTurn:
        """What the family's office gives this turn: its flows, its words, its roster for
        `{who_is_told}`. One office: what it always was, and nothing is read."""
        shelves = self._shelves
        if shelves is not None:
            await shelves.catch_up()  # an office added since the start (a read now and then)
        if not self._config.offices and (shelves is None or not shelves.several):
            return _OfficeTurn(self._library, self._config, self._sources)
        office_id = await self._store.offices.office_of_contact(contact_id) or 1
        shelf = None if shelves is None else await shelves.ensure(office_id)
        library = self._library if shelf is None else shelf.library
        config = await self._offices.for_office(office_id)
        sources = (WhoIsTold(self._store, config, self._texts, office_id),)
        return _OfficeTurn(library, config, sources)

    def use_library(self, library: FlowLibrary) -> None:
        """Starts the next turns on `library` (a publish); running conversations keep
        their version, which the new library still holds."""
        self._library = library

    def goes_first(self, kind: str, text: str) -> bool:
        return False

    async def handle(self, turn: Turn) -> Handled:
        row, state, assessment = turn.row, turn.state, turn.assessment
        booking: BookingOp | None = None
        office = _OfficeTurn(self._library, self._config, self._sources)
        try:
            office = await self._office_for(row.contact_id)
            plan, booking = await self._plan(row, state, assessment, office)
        except Exception:
            log.exception(
                "contact %s message %s: the turn could not be planned", row.contact_id, row.id
            )
            urgent = assessment.level is Level.URGENT
            plan = fallback_plan(self._texts, office.config, state, urgent)
        for error in plan.errors:
            log.error("flow error %s at %s (contact %s)", error.code, error.where, row.contact_id)
        if plan.export or plan.erase:
            # Both say what is held in words: the flows' questions and labels, the texts.
            fulfil = fulfil_export if plan.export else fulfil_erasure
            plan = await fulfil(
                self._store,
                plan,
                row,
                texts=self._texts,
                library=office.library,
                config=office.config,
                now=self._clock(),
            )

        async def replan() -> Handled:
            again, op = await self._plan(row, state, assessment, office, taken=True)
            return self._handled(again, op, office.config)

        return self._handled(plan, booking, office.config, replan)

    def _handled(
        self,
        plan: TurnPlan,
        booking: BookingOp | None,
        config: Config,
        replan: Callable[[], Awaitable[Handled]] | None = None,
    ) -> Handled:
        # The month of a rating and the day of a missed answer: the family's office's.
        now, tz = self._clock(), config.office.tz
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
        office: _OfficeTurn,
        *,
        taken: bool = False,
    ) -> tuple[TurnPlan, BookingOp | None]:
        """Plans the turn, reading bookings and other stored values only if the flows ask."""
        now = self._clock()
        host_input = (
            TAKEN if taken else await self._booking.reminder_input(row, assessment, office.library)
        )
        view = None
        loaded: dict[str, str] = {}
        read: list[ValueSource] = []
        library, config = office.library, office.config  # the family's office's
        while True:
            window = self._booking.context(view)
            ctx, values = self._context(row, state, window, loaded, config, library)
            plan = plan_turn(
                library=library,
                state=state,
                kind=row.kind,
                text=row.text,
                assessment=assessment,
                ctx=ctx,
                texts=self._texts,
                max_chars=self._config.max_message_chars,
                host_input=host_input,
            )
            wanted = values.wanted
            booking = view is None and bool(window.wanted or plan.booking or wanted & FAMILY_KEYS)
            sources = [s for s in office.sources if s.keys & wanted and s not in read]
            if not (booking or sources):
                break
            for source in sources:  # each once: a key it cannot give stays missing
                read.append(source)
                loaded.update(await source.load(now, self._language(row, state, library)))
            if booking:
                view = await self._booking.load(row.contact_id, now, plan.cases, config)
        if view is None or not plan.booking:
            return plan, None
        decision = self._booking.decide(
            view,
            plan.booking,
            contact_id=row.contact_id,
            channel=row.channel,
            language=plan.state.language,
            config=config,
        )
        if decision.taken and not taken:
            return await self._plan(row, state, assessment, office, taken=True)
        return plan, decision.op

    def _language(self, row: InboxRow, state: SessionState | None, library: FlowLibrary) -> str:
        """The language the turn settles (an English first message), for the host's texts."""
        default = self._config.languages[0]
        return turn_language(library, state, row.kind, row.text, default)

    def _context(
        self,
        row: InboxRow,
        state: SessionState | None,
        window: BookingContext,
        loaded: Mapping[str, str],
        config: Config,
        library: FlowLibrary,
    ) -> tuple[Context, OnDemand]:
        """The engine's context, and its values, which note what is wanted and not loaded."""
        language = self._language(row, state, library)
        base = window.values(config.context_values(language), language)
        loadable = window.loadable.union(*(s.keys for s in self._sources))
        values = OnDemand({**base, **loaded}, loadable)
        context = Context(
            now=self._clock(),
            channel=self._caps.get(row.channel, ChannelCaps()),
            values=values,
            default_language=self._config.languages[0],
            options=window.options,
            calendar=window.calendar(language),
        )
        return context, values
