"""One lock per chat, kept only while someone holds or waits for it.

A chat's updates are stored in order and a typed message retires that chat's
keyboard before anything else of the chat is handled; chats never wait for each
other. (Striped locks did make unrelated chats wait: with 100 chats in a batch
and 64 stripes, about a third of them queued behind another chat's write, and
the batch took several write transactions instead of one.)
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

__all__ = ["ChatLocks"]


@dataclass(slots=True)
class _Entry:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    users: int = 0


class ChatLocks:
    """`async with locks.hold(address)`: exclusive per address, forgotten when unused."""

    def __init__(self) -> None:
        self._entries: dict[str, _Entry] = {}

    def __len__(self) -> int:
        """Addresses held or waited for now (memory stays bounded by these)."""
        return len(self._entries)

    @contextlib.asynccontextmanager
    async def hold(self, address: str) -> AsyncIterator[None]:
        entry = self._entries.get(address)
        if entry is None:
            entry = self._entries[address] = _Entry()
        entry.users += 1
        try:
            async with entry.lock:
                yield
        finally:
            entry.users -= 1
            if entry.users == 0:
                del self._entries[address]
