"""In-memory counters of failed sign-ins: per client address, and per unknown name.

One process serves the console, so memory is enough; both are bounded, so a spray
of addresses or names cannot grow them without limit. Accounts that exist keep
their counters in the database (`storage.console.repo`); `NameThrottle` gives a
name nobody has the same lock after the same failures, so the answers (and the
lockout message) do not tell a guesser which names exist.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta

__all__ = ["IpThrottle", "LockPolicy", "NameThrottle"]

MAX_KEYS = 10_000


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


@dataclass(slots=True)
class IpThrottle:
    """Failed attempts per client address in a sliding window."""

    limit: int
    window: timedelta
    _failures: dict[str, deque[datetime]] = field(default_factory=dict)

    def blocked(self, ip: str, now: datetime) -> bool:
        times = self._failures.get(ip)
        if not times:
            return False
        while times and now - times[0] > self.window:
            times.popleft()
        return len(times) >= self.limit

    def fail(self, ip: str, now: datetime) -> None:
        self._failures.setdefault(ip, deque()).append(now)
        if len(self._failures) > MAX_KEYS:  # bounded memory under a spray of addresses
            self._failures.pop(next(iter(self._failures)))

    def reserve(self, ip: str, now: datetime) -> bool:
        """Counts an attempt as failed before it is checked (False, counting nothing, when
        the address is at its limit): concurrent attempts each see the ones before."""
        if self.blocked(ip, now):
            return False
        self.fail(ip, now)
        return True

    def release(self, ip: str, at: datetime) -> None:
        """Takes back an attempt reserved `at` that turned out right."""
        times = self._failures.get(ip)
        if times is not None and at in times:
            times.remove(at)


@dataclass(slots=True)
class NameThrottle:
    """The failures and lock of names no active account has, kept as an account's would be."""

    policy: LockPolicy
    _names: dict[str, tuple[int, datetime]] = field(default_factory=dict)

    def locked(self, name: str, now: datetime) -> bool:
        found = self._names.get(name)
        return found is not None and found[1] > now

    def clean(self, name: str) -> bool:
        return name not in self._names

    def reserve(self, name: str, now: datetime, *, only_if_clean: bool = False) -> bool:
        """As `ConsoleRepo.reserve_login` does for an account: the attempt counted as failed
        first; False while the name is locked (or, `only_if_clean`, has any failure)."""
        if self.locked(name, now) or (only_if_clean and not self.clean(name)):
            return False
        self.fail(name, now)
        return True

    def fail(self, name: str, now: datetime) -> None:
        failures = self._names.pop(name, (0, now))[0] + 1
        self._names[name] = (failures, self.policy.until(failures, now))
        if len(self._names) > MAX_KEYS:
            self._names.pop(next(iter(self._names)))
