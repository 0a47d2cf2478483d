"""PostgreSQL advisory locks held on a connection of their own.

Several `lk3 run` processes on one database share the work through locks that
the server itself keeps: a contact being processed, a contact's replies being
sent, the leader. A session advisory lock belongs to the connection that took
it, and the server lets go of it the moment that connection ends, however the
process ended (a SIGKILL, a power cut once TCP keepalives notice): nothing stale
is ever left to expire, and no row is written per claim. That is why they are
preferred here to lease rows with a holder and an expiry, which would need a
write per claim, a renewal while held and a wait for the expiry after a death.

Locks are 64-bit keys: a namespace in the top bits, a number (a contact id, a
member's id) below 2**40 (contact ids stay below it: `storage.crypto.keytree`),
so they never meet the migration's and the vault's own locks (7243000, 7243001).

A `LockConn` is ONE connection: its calls are serialised (asyncpg runs one query
at a time per connection). If the connection fails, every lock it held is gone;
`generation` moves on, so a holder can tell, and the next call connects again.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable, Sequence

import asyncpg

from storage.errors import StorageFaultError

__all__ = [
    "NS_CHAIN",
    "NS_INBOUND",
    "NS_LEADER",
    "NS_MEMBER",
    "NS_OUTBOUND",
    "NS_WEBHOOK",
    "LockConn",
    "lock_key",
]

NS_INBOUND = 1  # a contact's inbound messages: processed by one process at a time
NS_OUTBOUND = 2  # a contact's replies: sent by one process at a time, in order
NS_LEADER = 3  # the leader (one key per leadership name)
NS_MEMBER = 4  # each live process holds one: the count of processes sharing the work
NS_CHAIN = 5  # a transaction appending to a chain (the audit log): one at a time
NS_WEBHOOK = 6  # a webhook receiver's deliveries: sent by one process at a time, in order
_NUMBER_BITS = 40
# A call that takes longer than this means the server or the network is gone.
CALL_TIMEOUT = 5.0


def lock_key(namespace: int, number: int) -> int:
    """The 64-bit advisory key of `number` in `namespace`."""
    if not 0 <= number < 2**_NUMBER_BITS:
        raise ValueError(f"lock number {number} out of range")
    return (namespace << _NUMBER_BITS) | number


class LockConn:
    """A dedicated connection for advisory locks (see the module docstring)."""

    def __init__(self, url: str) -> None:
        self._url = url
        self._conn: asyncpg.Connection | None = None
        self._mutex = asyncio.Lock()
        self.generation = 0  # moves on each time a connection is lost (its locks with it)

    async def _connection(self) -> asyncpg.Connection:
        if self._conn is None or self._conn.is_closed():
            self._conn = await asyncpg.connect(self._url, timeout=CALL_TIMEOUT)
        return self._conn

    async def _call(self, sql: str, *args: object) -> list[asyncpg.Record]:
        async with self._mutex:
            try:
                conn = await self._connection()
                return list(await conn.fetch(sql, *args, timeout=CALL_TIMEOUT))
            except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                self._lost()
                raise StorageFaultError(f"advisory locks: {type(exc).__name__}") from exc

    def _lost(self) -> None:
        if self._conn is not None:
            self._conn.terminate()
            self._conn = None
        self.generation += 1

    async def try_lock(self, key: int) -> bool:
        rows = await self._call("SELECT pg_try_advisory_lock($1)", key)
        return bool(rows[0][0])

    async def try_locks(self, keys: Sequence[int]) -> set[int]:
        """Takes each free key of `keys` in one round trip; returns those taken."""
        if not keys:
            return set()
        rows = await self._call(
            "SELECT k FROM unnest($1::bigint[]) AS k WHERE pg_try_advisory_lock(k)", list(keys)
        )
        return {int(row[0]) for row in rows}

    async def unlock(self, keys: Iterable[int]) -> None:
        wanted = list(keys)
        if wanted:
            await self._call("SELECT pg_advisory_unlock(k) FROM unnest($1::bigint[]) AS k", wanted)

    async def holders(self, namespace: int) -> int:
        """How many keys of `namespace` are held now, by any connection to this database."""
        rows = await self._call(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
            " AND objsubid = 1 AND database = (SELECT oid FROM pg_database"
            " WHERE datname = current_database()) AND classid::bigint >> 8 = $1",
            namespace,
        )
        return int(rows[0][0])

    async def alive(self) -> bool:
        """Whether the connection (and so every lock it holds) is still there."""
        if self._conn is None or self._conn.is_closed():
            return False
        try:
            await self._call("SELECT 1")
        except StorageFaultError:
            return False
        return True

    async def close(self) -> None:
        """Ends the connection: the server lets go of every lock it held."""
        async with self._mutex:
            if self._conn is not None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(self._conn.close(), CALL_TIMEOUT)
                if not self._conn.is_closed():
                    self._conn.terminate()
                self._conn = None
