"""The work one process at a time must do: escalation, retention, the privacy worker,
Telegram's getUpdates (Telegram allows one consumer per token).

`Leadership` runs the workers it was given while this process leads, and stops
them when it no longer does. With SQLite (no lock: one process per data folder)
it leads from the start, as before. With PostgreSQL it holds the leader lock
(`storage.engine.leader`): a process that is not the leader asks for the lock
every `poll` seconds, so when the leader dies (the server ends its connection
and frees the lock) another takes over within about one poll; the leader checks
its own connection as often, and stops leading the moment it is lost.

Anything else that must run on one process only waits on `until_leading`
(the Telegram poller does, before each fetch) or registers with `add`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Protocol

from bot.core.worker import Worker

__all__ = ["LEADER_POLL_SECONDS", "Leadership", "LeaderLockLike"]

log = logging.getLogger(__name__)

LEADER_POLL_SECONDS = 1.0
# While leading on PostgreSQL, these workers are woken this often too: work another
# process committed (an urgent case to alert) wakes only that process's own workers.
NUDGE_SECONDS = 2.0


class LeaderLockLike(Protocol):
    async def try_lead(self) -> bool: ...

    async def still_leading(self) -> bool: ...

    async def resign(self) -> None: ...


class Leadership:
    """Runs `add`ed workers while this process leads (always, without a lock)."""

    def __init__(
        self,
        lock: LeaderLockLike | None = None,
        *,
        poll: float = LEADER_POLL_SECONDS,
        on_change: Callable[[bool], None] = lambda leading: None,
    ) -> None:
        self._lock = lock
        self._poll = poll
        self._on_change = on_change
        self._workers: list[Worker] = []
        self._nudged: list[Worker] = []
        self._running: dict[int, asyncio.Task[None]] = {}
        self._leading = asyncio.Event()
        self._stopping = asyncio.Event()
        self.terms = 0  # how many times this process became the leader (figures, tests)

    @property
    def leading(self) -> bool:
        return self._leading.is_set()

    def add(self, worker: Worker, *, nudge: bool = False) -> None:
        """Runs `worker` while leading; `nudge`: also woken every NUDGE_SECONDS when shared."""
        self._workers.append(worker)
        if nudge:
            self._nudged.append(worker)

    async def until_leading(self) -> None:
        """Returns once this process leads (at once, when it does)."""
        await self._leading.wait()

    async def run(self) -> None:
        """Leads when it can until `stop`."""
        if self._lock is None:
            self._lead()
            await self._stopping.wait()
            return
        lock = self._lock
        while not self._stopping.is_set():
            try:
                if self.leading:
                    if not await lock.still_leading():
                        log.warning("leadership lost (its database connection ended)")
                        await self._follow()
                    else:
                        for worker in self._nudged:
                            worker.wake()
                elif await lock.try_lead():
                    log.info("leading: escalation, retention, privacy and polling run here")
                    self._lead()
            except Exception as exc:
                log.error("leadership check failed (%s)", type(exc).__name__)
            pause = NUDGE_SECONDS if self.leading else self._poll
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), min(pause, self._poll))

    def _lead(self) -> None:
        self.terms += 1
        for worker in self._workers:
            worker.resume()
            self._running[id(worker)] = asyncio.create_task(worker.run())
        self._leading.set()
        self._on_change(True)

    async def _follow(self) -> None:
        """Stops the leader's workers (their passes under way finish)."""
        self._leading.clear()
        self._on_change(False)
        for worker in self._workers:
            await worker.stop()
        running, self._running = list(self._running.values()), {}
        await asyncio.gather(*running, return_exceptions=True)

    async def stop(self) -> None:
        """Stops the workers and lets go of the lead."""
        self._stopping.set()
        await self._follow()
        if self._lock is not None:
            with contextlib.suppress(Exception):
                await self._lock.resign()
