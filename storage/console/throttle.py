"""Failed sign-ins counted in the database, so every process sees the same counts.

The console's throttles (per client address, and per name nobody has) lived in one
process's memory: with several `lk3 run` processes behind one address (PostgreSQL,
docs/postgresql.md), a guesser would have had each process's allowance, N times
the limit. Here they are rows every process reads and writes (the policy itself is
decided in `bot.console.auth.throttle`):

- `login_failures`: one row per attempt counted against an address, in a sliding
  window; an attempt is counted before its password is checked and taken back when
  it was right, as the account counters in `staff_credentials` are;
- `login_names`: failures and lock of a name no active account has, kept as an
  account's would be, so the answers do not tell which names exist.

Addresses and names are kept only as keyed HMACs (the vault's blind index): a copy
of the database says neither who tried nor what they typed as a name. Old rows go
as new ones come (a window's worth of addresses, a day of names). On PostgreSQL a
transaction-scoped advisory lock per key makes concurrent attempts from several
processes count one after the other, as the single writer does within one.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from storage.console.repo import LockSteps
from storage.crypto.vault import Vault
from storage.engine.clock import to_micros
from storage.engine.db import Tx, Writer

__all__ = ["LOGIN_THROTTLE_MIGRATION", "LoginThrottleRepo"]

LOGIN_THROTTLE_MIGRATION = (
    """CREATE TABLE login_failures (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        scope TEXT NOT NULL CHECK (scope IN ('password', 'totp')),
        address_bidx BLOB NOT NULL,
        at INTEGER NOT NULL
    )""",
    "CREATE INDEX login_failures_by_address ON login_failures (scope, address_bidx, at)",
    "CREATE INDEX login_failures_by_time ON login_failures (at)",
    """CREATE TABLE login_names (
        name_bidx BLOB PRIMARY KEY,
        failures INTEGER NOT NULL,
        locked_until INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
    ) WITHOUT ROWID""",
    "CREATE INDEX login_names_by_time ON login_names (updated_at)",
)

NAMES_KEPT = timedelta(days=1)  # a name nobody has is forgotten a day after its last failure


async def _serialise(tx: Tx, bidx: bytes) -> None:
    """On PostgreSQL, one attempt per key at a time across processes (until COMMIT)."""
    if tx.dialect == "postgres":
        lock = int.from_bytes(bidx[:8], "big", signed=True)
        await tx.fetchall("SELECT pg_advisory_xact_lock(?)", (lock,))


class LoginThrottleRepo:
    """The shared counters behind `bot.console.auth.throttle`."""

    def __init__(self, writer: Writer, vault: Vault, clock: Callable[[], datetime]) -> None:
        self._writer = writer
        self._vault = vault
        self._clock = clock

    def _address(self, address: str) -> bytes:
        return self._vault.blind("login-address", address)

    async def reserve_address(
        self, scope: str, address: str, now: datetime, limit: int, window: timedelta
    ) -> bool:
        """Counts an attempt from `address` as failed before it is checked; False (counting
        nothing) when the address already has `limit` within `window`."""
        bidx = self._address(address)
        at = to_micros(now, "login_throttle.reserve_address")
        cutoff = at - window // timedelta(microseconds=1)

        async def job(tx: Tx) -> bool:
            await _serialise(tx, bidx)
            await tx.execute("DELETE FROM login_failures WHERE at < ?", (cutoff,))
            row = await tx.fetchone(
                "SELECT count(*) FROM login_failures WHERE scope = ? AND address_bidx = ?",
                (scope, bidx),
            )
            if row is not None and int(row[0]) >= limit:
                return False
            await tx.execute(
                "INSERT INTO login_failures (scope, address_bidx, at) VALUES (?, ?, ?)",
                (scope, bidx, at),
            )
            return True

        return await self._writer.run("login_throttle.reserve_address", job)

    async def release_address(self, scope: str, address: str, at: datetime) -> None:
        """Takes back an attempt reserved `at` that turned out right."""
        bidx = self._address(address)
        when = to_micros(at, "login_throttle.release_address")

        async def job(tx: Tx) -> None:
            await tx.execute(
                "DELETE FROM login_failures WHERE id = (SELECT id FROM login_failures"
                " WHERE scope = ? AND address_bidx = ? AND at = ? ORDER BY id LIMIT 1)",
                (scope, bidx, when),
            )

        await self._writer.run("login_throttle.release_address", job)

    async def reserve_name(
        self, name: str, now: datetime, lock: LockSteps, *, only_if_clean: bool = False
    ) -> bool:
        """As `ConsoleRepo.reserve_login` for an account: the attempt counted as failed
        first; False while the name is locked (or, `only_if_clean`, has any failure)."""
        bidx = self._vault.blind("login-name", name)
        at = to_micros(now, "login_throttle.reserve_name")
        forget = at - NAMES_KEPT // timedelta(microseconds=1)

        async def job(tx: Tx) -> bool:
            await _serialise(tx, bidx)
            await tx.execute("DELETE FROM login_names WHERE updated_at < ?", (forget,))
            row = await tx.fetchone(
                "SELECT failures, locked_until FROM login_names WHERE name_bidx = ?", (bidx,)
            )
            failures = 0 if row is None else int(row[0])
            if row is not None and (int(row[1]) > at or (only_if_clean and failures > 0)):
                return False
            failures += 1
            until = at
            if failures >= lock.free:
                step = lock.first_us * (1 << min(failures - lock.free, 20))
                until = at + min(step, lock.longest_us)
            await tx.execute(
                "INSERT INTO login_names (name_bidx, failures, locked_until, updated_at)"
                " VALUES (?, ?, ?, ?) ON CONFLICT (name_bidx) DO UPDATE SET"
                " failures = excluded.failures, locked_until = excluded.locked_until,"
                " updated_at = excluded.updated_at",
                (bidx, failures, until, at),
            )
            return True

        return await self._writer.run("login_throttle.reserve_name", job)
