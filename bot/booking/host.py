"""The pipeline's booking helper: reads a family's bookings only when a turn needs them.

Most messages never touch a booking, so a turn is first planned with nothing
loaded. If the flows asked for a booking option set or a `booking_*`/`hold_*`
key (`loadable`, noted by `bot.core.ondemand.OnDemand`), or emitted a booking
effect, the family's snapshot is read and the turn is planned again (the engine
is pure, so planning twice is cheap and gives the same answer for everything
else). The view then turns the booking effects into the one storage change that
commits with the turn.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from bot.booking import BOOKING_EFFECTS, BOOKING_FLOW
from bot.booking.reminders import reminder_reply, reply_input
from bot.booking.view import BookingView, Decision
from bot.config import Config
from bot.core.texts import BotTexts
from bot.safety import Assessment, Level
from flows.exchange import Calendar, Effect, Input, Option
from flows.library import FlowLibrary
from flows.model import Value
from storage.records import URGENCIES, CaseOpen, InboxRow
from storage.store import Store

__all__ = ["FAMILY_KEYS", "OPTION_SETS", "TAKEN", "BookingContext", "BookingHost"]

OPTION_SETS = frozenset({"booking_modes", "booking_days", "booking_times"})
FAMILY_KEYS = frozenset(
    f"{prefix}_{key}"
    for prefix in ("booking", "hold")
    for key in ("code", "when", "mode", "counsellor")
)
TAKEN = Input("interrupt", flow=BOOKING_FLOW, node="taken")
"""Where a turn goes when the time the family chose was just taken."""


class BookingContext:
    """The engine's window on one family's bookings for one planning pass.

    With no view loaded it offers nothing and notes (`wanted`) that the flows
    asked for options, so the host loads the snapshot and plans the turn again;
    the family's keys are then `loadable`.
    """

    def __init__(self, view: BookingView | None, hold_minutes: int) -> None:
        self.view = view
        self.wanted = False
        self._hold_minutes = str(hold_minutes)

    def options(self, name: str, variables: Mapping[str, Value], language: str) -> Sequence[Option]:
        if name not in OPTION_SETS:
            return ()
        if self.view is None:
            self.wanted = True
            return ()
        return self.view.options(name, variables, language)

    def calendar(self, language: str) -> Calendar | None:
        """The office's days for a typed day (once the family's view is loaded)."""
        return self.view.calendar(language) if self.view is not None else None

    @property
    def loadable(self) -> frozenset[str]:
        """The family's keys the view would give, while it is not loaded."""
        return FAMILY_KEYS if self.view is None else frozenset()

    def values(self, base: Mapping[str, str], language: str) -> dict[str, str]:
        own = {"hold_minutes": self._hold_minutes}
        if self.view is not None:
            own.update(self.view.values(language))
        return {**base, **own}


class BookingHost:
    """Loads snapshots, reads reminder replies and decides booking changes for the pipeline."""

    def __init__(
        self, *, store: Store, config: Config, texts: BotTexts, library: FlowLibrary
    ) -> None:
        self._store = store
        self._config = config
        self._texts = texts
        self.enabled = library.has_flow(BOOKING_FLOW)

    # Each call may name the family's office's configuration and flows (several
    # offices): its time zone for the slots, its words for the booking's messages, its
    # library for whether it books at all. Left out: the default office's, as before.

    def context(self, view: BookingView | None = None) -> BookingContext:
        return BookingContext(view, self._config.booking.hold_minutes)

    async def load(
        self,
        contact_id: int,
        now: datetime,
        pending: Sequence[CaseOpen] = (),
        config: Config | None = None,
    ) -> BookingView:
        """The family's booking situation now (and any urgency this turn is raising), its
        slots in its office's time zone."""
        tz = (self._config if config is None else config).office.tz
        horizon = timedelta(days=self._config.booking.horizon_days + 2)
        snapshot = await self._store.bookings.snapshot(
            contact_id, now - timedelta(days=1), now + horizon, now
        )
        urgencies = [c.urgency for c in pending if c.urgency in URGENCIES]
        return BookingView(
            snapshot,
            self._config.booking,
            tz,
            now,
            self._texts,
            max(urgencies, key=URGENCIES.index) if urgencies else None,
        )

    async def reminder_input(
        self, row: InboxRow, assessment: Assessment, library: FlowLibrary | None = None
    ) -> Input | None:
        """The booking flow's answer to a reminder, when this message replies to one."""
        enabled = self.enabled if library is None else library.has_flow(BOOKING_FLOW)
        if not enabled or assessment.level is not Level.NONE:
            return None
        if row.kind not in ("text", "choice"):
            return None
        meaning = reminder_reply(row.text)
        if meaning is None:
            return None
        if await self._store.bookings.awaiting_reply(row.contact_id, row.id) is None:
            return None
        return reply_input(meaning)

    def decide(
        self,
        view: BookingView,
        effects: Sequence[Effect],
        *,
        contact_id: int,
        channel: str,
        language: str,
        config: Config | None = None,
    ) -> Decision:
        wanted = [e for e in effects if e.name in BOOKING_EFFECTS]
        if not wanted:
            return Decision()
        context = (self._config if config is None else config).context_values(language)
        return view.decide(
            wanted, contact_id=contact_id, channel=channel, language=language, context=context
        )
