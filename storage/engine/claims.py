"""Who works on a contact now, when several processes share one database.

`Claims` is what the pipeline and the outbox sender ask before they touch a
contact: `claim` says whether this process may work on it (and keeps it until
`release`). With SQLite there is one process (the data folder's lock refuses a
second: `bot.datadir`), so `SoleClaims` says yes at once, without any I/O, and
the single-process path keeps its speed. With PostgreSQL, `SharedClaims` holds
an advisory lock per contact on a connection of its own
(`storage.engine.pglocks`): another process asking for the same contact is
told no, and a process that dies lets go of everything at once.

A claim decides who works; it is not what makes work happen once. A turn's
commit still checks the inbox row's processed mark inside its own transaction
(`storage.conversation.turns`), and a send checks the row is still pending
after its claim: a claim lost with its connection can never make a message
processed twice.
"""

from __future__ import annotations

import secrets
from collections.abc import Collection

from storage.engine.pglocks import NS_INBOUND, NS_MEMBER, NS_OUTBOUND, LockConn, lock_key

__all__ = ["Claims", "SharedClaims", "SoleClaims", "open_claims"]


class Claims:
    """One process alone: every claim is granted (the SQLite path)."""

    shared = False

    async def claim(self, contact_id: int) -> bool:
        """Takes the contact's inbound work for this process; False if another holds it."""
        return True

    async def release(self, contact_id: int) -> None:
        """Lets go of the contact's inbound work."""

    async def claim_sends(self, contact_ids: Collection[int]) -> set[int]:
        """Takes the sending of each contact's replies that no other process holds."""
        return set(contact_ids)

    async def release_sends(self, contact_ids: Collection[int]) -> None:
        """Lets go of the sending of these contacts' replies."""

    async def processes(self) -> int:
        """How many processes share the work now (this one included)."""
        return 1

    async def close(self) -> None:
        """Lets go of everything (a shared claim's connection ends)."""


SoleClaims = Claims


class SharedClaims(Claims):
    """Advisory locks on a dedicated connection (see the module docstring)."""

    shared = True

    def __init__(self, url: str) -> None:
        self._locks = LockConn(url)
        self._member = lock_key(NS_MEMBER, secrets.randbits(32))
        self._member_generation = -1

    async def _joined(self) -> None:
        """Holds this process's member lock (again, after a lost connection)."""
        if self._member_generation != self._locks.generation:
            await self._locks.try_lock(self._member)
            self._member_generation = self._locks.generation

    async def claim(self, contact_id: int) -> bool:
        await self._joined()
        return await self._locks.try_lock(lock_key(NS_INBOUND, contact_id))

    async def release(self, contact_id: int) -> None:
        await self._locks.unlock((lock_key(NS_INBOUND, contact_id),))

    async def claim_sends(self, contact_ids: Collection[int]) -> set[int]:
        if not contact_ids:
            return set()
        await self._joined()
        taken = await self._locks.try_locks([lock_key(NS_OUTBOUND, c) for c in contact_ids])
        return {c for c in contact_ids if lock_key(NS_OUTBOUND, c) in taken}

    async def release_sends(self, contact_ids: Collection[int]) -> None:
        await self._locks.unlock(lock_key(NS_OUTBOUND, c) for c in contact_ids)

    async def processes(self) -> int:
        await self._joined()
        return max(1, await self._locks.holders(NS_MEMBER))

    async def close(self) -> None:
        await self._locks.close()


async def open_claims(url: str | None) -> Claims:
    """Shared claims on the PostgreSQL database at `url`; the sole process's without one."""
    if url is None:
        return SoleClaims()
    claims = SharedClaims(url)
    await claims.processes()  # connects now: a wrong URL fails at start, not at a turn
    return claims
