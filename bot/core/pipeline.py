"""The one path every message takes: inbox, crisis check, turn handlers, one commit.

`receive` makes a message durable before anything else (the transport's own
message id turns a repeat into a no-op) and only then schedules it. Each
contact's messages are processed one at a time, in the order they were stored;
different contacts are processed in parallel. A turn is decided by the first of
the registered turn handlers (`bot.core.handlers`) that answers: the counsellor
desk, the held-case relay, the flows. Its new session state, its replies (outbox
rows), its case changes and the inbox row's processed mark are written in ONE
transaction, so a crash at any point either loses the whole turn (and it is
processed again on restart) or none of it.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import replace
from datetime import datetime

from bot.channels.base import Inbound
from bot.config import Config
from bot.core.claimed import drain_claimed
from bot.core.failpoints import failpoint
from bot.core.handlers import Handled, Turn, TurnHandler
from bot.core.scheduling import PrioritySlots, RoutineDeferral
from bot.core.tally import Tally
from bot.core.texts import BotTexts
from bot.core.turns import MERGED_REPLY_CHARS, TurnPlan, fallback_plan, merge_replies
from bot.core.writehealth import WriteHealth, storage_unavailable
from bot.safety import Assessment, Classifier, Level
from bot.storable import storable
from flows.state import SessionState
from storage.engine.claims import Claims, SoleClaims
from storage.errors import SlotTakenError, StaleTurnError
from storage.records import (
    CommittedTurn,
    InboxRow,
    NewInbound,
    NewOutbound,
    OutboxRow,
    TurnWrite,
)
from storage.store import Store

__all__ = ["Pipeline"]

log = logging.getLogger(__name__)

COMMIT_ATTEMPTS = 5
# A message that fails this many times is answered with the fallback reply (a failure
# of the disk is not counted: the message waits until writes succeed, `writehealth`).
FALLBACK_AFTER_ATTEMPTS = 4
# Waits between tries of a failing message double up to this: when what failed comes
# back (a fault that is not the message's own), the message goes within it.
RETRY_DELAY_CAP = 5.0
# Tries of one message in one process at most (the fallback's included): past them it
# stays unprocessed in the inbox, kept, and is tried again on the next start.
MAX_PROCESS_ATTEMPTS = 12
# Texts up to this long are checked on the event loop; longer ones in a thread.
INLINE_CLASSIFY_CHARS = 600
# Long texts are checked in windows this long, overlapping so no phrase is cut.
CLASSIFY_WINDOW = 1500
CLASSIFY_OVERLAP = 200


def classify_windows(classifier: Classifier, text: str) -> Assessment:
    """Checks a long text in overlapping windows; the most serious level wins."""
    level = Level.NONE
    reasons: list[str] = []
    start = 0
    while True:
        found = classifier.classify(text[start : start + CLASSIFY_WINDOW])
        if found.level.rank > level.rank:
            level = found.level
        reasons.extend(r for r in found.reasons if r not in reasons)
        if start + CLASSIFY_WINDOW >= len(text):
            return Assessment(level, tuple(reasons))
        start += CLASSIFY_WINDOW - CLASSIFY_OVERLAP


def _parse_state(contact_id: int, raw: str | None) -> SessionState | None:
    """The stored session state; None before the first turn or if it cannot be read."""
    if raw is None:
        return None
    try:
        return SessionState.from_json(raw)
    except Exception:
        log.exception("contact %s: stored session state unreadable; starting afresh", contact_id)
        return None


def _merged(plan: TurnPlan, limit: int) -> TurnPlan:
    """The plan with its replies joined into as few messages as fit (turns.merge_replies)."""
    replies = merge_replies(plan.replies, limit)
    return plan if replies == plan.replies else replace(plan, replies=replies)


class Pipeline:
    """Turns stored inbound messages into committed turns, per contact in order."""

    def __init__(
        self,
        *,
        store: Store,
        classifier: Classifier,
        texts: BotTexts,
        config: Config,
        clock: Callable[[], datetime],
        on_committed: Callable[[], None] = lambda: None,
        offer: Callable[[OutboxRow | None, bool], None] | None = None,
        concurrency: int = 16,
        merge_limits: Mapping[str, int] | None = None,
        health: WriteHealth | None = None,
        claims: Claims | None = None,
    ) -> None:
        self._store = store
        # Who processes a contact when several processes share a PostgreSQL database.
        self._claims = claims if claims is not None else SoleClaims()
        # Whether the database takes writes; shared with the channels (bot.app).
        self.health = health if health is not None else WriteHealth(store.probe_writes)
        self._classifier = classifier
        self._texts = texts
        self._config = config
        self._handlers: list[TurnHandler] = []
        # Per channel, how long a message a turn's replies may be joined into.
        self._merge_limits = dict(merge_limits or {})
        self._clock = clock
        self._on_committed = on_committed
        # Given each committed turn's first reply when it may be sent at once (or None),
        # and whether the turn queued nothing else: the outbox sender (bot.app).
        self._offer = offer
        self._slots = PrioritySlots(concurrency)
        self._deferral = RoutineDeferral()
        # Routine turns held by the deferral: each waits on its own future, resolved
        # when the hold ends (one timer for all) or when something for it arrives.
        self._held: dict[int, asyncio.Future[None]] = {}
        self._release_timer: asyncio.Task[None] | None = None
        self.backlogs_seen = 0  # how often a channel reported a backlog (for figures, tests)
        self.tally = Tally()  # counts for /metrics (shared with the sender: bot.app)
        # Crisis checks made when a message arrived, kept for its turn (see `receive`).
        self._assessed: dict[int, Assessment] = {}
        # Presses (answers to a question under way, a counsellor's "take case") are
        # never held back by a backlog; a take press also goes first, like a crisis.
        self._presses: dict[int, bool] = {}  # inbox id -> is a take press
        self._pending: dict[int, list[int]] = {}
        self._workers: dict[int, asyncio.Task[None]] = {}
        self._stopping = False
        self._stopped = asyncio.Event()
        # Seconds before the first retry of a failing message (doubling to RETRY_DELAY_CAP).
        self.retry_delay = 0.5

    def add_handler(self, handler: TurnHandler) -> None:
        """Adds a turn handler after those added before it (the order is the chain)."""
        self._handlers.append(handler)

    async def receive(self, inbound: Inbound) -> bool:
        """Stores one message durably and schedules it; False when it was a repeat.

        Raises WritesPaused while the database cannot be written: the channel then
        leaves the message with its transport, which offers it again later.
        """
        self.health.check()
        item = NewInbound(
            channel=inbound.channel,
            transport_id=storable(inbound.transport_id),
            kind=inbound.kind,
            text=storable(inbound.text),
            received_at=inbound.received_at or self._clock(),
            reply_to=inbound.reply_to,
            media=inbound.media,
        )
        address = storable(inbound.address)
        try:
            contact, inbox_id = await self._store.turns.receive(inbound.channel, address, item)
        except Exception as exc:
            if storage_unavailable(exc):
                self.health.failing(exc)
            raise
        if inbox_id is None:
            log.info("duplicate %s message for contact %s ignored", inbound.channel, contact.id)
            return False
        failpoint("after_receive")
        self._assess_early(inbox_id, item.kind, item.text)
        if contact.unreachable:
            # They wrote again, so they can be reached again (they unblocked the bot).
            await self._store.contacts.mark_unreachable(contact.id, False)
        self._schedule(contact.id, inbox_id)
        return True

    def concern(self, text: str) -> bool:
        """Whether the crisis check finds any concern in `text` (a failing check counts as
        one: asked only to decide whether something may be held back)."""
        try:
            return classify_windows(self._classifier, text).level is not Level.NONE
        except Exception as exc:
            log.error("crisis check failed (%s)", type(exc).__name__)
            return True

    def _assess_early(self, inbox_id: int, kind: str, text: str) -> None:
        """Checks a short text for crisis as it arrives, so that its turn can go first.

        The assessment is kept for the turn (it is not made twice); a long text, or
        a message recovered after a restart, is checked when its turn comes.
        """
        if kind == "choice":
            self._presses[inbox_id] = any(h.goes_first(kind, text) for h in self._handlers)
            return
        if kind != "text" or not text.strip() or len(text) > INLINE_CLASSIFY_CHARS:
            return
        try:
            self._assessed[inbox_id] = self._classifier.classify(text)
        except Exception as exc:
            log.error("message %s: crisis check failed (%s)", inbox_id, type(exc).__name__)

    def defer_routine(self) -> None:
        """A channel is still reading a backlog: routine turns wait a moment (`scheduling`)."""
        self.backlogs_seen += 1
        self._deferral.defer(asyncio.get_running_loop().time())

    def reading_backlog(self) -> bool:
        """Whether a channel is still reading a flood (routine turns are held)."""
        return self._deferral.wait(asyncio.get_running_loop().time()) > 0

    async def _routine_may_start(self, contact_id: int) -> None:
        """Waits while routine turns are held back, unless this contact's next turn must
        not wait: a press, or a crisis that arrived for them meanwhile.

        In a flood thousands of turns wait here: each sleeps on its own future until
        the hold ends or a new message for the contact arrives (`_schedule`), rather
        than waking to look again every few milliseconds.
        """
        loop = asyncio.get_running_loop()
        while not self._stopping and self._deferral.wait(loop.time()) > 0:
            queue = self._pending.get(contact_id)
            if not queue or queue[0] in self._presses or self._urgent_next(contact_id):
                return
            poke: asyncio.Future[None] = loop.create_future()
            self._held[contact_id] = poke
            if self._release_timer is None or self._release_timer.done():
                self._release_timer = asyncio.create_task(self._release_when_due())
            try:
                await poke
            finally:
                if self._held.get(contact_id) is poke:
                    del self._held[contact_id]

    async def _release_when_due(self) -> None:
        """Sleeps until the hold on routine turns ends (a flood may extend it), then lets
        every held turn go."""
        loop = asyncio.get_running_loop()
        while not self._stopping and (wait := self._deferral.wait(loop.time())) > 0:
            await asyncio.sleep(wait)
        self._wake_held()

    def _wake_held(self, contact_id: int | None = None) -> None:
        """Wakes one held contact's turn (to look again), or every held turn."""
        pokes = (
            list(self._held.values())
            if contact_id is None
            else [p for p in (self._held.get(contact_id),) if p is not None]
        )
        for poke in pokes:
            if not poke.done():
                poke.set_result(None)

    def _merge_limit(self, channel: str) -> int:
        return self._merge_limits.get(channel, MERGED_REPLY_CHARS)

    def _urgent_next(self, contact_id: int) -> bool:
        """Whether this contact's turns must go first: any message waiting for them was
        found worrying when it arrived, or is a counsellor's action press. (Their own
        messages stay in order: a crisis behind a greeting lifts the greeting too.)"""
        for inbox_id in self._pending.get(contact_id, ()):
            found = self._assessed.get(inbox_id)
            if (found is not None and found.level is not Level.NONE) or self._presses.get(
                inbox_id, False
            ):
                return True
        return False

    async def recover(self) -> int:
        """Schedules every stored message that was never processed (after a crash)."""
        count = 0
        after = 0
        while True:
            page = await self._store.inbox.pending_ids(after_id=after, limit=1000)
            for inbox_id, contact_id in page:
                if inbox_id not in self._pending.get(contact_id, ()):
                    self._schedule(contact_id, inbox_id)
                    count += 1
            if len(page) < 1000:
                break
            after = page[-1][0]
        if count:
            # Shared: a sweep every few seconds sees other processes' work under way too.
            level = logging.DEBUG if self._claims.shared else logging.INFO
            log.log(level, "recovered %s unprocessed messages", count)
        return count

    async def wait_idle(self) -> None:
        """Waits until every scheduled message has been processed."""
        while self._workers:
            await asyncio.gather(*list(self._workers.values()), return_exceptions=True)

    async def stop(self) -> None:
        """Lets messages under way finish; what is still queued stays in the inbox."""
        self._stopping = True
        self._stopped.set()
        self._wake_held()
        if self._release_timer is not None:
            self._release_timer.cancel()
        await self.wait_idle()

    # --- scheduling ---------------------------------------------------------

    def _schedule(self, contact_id: int, inbox_id: int) -> None:
        queue = self._pending.setdefault(contact_id, [])
        if inbox_id not in queue:
            bisect.insort(queue, inbox_id)
        self._wake_held(contact_id)  # a crisis or a press for a held turn lifts the hold
        if contact_id not in self._workers and not self._stopping:
            task = asyncio.create_task(self._drain(contact_id))
            self._workers[contact_id] = task

    async def _drain(self, contact_id: int) -> None:
        queue = self._pending[contact_id]
        try:
            if not self._claims.shared:
                await self._drain_queue(contact_id, queue)
                return
            pending_of = self._store.inbox.pending_of
            drain = lambda refresh: self._drain_queue(contact_id, queue, refresh)  # noqa: E731
            await drain_claimed(self._claims, contact_id, queue, pending_of, drain, self._forget)
        finally:
            self._workers.pop(contact_id, None)
            if not queue:
                self._pending.pop(contact_id, None)

    def _forget(self, inbox_ids: list[int]) -> None:
        """Another process holds these messages' contact: it processes them."""
        for inbox_id in inbox_ids:
            self._assessed.pop(inbox_id, None)
            self._presses.pop(inbox_id, None)

    async def _drain_queue(
        self,
        contact_id: int,
        queue: list[int],
        refresh: Callable[[], Awaitable[None]] | None = None,
    ) -> bool:
        """Processes the contact's queue in order (`refresh` first brings it up to date
        with messages other processes stored: `claimed`); True when it emptied it."""
        while queue and not self._stopping:
            if refresh is not None:
                await refresh()
            inbox_id = queue[0]
            if not self._urgent_next(contact_id):
                await self._routine_may_start(contact_id)
                if self._stopping:
                    break  # held, not under way: it stays in the inbox
            async with self._slots.take(urgent=self._urgent_next(contact_id)):
                done = await self._process_until_done(inbox_id)
            if not done:
                return False  # stopping, or given up for now: it stays in the inbox
            if inbox_id in queue:
                queue.remove(inbox_id)
            self._assessed.pop(inbox_id, None)
            self._presses.pop(inbox_id, None)
        return not queue

    async def _process_until_done(self, inbox_id: int) -> bool:
        """Processes one message, retrying in place so later ones never overtake it.

        After a few failures the family gets a reply saying their message is kept
        and a case opens for a person, so a bug never leaves anyone waiting in
        silence. A disk that refuses writes is no bug in the turn: the message
        waits, uncounted, until writes succeed again. Returns False when the pipeline
        is stopping, or when the message failed MAX_PROCESS_ATTEMPTS times: it stays
        in the inbox, and the contact's later messages wait behind it (their order).
        """
        delay = self.retry_delay
        attempt = 0
        while True:
            attempt += 1
            try:
                if attempt <= FALLBACK_AFTER_ATTEMPTS:
                    await self._process(inbox_id)
                else:
                    await self._process_fallback(inbox_id)
                return True
            except Exception as exc:
                if storage_unavailable(exc):
                    attempt -= 1
                    self.health.failing(exc)
                    if not await self._until_writable():
                        return False
                    continue
                log.error(
                    "message %s: processing failed (%s), attempt %s",
                    inbox_id,
                    type(exc).__name__,
                    attempt,
                    exc_info=attempt == 1,
                )
            if self._stopping:
                return False
            if attempt >= MAX_PROCESS_ATTEMPTS:
                log.error(
                    "message %s: left unprocessed after %s attempts; tried again when the "
                    "contact writes again or on the next start",
                    inbox_id,
                    attempt,
                )
                return False
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopped.wait(), delay)
            delay = min(delay * 2, RETRY_DELAY_CAP)

    async def _until_writable(self) -> bool:
        """Waits until the database takes writes again; False if stopping meanwhile."""
        if self.health.ok:
            return not self._stopping
        writable = asyncio.ensure_future(self.health.writable())
        stopped = asyncio.ensure_future(self._stopped.wait())
        await asyncio.wait({writable, stopped}, return_when=asyncio.FIRST_COMPLETED)
        writable.cancel()
        stopped.cancel()
        return not self._stopping

    # --- one turn -----------------------------------------------------------

    async def _process(self, inbox_id: int) -> None:
        start = await self._store.inbox.turn_start(inbox_id)
        if start is None:
            return  # already processed (for instance by recovery racing a live receive)
        row = start.row
        turn = Turn(row, _parse_state(row.contact_id, start.session), start.staff, start.held)
        handled: Handled | None = None
        checked = False
        for handler in self._handlers:
            if handler.checked and not checked:
                # Counsellors' own messages (and `/link`) were offered to the handlers
                # before this one; whatever is left is a family's, checked first.
                turn.assessment = await self._checked(row)
                checked = True
            handled = await handler.handle(turn)
            if handled is not None:
                break
        if handled is None:
            if not checked:
                turn.assessment = await self._checked(row)
            urgent = turn.assessment.level is Level.URGENT
            handled = Handled(fallback_plan(self._texts, self._config, turn.state, urgent))
        failpoint("before_commit")
        try:
            committed = await self._commit(row, handled)
        except StaleTurnError as exc:
            # What the turn was planned on changed before its commit: plan it afresh.
            log.info("contact %s message %s: %s; planned again", row.contact_id, row.id, exc)
            await self._process(inbox_id)
            return
        except SlotTakenError:
            if handled.replan is None:
                raise
            # Another family's write won the time: say so and offer the next free ones.
            log.info("contact %s message %s: chosen time just taken", row.contact_id, row.id)
            handled = await handled.replan()
            committed = await self._commit(row, handled)
        failpoint("after_commit")
        self._committed(handled, committed)
        if handled.plan.erase:
            # Messages sent after the erasure request moved to a new contact: schedule them.
            await self.recover()

    async def _checked(self, row: InboxRow) -> Assessment:
        """The crisis check of a family's message, logged when it found something: the
        level only. A log is kept for days in plain text, so it never ties a health
        category (the reasons) or a level to a contact or a message."""
        assessment = await self._assess(row)
        self.tally.assessed[assessment.level.value] += 1
        if assessment.level is not Level.NONE:
            log.warning("crisis check: a message assessed %s", assessment.level.value)
        return assessment

    async def _assess(self, row: InboxRow) -> Assessment:
        """The crisis check of every text a person wrote (captions included).

        Long texts are checked in overlapping windows, so the cost stays linear
        and nothing past some limit goes unread, in a worker thread so that one
        long message never stalls everyone else's replies. If the check itself
        fails, the message is treated as worrying: a gentle question costs less
        than a missed crisis.
        """
        if row.kind in ("choice", "start") or not row.text.strip():
            return Assessment(Level.NONE, ())
        early = self._assessed.get(row.id)
        if early is not None:
            return early
        try:
            if len(row.text) <= INLINE_CLASSIFY_CHARS:
                return self._classifier.classify(row.text)
            return await asyncio.to_thread(classify_windows, self._classifier, row.text)
        except Exception as exc:
            log.error("message %s: crisis check failed (%s)", row.id, type(exc).__name__)
            return Assessment(Level.CHECK, ("classifier_error",))

    async def _load_state(self, contact_id: int) -> SessionState | None:
        return _parse_state(contact_id, await self._store.sessions.get(contact_id))

    async def _process_fallback(self, inbox_id: int) -> None:
        """The last resort for a message that keeps failing: reply, open a case, mark it done."""
        row = await self._store.inbox.unprocessed(inbox_id)
        if row is None:
            return
        try:
            state = await self._load_state(row.contact_id)
        except Exception:
            state = None
        assessment = await self._assess(row)
        log.error("message %s: answered with the fallback reply; a case is open", row.id)
        urgent = assessment.level is Level.URGENT
        handled = Handled(fallback_plan(self._texts, self._config, state, urgent))
        self._committed(handled, await self._commit(row, handled))

    def _committed(self, handled: Handled, committed: CommittedTurn) -> None:
        """Tells the sender (its first reply, if it may go at once) and the workers."""
        if self._offer is not None:
            plan = handled.plan
            alone = len(committed.outbox_ids) == 1 and not (
                plan.cases or plan.erase or plan.quick_exit or handled.booking or handled.relay
            )
            self._offer(committed.first, alone)
        self._on_committed()

    async def _commit(self, row: InboxRow, handled: Handled) -> CommittedTurn:
        plan = handled.plan
        if handled.merge:
            plan = _merged(plan, self._merge_limit(row.channel))
        now = self._clock()
        write = TurnWrite(
            inbox_id=row.id,
            contact_id=row.contact_id,
            session_state=plan.state.to_json(),
            outbound=tuple(
                NewOutbound(
                    contact_id=row.contact_id,
                    channel=row.channel,
                    text=reply.text,
                    options=reply.options,
                    priority=plan.priority,
                    due_at=now,
                )
                for reply in plan.replies
            ),
            processed_at=now,
            cases=plan.cases,
            language=plan.language,
            consent=plan.consent,
            forget_text=plan.forget_text,
            audit=plan.audit,
            quick_exit=plan.quick_exit,
            erase=plan.erase,
            booking=handled.booking,
            rating=handled.rating,
            relay=handled.relay,
            missed=handled.missed,
            office=plan.office,
        )
        delay = 0.05
        for attempt in range(1, COMMIT_ATTEMPTS + 1):
            try:
                if self._offer is None:
                    return CommittedTurn(tuple(await self._store.turns.commit_turn(write)))
                return await self._store.turns.commit_turn_ready(write)
            except (SlotTakenError, StaleTurnError):
                raise  # not a failure to retry: the turn is planned again
            except Exception as exc:
                if storage_unavailable(exc):
                    raise  # the turn waits until the disk takes writes (_process_until_done)
                if attempt == COMMIT_ATTEMPTS:
                    # Left unprocessed in the inbox: it is tried again on the next start.
                    log.exception("contact %s message %s: commit failed", row.contact_id, row.id)
                    raise
                log.warning(
                    "contact %s message %s: commit failed, retrying", row.contact_id, row.id
                )
                await asyncio.sleep(delay)
                delay *= 4
        raise AssertionError("unreachable: the last attempt returns or raises")
