"""The outbox sender: delivers due replies through their channel, at least once.

Rows are taken most urgent first (counsellor alerts, then safety replies:
bot.core.turns PRIORITY_*), one at a time per person so that a person's replies arrive in
order, within each channel's rate limits. A failed send is retried with backoff
or after the transport's `retry_after`; a person who blocked the bot is marked
unreachable instead of being retried forever. A crash between a send and its
sent mark means the reply is sent again on restart: at least once, never lost.

What became of a send is recorded in the row (sent, retry at, failed, attempts).
When that record cannot be written (a full disk), the outcome is kept in memory
and the row is not sent again by this process until the record is written: so a
database that fails can never reset the attempt count and make a row go out
again and again (each one a paid message on WhatsApp).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.channels.base import (
    Channel,
    DeliveryError,
    Held,
    Outbound,
    Probing,
    RetryLater,
    Undeliverable,
    Unreachable,
)
from bot.core.failpoints import failpoint
from bot.core.ratelimit import RateLimiter
from bot.core.tally import Tally
from bot.core.upstream import UPSTREAM_CODES, UpstreamWatch
from bot.core.worker import Worker
from storage.engine.claims import Claims, SoleClaims
from storage.errors import DecryptError, WrongKeyError, is_storage_fault
from storage.records import OutboxHead, OutboxRow
from storage.store import Store

__all__ = ["Deliver", "Gate", "OutboxSender", "RefHandler"]

log = logging.getLogger(__name__)

MAX_BACKOFF_SECONDS = 900.0
POLL_SECONDS = 5.0
# Rows looked at per pass. A pass runs after every finished send, and only a few
# sends run at once, so a short look (most urgent first) is enough; a long one cost
# a millisecond of query per send when thousands of replies were queued.
HEADS_PER_LOOK = 48
# While the database refuses what became of sends, writing them is tried this often.
RECORD_AGAIN_SECONDS = 1.0
# A transport's `retry_after` holds the chat it was answered for as long as it says; the
# rest of the channel (other families, crisis replies) pauses this long at most.
CHANNEL_PAUSE_SECONDS = 1.0
# Several processes (PostgreSQL): rows another process committed, or a dead process
# left, are looked for at least this often; the live processes are counted as often,
# and each sends at its share of every channel's rate.
SHARED_POLL_SECONDS = 1.0

Deliver = Callable[[OutboxRow, Channel, Outbound], Awaitable[str | None]]
"""Delivers a row with a `ref` in its own way (a counsellor alert edited, a voice note
copied from one chat to another: bot.handoff.delivery); raises DeliveryError like `send`."""

Gate = Callable[[OutboxRow], Awaitable[str | None]]
"""Asked before a row with a `ref` goes out: None sends it, a code withdraws it (for
instance a booking reminder while a counsellor is handling the family live)."""


@dataclass(frozen=True, slots=True)
class RefHandler:
    """How rows whose `OutboxRef` is of one kind go out; a missing part means as usual."""

    gate: Gate | None = None
    deliver: Deliver | None = None


class OutboxSender(Worker):
    """Sends what is due; woken by the pipeline after each committed turn."""

    def __init__(
        self,
        store: Store,
        channels: Mapping[str, Channel],
        *,
        clock: Callable[[], datetime],
        monotonic: Callable[[], float] = time.monotonic,
        concurrency: int = 8,
        max_attempts: int = 25,
        claims: Claims | None = None,
    ) -> None:
        super().__init__()
        self._store = store
        # Which process sends a contact's replies now (several processes: one at a time).
        self._claims = claims if claims is not None else SoleClaims()
        self._shared_at = 0.0  # when the live processes were last counted (monotonic)
        # Rows sent whose record waits (unrecorded): their contact's claim is kept till then.
        self._claimed_unrecorded: dict[int, int] = {}
        self._refs: dict[str, RefHandler] = {}
        self._channels = dict(channels)
        self._clock = clock
        self._monotonic = monotonic
        self._limiters = {
            name: RateLimiter(ch.max_per_second, ch.per_chat_interval)
            for name, ch in self._channels.items()
        }
        self._slots = asyncio.Semaphore(concurrency)
        self._max_attempts = max_attempts
        self._inflight_rows: set[int] = set()
        # Rows whose send finished while a read of due rows was under way: that read
        # may still see them pending, so this pass leaves them (no duplicate send).
        self._finished_rows: set[int] = set()
        self._inflight_contacts: set[int] = set()
        # Contacts whose reply was offered while their previous one was on its way: looked
        # for once that one is done (`offer`).
        self._offered_behind: set[int] = set()
        self._running = False  # between `run` starting and ending: offers are taken only then
        self.sent_at_once = 0  # offered replies sent without a pass (benchmarks, tests)
        # The last pass left due rows it could not start (a rate limit, a full page): until
        # a pass finds none, nothing is sent past them (`offer`).
        self._backlog = False
        # Per row, the write recording what became of its send, not yet written (the
        # database refused it): the row is not sent again until it is (`_record`).
        self._unrecorded: dict[int, Callable[[], Awaitable[None]]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._idle = asyncio.Event()
        self._record_after = 0.0  # when `_record_again` may write again (monotonic)
        self.tally = Tally()  # sends and failures for /metrics (bot.app shares one)
        # Replies waiting after an upstream fault go as soon as it answers (bot.core.upstream).
        self.upstream = UpstreamWatch(
            self._retry_now,
            self.wake,
            {
                name: (ch.probe if isinstance(ch, Probing) else None)
                for name, ch in self._channels.items()
            },
        )

    async def _retry_now(self, channel: str, limit: int | None) -> int:
        return await self._store.outbox.retry_now(
            channel, UPSTREAM_CODES, self._clock(), limit=limit
        )

    async def run(self) -> None:
        """Sends until stopped (`Worker.run`); offered replies are sent at once only meanwhile."""
        self._running = True
        try:
            await super().run()
        finally:
            self._running = False

    async def tick(self) -> float:
        """Starts the sends of what is due; the pause is until the next row falls due."""
        if not self._claims.shared:
            return await self._dispatch_due()
        if self._monotonic() >= self._shared_at:
            self._shared_at = self._monotonic() + SHARED_POLL_SECONDS
            processes = await self._claims.processes()
            for limiter in self._limiters.values():
                limiter.share(processes)
        return min(SHARED_POLL_SECONDS, await self._dispatch_due())

    def failed(self, exc: Exception, failures: int) -> float:
        # A database hiccup must not silence every family: log, back off, go on.
        log.error("outbox: looking for due rows failed (%s)", type(exc).__name__)
        return min(POLL_SECONDS, 0.1 * 2.0**failures)

    async def stop(self) -> None:
        """Stops taking rows and waits for sends already under way."""
        await super().stop()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.upstream.close()

    async def wait_idle(self, timeout: float = 30.0) -> None:
        """Waits until nothing is due now and nothing is in flight (for tests and scripts)."""
        deadline = self._monotonic() + timeout
        while self._monotonic() < deadline:
            if not self._tasks:
                heads = await self._store.outbox.heads(self._clock(), limit=50)
                sendable = [h for h in heads if h.channel in self._channels]
                if not sendable:
                    return
            self._wake.set()
            await asyncio.sleep(0.01)
        raise TimeoutError("outbox did not become idle")

    async def _dispatch_due(self) -> float:
        """Starts sends for what may go now; returns how long to sleep before looking again."""
        now = self._clock()
        self._finished_rows.clear()
        if self._unrecorded:
            await self._record_again()
        heads = await self._store.outbox.heads(now, limit=HEADS_PER_LOOK)
        pause = POLL_SECONDS
        backlog = len(heads) >= HEADS_PER_LOOK
        # Several processes: only the contacts this one claimed (None: alone, all of them).
        claimed = await self._claim_sends(heads) if self._claims.shared else None
        for head in heads:
            if claimed is not None and head.contact_id not in claimed:
                continue
            if head.id in self._inflight_rows or head.id in self._finished_rows:
                continue
            if head.id in self._unrecorded:
                pause = min(pause, RECORD_AGAIN_SECONDS)
                continue  # sent (or tried) already: its record is written first
            if head.contact_id in self._inflight_contacts:
                continue  # this person's previous reply is still on its way
            channel = self._channels.get(head.channel)
            if channel is None:
                continue  # another process owns this channel
            chat = str(head.contact_id)
            wait = self._limiters[head.channel].wait_time(chat, self._monotonic())
            if wait > 0:
                pause = min(pause, wait)
                backlog = True
                continue
            self._limiters[head.channel].take(chat, self._monotonic())
            if claimed is not None:
                claimed.discard(head.contact_id)
            self._start(head, channel)
        self._backlog = backlog or bool(self._unrecorded)
        if claimed:
            await self._claims.release_sends(claimed)  # claimed, but not started in this pass
        # Only a moment still to come can shorten the sleep; rows due now that were
        # left (rate limit, in flight) wake the sender themselves.
        next_due = await self._store.outbox.next_due_at(after=now)
        if next_due is not None:
            pause = min(pause, max(0.0, (next_due - self._clock()).total_seconds()))
        return max(pause, 0.001)

    async def _claim_sends(self, heads: list[OutboxHead]) -> set[int]:
        """The contacts of `heads` this process may send to now (several processes)."""
        wanted = {
            h.contact_id
            for h in heads
            if h.contact_id not in self._inflight_contacts
            and h.id not in self._inflight_rows
            and h.id not in self._finished_rows
            and h.id not in self._unrecorded
            and h.channel in self._channels
        }
        return await self._claims.claim_sends(wanted)

    async def _release_send(self, head: OutboxHead) -> None:
        """Another process may send this contact's next reply (once this one is recorded)."""
        if not self._claims.shared:
            return
        if head.id in self._unrecorded:
            self._claimed_unrecorded[head.id] = head.contact_id
            return
        try:
            await self._claims.release_sends({head.contact_id})
        except Exception as exc:  # the connection is gone: so is the claim
            log.warning("outbox: release failed (%s)", type(exc).__name__)

    def offer(self, row: OutboxRow | None, *, alone: bool = False) -> None:
        """Told of a committed turn: sends its first reply now when nothing goes before it.

        `row` is the turn's first reply, read back in the turn's own transaction when
        no earlier row of the contact is pending (`TurnRepo.commit_turn_ready`); `alone`
        says the turn queued nothing else. Such a reply is sent at once, without a pass
        looking for due rows and reading the row again, when this process sends alone,
        the contact has no reply on its way, the channel's rate allows it now and the
        last pass left no due rows waiting (they were there first, perhaps more urgent).
        Otherwise, and
        whenever the turn queued more, a pass looks for due rows as after any commit.

        Several processes (PostgreSQL) send as before: each pass claims the families
        of many rows in one round trip, where an offer would need a claim, a check that
        no other process sent the reply first and a release for each (measured: no
        less CPU per message on the bot, more on PostgreSQL; docs/performance.md).
        """
        if row is not None and self._take(row) and alone:
            return
        self.wake()

    def _take(self, row: OutboxRow) -> bool:
        """Starts sending `row` now if it may go before any pass (see `offer`)."""
        if not self._running or self._stopping or self._claims.shared:
            return False
        if self._backlog or self._unrecorded:
            return False
        if row.id in self._inflight_rows or row.id in self._finished_rows:
            return False
        if row.contact_id in self._inflight_contacts:
            self._offered_behind.add(row.contact_id)
            return False
        channel = self._channels.get(row.channel)
        limiter = self._limiters.get(row.channel)
        if channel is None or limiter is None:
            return False
        chat = str(row.contact_id)
        if limiter.wait_time(chat, self._monotonic()) > 0:
            return False
        limiter.take(chat, self._monotonic())
        head = OutboxHead(row.id, row.contact_id, row.channel, row.priority, row.due_at, 0)
        self._start(head, channel, row)
        self.sent_at_once += 1
        return True

    def _start(self, head: OutboxHead, channel: Channel, row: OutboxRow | None = None) -> None:
        self._inflight_rows.add(head.id)
        self._inflight_contacts.add(head.contact_id)
        task = asyncio.create_task(self._send(head, channel, row))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _send(self, head: OutboxHead, channel: Channel, ready: OutboxRow | None) -> None:
        """Sends one row: `ready` (offered, already read) or read now; then, unless it was
        offered and its contact has nothing more pending, looks for due rows again."""
        look_again = ready is None
        try:
            async with self._slots:
                row = ready if ready is not None else await self._load(head)
                if row is not None and row.attempts != head.attempts:
                    # Another process tried it since it was looked at (a retry time may
                    # now hold it): looked at again on the next pass.
                    row = None
                if row is not None:
                    if not await self._deliver(row, channel):
                        look_again = True
        except Exception as exc:
            # Counted as a failed attempt, so it is retried with backoff but not forever.
            # Only the type is logged: an SDK's message may hold a number or a token.
            if not is_storage_fault(exc):
                log.error(
                    "outbox row %s: unexpected error while sending (%s)",
                    head.id,
                    type(exc).__name__,
                )
            look_again = True
            with contextlib.suppress(Exception):
                await self._retry_head(head, channel, RetryLater(type(exc).__name__))
        finally:
            await self._release_send(head)
            self._inflight_rows.discard(head.id)
            self._finished_rows.add(head.id)
            self._inflight_contacts.discard(head.contact_id)
            if head.contact_id in self._offered_behind:
                self._offered_behind.discard(head.contact_id)
                look_again = True
            if look_again or self._backlog:
                self._wake.set()

    async def _load(self, head: OutboxHead) -> OutboxRow | None:
        """The row's words and address; a row that cannot be decrypted is failed, not retried."""
        try:
            return await self._store.outbox.load(head.id)
        except (DecryptError, WrongKeyError) as exc:
            log.error(
                "outbox row %s: cannot be decrypted (%s); failed", head.id, type(exc).__name__
            )
            await self._record(head.id, self._failed_mark(head.id, "undecryptable"))
            return None

    def handle_refs(
        self, kind: str, *, gate: Gate | None = None, deliver: Deliver | None = None
    ) -> None:
        """Says how rows whose ref is of `kind` go out (the module owning the kind calls it)."""
        if kind in self._refs:
            raise ValueError(f"outbox refs of kind {kind!r} have a handler already")
        self._refs[kind] = RefHandler(gate, deliver)

    async def _deliver(self, row: OutboxRow, channel: Channel) -> bool:
        """Sends a row and records what became of it; True when it was sent, recorded,
        and its contact has nothing more pending (no pass needs to look for their next)."""
        handler = None if row.ref is None else self._refs.get(row.ref.kind)
        if handler is not None and handler.gate is not None:
            withdrawn = await handler.gate(row)
            if withdrawn is not None:
                log.info("outbox row %s (%s): withdrawn, %s", row.id, row.ref, withdrawn)
                await self._record(row.id, self._failed_mark(row.id, withdrawn))
                return False
        message = Outbound(row.id, row.address, row.text, row.options)
        try:
            if handler is not None and handler.deliver is not None:
                provider_id = await handler.deliver(row, channel, message)
            else:
                provider_id = await channel.send(message)
        except Unreachable as exc:
            self.tally.send_failed(channel.name, exc.code)
            log.info("outbox row %s: contact %s unreachable (%s)", row.id, row.contact_id, exc.code)
            failed = self._failed_mark(row.id, exc.code)
            contact = row.contact_id

            async def unreachable() -> None:
                await failed()
                await self._store.contacts.mark_unreachable(contact, True)

            await self._record(row.id, unreachable)
            return False
        except Undeliverable as exc:
            self.tally.send_failed(channel.name, exc.code)
            log.info("outbox row %s: cannot be delivered (%s)", row.id, exc.code)
            await self._record(row.id, self._failed_mark(row.id, exc.code))
            return False
        except Held as exc:
            log.info("outbox row %s: held by the channel (%s)", row.id, exc.code)
            return False
        except DeliveryError as exc:
            self.tally.send_failed(channel.name, exc.code)
            await self._retry(row, channel, exc)
            return False
        except (OSError, TimeoutError) as exc:
            self.tally.send_failed(channel.name, type(exc).__name__)
            await self._retry(row, channel, RetryLater(type(exc).__name__))
            return False
        self.tally.sent[channel.name] += 1
        failpoint("after_send")
        self.upstream.succeeded(channel.name)
        try:
            more = await self._store.outbox.mark_sent(row.id, provider_id, self._clock())
        except Exception as exc:
            # Sent: never again from this process, whatever the database does meanwhile.
            sent_at = self._clock()

            async def sent() -> None:
                await self._store.outbox.mark_sent(row.id, provider_id, sent_at)

            self._keep_unrecorded(row.id, sent, exc)
            return False
        return not more

    async def _retry(self, row: OutboxRow, channel: Channel, exc: DeliveryError) -> None:
        await self._retry_head(row, channel, exc)

    async def _retry_head(
        self, row: OutboxRow | OutboxHead, channel: Channel, exc: DeliveryError
    ) -> None:
        attempts = row.attempts + 1
        if attempts >= self._max_attempts:
            log.warning(
                "outbox row %s: giving up after %s attempts (%s)", row.id, attempts, exc.code
            )
            await self._record(row.id, self._failed_mark(row.id, exc.code))
            return
        if exc.retry_after is not None:
            # Honoured for the chat it was answered for, as the transport requires; other
            # chats wait a moment at most (a flood of 429s would say so for each).
            delay = max(0.0, exc.retry_after)
            limiter, now = self._limiters[channel.name], self._monotonic()
            limiter.block_chat(str(row.contact_id), delay, now)
            limiter.block(min(delay, CHANNEL_PAUSE_SECONDS), now)
        else:
            delay = min(MAX_BACKOFF_SECONDS, 0.5 * 2**attempts)
            self.upstream.failed(channel.name, exc.code)
        log.info("outbox row %s: retry in %.1fs (%s)", row.id, delay, exc.code)
        retry_at = self._clock() + timedelta(seconds=delay)
        row_id, code = row.id, exc.code

        async def retry() -> None:
            await self._store.outbox.mark_retry(row_id, code, retry_at)

        await self._record(row.id, retry)

    # --- what became of a send, recorded even through a failing database -------

    def _failed_mark(self, row_id: int, code: str) -> Callable[[], Awaitable[None]]:
        at = self._clock()

        async def failed() -> None:
            await self._store.outbox.mark_failed(row_id, code, at)

        return failed

    async def _record(self, row_id: int, write: Callable[[], Awaitable[None]]) -> None:
        """Writes what became of a send; if the database refuses, keeps it to write later."""
        try:
            await write()
        except Exception as exc:
            self._keep_unrecorded(row_id, write, exc)

    def _keep_unrecorded(
        self, row_id: int, write: Callable[[], Awaitable[None]], exc: Exception
    ) -> None:
        if row_id not in self._unrecorded:
            level = logging.INFO if is_storage_fault(exc) else logging.ERROR
            log.log(
                level,
                "outbox row %s: its send is kept in memory until it can be recorded (%s)",
                row_id,
                type(exc).__name__,
            )
        self._unrecorded[row_id] = write

    async def _record_again(self) -> None:
        """Writes the records the database refused before (most at once, in one batch)."""
        now = self._monotonic()
        if now < self._record_after:
            return
        self._record_after = now + RECORD_AGAIN_SECONDS
        pending = list(self._unrecorded.items())
        results = await asyncio.gather(*(write() for _, write in pending), return_exceptions=True)
        written = 0
        for (row_id, write), result in zip(pending, results, strict=True):
            if not isinstance(result, BaseException) and self._unrecorded.get(row_id) is write:
                del self._unrecorded[row_id]
                written += 1
                if (contact := self._claimed_unrecorded.pop(row_id, None)) is not None:
                    with contextlib.suppress(Exception):
                        await self._claims.release_sends({contact})
        if written:
            log.info("outbox: %s sends recorded that the database had refused", written)
