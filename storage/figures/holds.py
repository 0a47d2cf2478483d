"""Which process sends a webhook receiver's deliveries now: one at a time, in order.

The sender (`bot.figures.webhooks`) holds a receiver while it sends its rows oldest
first, so two processes never send one receiver's events side by side (out of order).

- `LeaseHolds` (SQLite, one process): the lease row (`WebhookRepo.lease`,
  `leased_until`), 60 s. A process that died mid-send left a lease that must run out.
- `AdvisoryHolds` (PostgreSQL, several processes): a session advisory lock per receiver
  (`storage.engine.pglocks`, namespace 6) on a connection of its own. The server lets
  go of it the moment the holder's connection ends, however the process ended, so a
  live process takes the receiver over at its next look instead of after up to 60 s,
  and nothing is written per pass. `still_held` is asked before each send: a holder
  whose lock connection was lost stops before another process could have taken over.

Delivery stays at least once: a process killed after a receiver took a row but before
its 2xx was recorded leaves the row pending, and whoever holds the receiver next sends
it again, with the same event id (the receiver dedupes).
"""

from __future__ import annotations

import contextlib
from abc import ABC, abstractmethod
from datetime import datetime

from storage.engine.pglocks import NS_WEBHOOK, LockConn, lock_key
from storage.errors import StorageFaultError
from storage.figures.hooks import WebhookRepo

__all__ = ["LEASE_SECONDS", "AdvisoryHolds", "LeaseHolds", "ReceiverHolds", "receiver_holds"]

LEASE_SECONDS = 60


class ReceiverHolds(ABC):
    """The interface: take a receiver, ask whether it is still held, let it go."""

    @abstractmethod
    async def take(self, endpoint_id: int, now: datetime) -> bool:
        """Holds the receiver for this process; False if another process holds it."""

    @abstractmethod
    async def still_held(self, endpoint_id: int) -> bool:
        """Whether this process still holds it (asked before each send)."""

    @abstractmethod
    async def release(self, endpoint_id: int) -> None:
        """Lets the receiver go."""

    async def close(self) -> None:  # noqa: B027 - a lease needs nothing at the end
        """Lets go of everything (the process stops); the lease rows need nothing."""


class LeaseHolds(ReceiverHolds):
    """The lease rows: one process at a time, a dead holder's lease runs out."""

    def __init__(self, repo: WebhookRepo, seconds: int = LEASE_SECONDS) -> None:
        self._repo = repo
        self._seconds = seconds

    async def take(self, endpoint_id: int, now: datetime) -> bool:
        return await self._repo.lease(endpoint_id, now, self._seconds)

    async def still_held(self, endpoint_id: int) -> bool:
        return True  # a lease is held until released or run out (60 s, far beyond a send)

    async def release(self, endpoint_id: int) -> None:
        await self._repo.release(endpoint_id)


class AdvisoryHolds(ReceiverHolds):
    """An advisory lock per receiver on one dedicated connection (see the module)."""

    def __init__(self, url: str) -> None:
        self._locks = LockConn(url)
        self._held: dict[int, int] = {}  # endpoint id -> the lock connection's generation

    async def take(self, endpoint_id: int, now: datetime) -> bool:
        try:
            taken = await self._locks.try_lock(lock_key(NS_WEBHOOK, endpoint_id))
        except StorageFaultError:
            return False
        if taken:
            self._held[endpoint_id] = self._locks.generation
        return taken

    async def still_held(self, endpoint_id: int) -> bool:
        generation = self._held.get(endpoint_id)
        if generation is None or generation != self._locks.generation:
            return False
        return await self._locks.alive()

    async def release(self, endpoint_id: int) -> None:
        generation = self._held.pop(endpoint_id, None)
        if generation is None or generation != self._locks.generation:
            return  # lost with its connection: nothing left to let go of
        with contextlib.suppress(StorageFaultError):
            await self._locks.unlock([lock_key(NS_WEBHOOK, endpoint_id)])

    async def close(self) -> None:
        self._held.clear()
        await self._locks.close()


def receiver_holds(repo: WebhookRepo, url: str | None) -> ReceiverHolds:
    """The advisory locks on PostgreSQL, the lease rows on SQLite."""
    return LeaseHolds(repo) if url is None else AdvisoryHolds(url)
