"""The sign-in lock policy, and the counter of failed sign-ins per client address.

Every counter is in the database, so that several `lk3 run` processes on one
database (PostgreSQL) share one limit rather than each allowing its own (a
guesser spread over N processes would have had N times the attempts): accounts
in `storage.console.repo`; addresses, and names nobody has (the same lock after
the same failures as an account, so the answers and the lockout message do not
tell a guesser which names exist), in `storage.console.throttle`. Old rows go as
new ones come, so a spray of addresses or names cannot grow them without limit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from storage.store import Store

__all__ = ["AddressThrottle", "LockPolicy"]


@dataclass(frozen=True, slots=True)
class LockPolicy:
    """A few free failures, then a lock that doubles with each further one, capped: short
    enough that a guesser cannot keep the real user out for long, growing so that
    guessing at speed is pointless."""

    free: int
    first: timedelta
    longest: timedelta

    def until(self, failures: int, now: datetime) -> datetime:
        """When an account with `failures` failures (this one included) may try again."""
        if failures < self.free:
            return now
        lock: timedelta = self.first * (2 ** min(failures - self.free, 20))
        return now + min(lock, self.longest)


class AddressThrottle:
    """Attempts per client address in a sliding window, counted in the database
    (`storage.console.throttle`): every process on one database sees the same count."""

    def __init__(self, store: Store, scope: str, limit: int, window: timedelta) -> None:
        self._store = store
        self.scope = scope
        self.limit = limit
        self.window = window

    async def reserve(self, address: str, now: datetime) -> bool:
        """Counts an attempt as failed before it is checked (False, counting nothing, when
        the address is at its limit): concurrent attempts each see the ones before."""
        repo = self._store.login_throttle
        return await repo.reserve_address(self.scope, address, now, self.limit, self.window)

    async def release(self, address: str, at: datetime) -> None:
        """Takes back an attempt reserved `at` that turned out right."""
        await self._store.login_throttle.release_address(self.scope, address, at)
