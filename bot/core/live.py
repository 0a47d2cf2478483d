"""What changed, told to the live pages (console, web chat) as soon as the database says so.

On PostgreSQL several processes write to one database: a case opened by one must
reach a counsellor whose page another serves. `LiveChanges` holds the store's
`ChangeListener` (`storage.engine.pglive`: one LISTEN connection, kept up) and
hands each topic (`case:12`, `thread:34`, `staff:5`: codes and ids, never words)
to whoever watches it: the queue feed (every `case:` topic), each live case
page (its case, its contact's thread, its reader) and each web chat poll (its
address's `webchat:` topic). One per store (`of`), so a process keeps one LISTEN
connection for all of them. After the listener connected
again (or for the first time) every watcher is told "everything" (`None`): what
changed in between was not told, so each reads once more.

The listener runs while some stream is open (`hold`): the first opens its
connection, the last closes it, at once after a console stream, `LINGER` seconds
after a web chat poll (the page polls again at once: no connection per poll);
with no page open nothing is listening and nothing needs telling (a new stream
reads everything first anyway).

On SQLite there is no listener: one process writes, `live` is False, and the
streams poll every `FeedSettings.interval` as they always did. While the listener
is down (the server restarting) `live` is False too and they poll again, so a
dropped connection costs seconds of freshness, never a missed case.
"""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from collections.abc import Callable, Iterator, Sequence

from storage.engine.pglive import ChangeListener
from storage.store import Store

__all__ = ["LiveChanges", "Subscription"]

Watcher = Callable[[str | None], None]
"""Told each topic, or None for "anything may have changed" (after a gap)."""

LINGER = 60.0  # seconds the listener stays up after the last web chat poll ended


class Subscription:
    """One stream's wake-up: set when one of its topics (or everything) changed.

    `clear` before reading, read, then `wait`: a change made while reading sets the
    event again, so it is never slept through.
    """

    def __init__(self, topics: Sequence[str], event: asyncio.Event | None = None) -> None:
        self.topics = frozenset(topics)
        self._event = event if event is not None else asyncio.Event()

    def clear(self) -> None:
        self._event.clear()

    def set(self) -> None:
        self._event.set()

    async def wait(self, timeout: float) -> bool:
        """True when woken by a change, False after `timeout` seconds."""
        try:
            await asyncio.wait_for(self._event.wait(), timeout)
        except TimeoutError:
            return False
        return True


class LiveChanges:
    """The database's change notifications, fanned out to the live pages' streams."""

    _shared: weakref.WeakKeyDictionary[Store, LiveChanges] = weakref.WeakKeyDictionary()

    @classmethod
    def of(cls, store: Store) -> LiveChanges:
        """The one `LiveChanges` of this store (the console and the web chat share it)."""
        found = cls._shared.get(store)
        if found is None:
            found = cls._shared[store] = cls(store)
        return found

    def __init__(self, store: Store) -> None:
        self._store = store
        self._idle: asyncio.TimerHandle | None = None
        self._listener: ChangeListener | None = None
        self._holders = 0
        self._stopped = False
        self._closing: set[asyncio.Task[None]] = set()
        self._watchers: list[Watcher] = []
        self._subscriptions: set[Subscription] = set()

    @property
    def live(self) -> bool:
        """Whether changes are told now (PostgreSQL, listener connected); else poll."""
        return self._listener is not None and self._listener.connected

    @property
    def listener(self) -> ChangeListener | None:
        return self._listener

    @contextlib.contextmanager
    def hold(self, linger: float = 0.0) -> Iterator[None]:
        """Keeps the listener up while the block runs (one open stream), and `linger`
        seconds after if it was the last; inside the running loop."""
        self._holders += 1
        if self._idle is not None:
            self._idle.cancel()
            self._idle = None
        if self._listener is None and not self._stopped:
            self._listener = self._store.change_listener(self._changed, self._gap)
            if self._listener is not None:
                self._listener.start()
        try:
            yield
        finally:
            self._holders -= 1
            if self._holders == 0 and self._listener is not None:
                if linger <= 0:
                    self._let_go()
                else:
                    self._idle = asyncio.get_running_loop().call_later(linger, self._let_go)

    def _let_go(self) -> None:
        self._idle = None
        if self._holders > 0:
            return
        listener, self._listener = self._listener, None
        if listener is not None:
            task = asyncio.get_running_loop().create_task(listener.close())
            self._closing.add(task)
            task.add_done_callback(self._closing.discard)

    def stop(self) -> None:
        """Stops listening for good (a shutdown hook); every waiting stream wakes."""
        self._stopped = True
        if self._idle is not None:
            self._idle.cancel()
            self._idle = None
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.stop()
        self.wake_all()

    async def close(self) -> None:
        """`stop`, and waits until every connection is closed; a later `hold` (the store
        bound again) starts listening again."""
        listener = self._listener
        self.stop()
        if listener is not None:
            await listener.close()
        for task in list(self._closing):
            await task
        self._stopped = False

    async def settled(self) -> None:
        """Waits until every listener let go of is closed (a stopping worker that held one)."""
        for task in list(self._closing):
            await task

    def wake_all(self) -> None:
        """Wakes every waiting stream (shutdown: each sees the feed closed and ends)."""
        for subscription in self._subscriptions:
            subscription.set()

    def watch(self, watcher: Watcher) -> None:
        self._watchers.append(watcher)

    @contextlib.contextmanager
    def subscribe(
        self, topics: Sequence[str], event: asyncio.Event | None = None
    ) -> Iterator[Subscription]:
        """A wake-up for these topics while the block runs (setting `event` if given)."""
        subscription = Subscription(topics, event)
        self._subscriptions.add(subscription)
        try:
            yield subscription
        finally:
            self._subscriptions.discard(subscription)

    def _changed(self, topic: str) -> None:
        for watcher in self._watchers:
            watcher(topic)
        for subscription in self._subscriptions:
            if topic in subscription.topics:
                subscription.set()

    def _gap(self) -> None:
        for watcher in self._watchers:
            watcher(None)
        self.wake_all()
