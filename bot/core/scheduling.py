"""A bounded number of turns at once, where a message in danger goes first.

After a disaster hundreds of families write at the same moment and the
pipeline works through them a few at a time. A plain semaphore serves them in
arrival order, so a crisis message that arrived behind four hundred questions
about office hours would wait its turn. `PrioritySlots` lets urgent waiters
through before any routine one (each kind in arrival order), so the crisis
reply, the urgent case and the counsellor's alert are produced within
milliseconds of the message being stored, whatever else is queued.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import AsyncIterator

__all__ = ["PrioritySlots", "RoutineDeferral"]


class PrioritySlots:
    """Like `asyncio.Semaphore(size)`, but `take(urgent=True)` overtakes routine waiters."""

    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError("PrioritySlots: size must be at least 1")
        self._free = size
        self._urgent: deque[asyncio.Future[None]] = deque()
        self._routine: deque[asyncio.Future[None]] = deque()

    @property
    def waiting(self) -> tuple[int, int]:
        """(urgent, routine) waiters, for tests and figures."""
        return len(self._urgent), len(self._routine)

    @contextlib.asynccontextmanager
    async def take(self, *, urgent: bool = False) -> AsyncIterator[None]:
        await self._acquire(urgent)
        try:
            yield
        finally:
            self._release()

    async def _acquire(self, urgent: bool) -> None:
        if self._free > 0 and not self._urgent and (urgent or not self._routine):
            self._free -= 1
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        queue = self._urgent if urgent else self._routine
        queue.append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self._release()  # the slot was handed over just as we were cancelled
            else:
                queue.remove(waiter)
            raise

    def _release(self) -> None:
        """Hands the slot to the next waiter, urgent ones first, or frees it."""
        for queue in (self._urgent, self._routine):
            while queue:
                waiter = queue.popleft()
                if not waiter.done():
                    waiter.set_result(None)
                    return
        self._free += 1


# How long routine turns wait after each sign of a backlog, at most how long in a
# row, and how long they then run before they can be held again.
DEFER_SECONDS = 0.25
DEFER_AT_MOST = 3.0
DEFER_REST = 1.0


class RoutineDeferral:
    """Holds routine turns back for a moment while a channel is still taking in a flood.

    When hundreds of messages are waiting at Telegram, every routine turn the bot
    runs slows the reading of the rest, and a crisis message among them is only
    found once it is read (and crisis-checked on arrival). A channel that fetched a
    full batch calls `defer`; new routine turns then wait until `until`, so the
    backlog is read first and urgent turns (which never wait) go at once. The hold
    is bounded so that routine turns always go on: at most `DEFER_AT_MOST` seconds
    in a row, then at least `DEFER_REST` seconds free. Routine replies lose little:
    in a flood they queue behind the transport's send limit anyway. Pure: the
    caller passes the clock.
    """

    def __init__(self) -> None:
        self.until = 0.0
        self._window_end = 0.0
        self._rest_until = 0.0

    def defer(self, now: float) -> None:
        if now >= self.until:  # not holding: a new hold may begin after the rest
            if now < self._rest_until:
                return
            self._window_end = now + DEFER_AT_MOST
            self._rest_until = self._window_end + DEFER_REST
        self.until = min(self._window_end, max(self.until, now + DEFER_SECONDS))

    def wait(self, now: float) -> float:
        """Seconds a routine turn starting now must wait (0: none)."""
        return max(0.0, self.until - now)
