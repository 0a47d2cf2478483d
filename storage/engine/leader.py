"""The leader lock: one process at a time among those sharing a PostgreSQL database.

A session advisory lock on a connection of its own (`storage.engine.pglocks`),
so that nothing else queued on a connection can delay noticing that it is lost.
`try_lead` takes it if it is free; `still_leading` asks the connection whether it
is still there (the lock with it). When the leader dies the server ends its
connection and the lock is free for the next `try_lead` of another process: the
takeover takes at most one of its polls (`bot.core.leadership`).

With SQLite there is nothing to elect: `bot.core.leadership` leads at once
without a lock. Different `name`s are independent leaderships (another part of
the service may elect its own).
"""

from __future__ import annotations

import zlib

from storage.engine.pglocks import NS_LEADER, LockConn, lock_key
from storage.errors import StorageFaultError

__all__ = ["LeaderLock"]


class LeaderLock:
    """`try_lead`, `still_leading`, `resign` on one dedicated connection."""

    def __init__(self, url: str, name: str = "lk3") -> None:
        self._locks = LockConn(url)
        self._key = lock_key(NS_LEADER, zlib.crc32(name.encode()))
        self._held_generation: int | None = None

    async def try_lead(self) -> bool:
        """Takes the lead if nobody holds it; True while this process holds it."""
        if await self.still_leading():
            return True
        try:
            taken = await self._locks.try_lock(self._key)
        except StorageFaultError:
            return False
        self._held_generation = self._locks.generation if taken else None
        return taken

    async def still_leading(self) -> bool:
        """Whether the lock is still held: its connection answers and was never lost."""
        if self._held_generation is None:
            return False
        if self._held_generation != self._locks.generation or not await self._locks.alive():
            self._held_generation = None
            return False
        return True

    async def resign(self) -> None:
        """Lets go of the lead (the connection ends: another process may take it)."""
        self._held_generation = None
        await self._locks.close()
