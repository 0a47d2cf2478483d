"""The live queue: one reader of the database shared by every open console tab.

Each tab listening to `/console/queue/events` subscribes here. While anyone
listens, one task reads the queue every `interval` seconds (or at once when
`wake` is called after a take or a release) and publishes a new snapshot only
when something changed; listeners wait on an event, so a hundred tabs cost one
query per interval, not a hundred. With nobody listening the task stops. `close`
(on shutdown) ends every stream at once, so the web server need not wait on them.

On PostgreSQL the queue is read when the database says a case changed, whichever
process changed it (`bot.core.live`, LISTEN/NOTIFY), and only every `backstop`
seconds otherwise; while the listener is down (and always on SQLite) every
`interval` seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

from bot.core.live import LiveChanges
from storage.handoff.records import LiveCase

__all__ = ["FeedSettings", "Listener", "QueueFeed", "QueueSnapshot"]

log = logging.getLogger(__name__)

Load = Callable[[], Awaitable[tuple[list[LiveCase], list[LiveCase]]]]
"""Reads (cases waiting, cases being handled)."""


@dataclass(frozen=True, slots=True)
class FeedSettings:
    interval: float = 2.0  # seconds between reads of the queue while anyone listens
    backstop: float = 15.0  # the same while the database tells each change (PostgreSQL)
    heartbeat: float = 30.0  # a quiet stream re-renders (waiting minutes) and re-checks the session
    lifetime: float = 3600.0  # a stream ends after this; the browser reconnects by itself


@dataclass(frozen=True, slots=True)
class QueueSnapshot:
    version: int
    waiting: tuple[LiveCase, ...]
    taken: tuple[LiveCase, ...]


def _key(waiting: list[LiveCase], taken: list[LiveCase]) -> tuple[object, ...]:
    def one(c: LiveCase) -> tuple[object, ...]:
        return (c.id, c.urgency, c.status, c.owner_staff_id, c.waiting_since, c.category, c.crisis)

    return (tuple(one(c) for c in waiting), tuple(one(c) for c in taken))


class QueueFeed:
    """Publishes queue snapshots to any number of listeners from one reading task."""

    def __init__(
        self, load: Load, settings: FeedSettings | None = None, live: LiveChanges | None = None
    ) -> None:
        self._load = load
        self.settings = settings or FeedSettings()
        self.live = live
        self._snapshot: QueueSnapshot | None = None
        self._key: tuple[object, ...] | None = None
        self._version = 0
        self._changed = asyncio.Event()
        self._wake = asyncio.Event()
        self._listeners = 0
        self._task: asyncio.Task[None] | None = None
        self._closed = False
        self.reads = 0  # how many times the queue was read (for tests and figures)
        if live is not None:
            live.watch(self._told)

    def _told(self, topic: str | None) -> None:
        """A case changed in some process (None: anything may have): read the queue now."""
        if topic is None or topic.startswith("case:"):
            self._wake.set()

    def pace(self) -> float:
        """Seconds until the next read unless woken: long while changes are told."""
        live = self.live is not None and self.live.live
        return self.settings.backstop if live else self.settings.interval

    @property
    def listeners(self) -> int:
        return self._listeners

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def snapshot(self) -> QueueSnapshot | None:
        return self._snapshot

    def wake(self) -> None:
        """Reads the queue now rather than at the next interval (after a take or release)."""
        self._wake.set()

    def close(self) -> None:
        """Ends every stream (on shutdown); new listeners end at once."""
        self._closed = True
        self._signal()
        self._wake.set()
        if self.live is not None:
            self.live.wake_all()  # the live case pages' streams wait there

    def _signal(self) -> None:
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    async def refresh(self) -> None:
        """Reads the queue once and publishes it if it changed."""
        waiting, taken = await self._load()
        self.reads += 1
        key = _key(waiting, taken)
        if self._snapshot is None or key != self._key:
            self._version += 1
            self._key = key
            self._snapshot = QueueSnapshot(self._version, tuple(waiting), tuple(taken))
            self._signal()

    async def _run(self) -> None:
        try:
            while self._listeners > 0 and not self._closed:
                self._wake.clear()
                try:
                    await self.refresh()
                except Exception:
                    log.exception("console queue feed: reading the queue failed; trying again")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.pace())
        finally:
            self._task = None

    @contextlib.asynccontextmanager
    async def listen(self) -> AsyncIterator[Listener]:
        """A subscription for one stream; leaving the block unsubscribes."""
        self._listeners += 1
        if self._task is None and not self._closed:
            self._snapshot = None  # nobody was listening: what we had may be stale
            self._task = asyncio.create_task(self._run(), name="console-queue-feed")
        try:
            with self.live.hold() if self.live is not None else contextlib.nullcontext():
                yield Listener(self)
        finally:
            self._listeners -= 1
            if self._listeners == 0:
                self._wake.set()  # lets the reading task see it may stop

    async def stop(self) -> None:
        """Closes and waits for the reading task (tests and shutdown)."""
        self.close()
        task = self._task
        if task is not None:
            await task


class Listener:
    """One stream's view of the feed: the snapshots it has not seen yet."""

    def __init__(self, feed: QueueFeed) -> None:
        self._feed = feed
        self._seen = 0

    @property
    def closed(self) -> bool:
        return self._feed.closed

    async def next(self) -> QueueSnapshot | None:
        """The next unseen snapshot; None after a quiet heartbeat or once the feed closed."""
        feed = self._feed
        if feed.closed:
            return None
        snapshot = feed.snapshot
        if snapshot is None or snapshot.version == self._seen:
            changed = feed._changed
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), feed.settings.heartbeat)
            snapshot = feed.snapshot
            if feed.closed or snapshot is None or snapshot.version == self._seen:
                return None
        self._seen = snapshot.version
        return snapshot
