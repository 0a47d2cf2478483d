"""The one shape of the background loops: a pass, then another when woken or when due.

The outbox sender, the escalation job, the privacy worker and the retention job
are each a `Worker`: `tick` does one pass and says how long to wait before the
next; `wake` cuts the wait short (the pipeline wakes them after each committed
turn); a pass that fails is logged by `failed` and tried again after the pause
it returns, so a database hiccup never stops a loop for good; `stop` ends it
after the pass under way.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from abc import ABC, abstractmethod

from storage.errors import is_storage_fault

__all__ = ["Worker"]

log = logging.getLogger(__name__)


class Worker(ABC):
    """A background loop; subclasses say what one pass does."""

    woken_gap: float = 0.0
    """At least this many seconds from one pass's start to a pass started by `wake`: a
    worker woken after every committed turn, for work that is rare (the privacy worker),
    does one pass per `woken_gap` under load instead of one per turn."""

    def __init__(self) -> None:
        self._wake = asyncio.Event()
        self._stopping = False

    def wake(self) -> None:
        """Starts the next pass now instead of at its due time."""
        self._wake.set()

    async def run(self) -> None:
        """Passes until `stop`; a failing pass is logged and tried again."""
        failures = 0
        loop = asyncio.get_running_loop()
        while not self._stopping:
            self._wake.clear()
            started = loop.time()
            try:
                pause = await self.tick()
                failures = 0
            except Exception as exc:
                failures += 1
                pause = self.failed(exc, failures)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=pause)
            rest = started + min(self.woken_gap, pause) - loop.time()
            if rest > 0 and not self._stopping:
                await asyncio.sleep(rest)

    def resume(self) -> None:
        """Lets `run` loop again after a `stop` (a leader's worker, led again)."""
        self._stopping = False

    async def stop(self) -> None:
        """Ends the loop after the pass under way."""
        self._stopping = True
        self._wake.set()

    @abstractmethod
    async def tick(self) -> float:
        """One pass; returns the seconds to wait before the next (unless woken)."""

    def failed(self, exc: Exception, failures: int) -> float:
        """Logs a failed pass (the `failures`-th in a row); returns the seconds before the next."""
        # A full disk is said once by bot.core.writehealth: no traceback every pass.
        trace = None if is_storage_fault(exc) else exc
        log.error("%s: a pass failed (%s)", type(self).__name__, type(exc).__name__, exc_info=trace)
        return 10.0
