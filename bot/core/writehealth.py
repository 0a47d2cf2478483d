"""Whether the database takes writes: when the disk refuses them, the bot stops taking
new work, says so once, and takes work again by itself when writes succeed.

A write the disk refused (full, an I/O error, a read-only file: `StorageFaultError`)
is not a bug in the turn that made it: the turn waits here, uncounted, instead of
being answered with the fallback reply; channels refuse new messages meanwhile
(Telegram stops fetching, a webhook answers 503 so it is posted again, the web
chat keeps the words in the box); a probe write every `probe_seconds` finds when
the disk has room again, and then everything waiting goes on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable

from bot.errors import BotError
from storage.errors import StorageFaultError, is_storage_fault

__all__ = ["PROBE_SECONDS", "WriteHealth", "WritesPaused", "storage_unavailable"]

log = logging.getLogger(__name__)

PROBE_SECONDS = 1.0


class WritesPaused(BotError):
    """New work is refused while the database cannot be written (no personal data here)."""


def storage_unavailable(exc: BaseException) -> bool:
    """Whether `exc` says the disk failed (or writes are paused), not the work itself."""
    return isinstance(exc, WritesPaused) or is_storage_fault(exc)


class WriteHealth:
    """The database's state for writes: `ok`, or failing since a moment (one per process)."""

    def __init__(
        self,
        probe: Callable[[], Awaitable[None]],
        *,
        probe_seconds: float = PROBE_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._probe = probe
        self.probe_seconds = probe_seconds
        self._monotonic = monotonic
        self.ok = True
        self._since = 0.0
        self._reason = ""
        self._kind = ""
        self._writable = asyncio.Event()
        self._writable.set()
        self._prober: asyncio.Task[None] | None = None
        self._on_recovered: list[Callable[[], None]] = []
        self.episodes = 0  # how often writes started failing (figures, tests)

    def on_recovered(self, listener: Callable[[], None]) -> None:
        """Calls `listener` each time writes succeed again after failing."""
        self._on_recovered.append(listener)

    def failing(self, exc: BaseException) -> None:
        """A write failed because the disk did: pause (once) and start probing."""
        if not self.ok:
            return
        self.ok = False
        self.episodes += 1
        self._since = self._monotonic()
        cause = exc.__cause__ if isinstance(exc, StorageFaultError) else None
        # The log (read by the operator) says what SQLite said; the public health state
        # names the kind of failure only, never a path of the machine.
        self._reason = str(cause) if cause is not None else type(exc).__name__
        self._kind = type(cause if cause is not None else exc).__name__
        self._writable.clear()
        log.error(
            "storage: the database cannot be written (%s); new messages are refused until "
            "writes succeed again (checked every %.0fs); none is lost or answered meanwhile",
            self._reason,
            self.probe_seconds,
        )
        if self._prober is None or self._prober.done():
            self._prober = asyncio.create_task(self._probe_until_ok(), name="write-probe")

    def check(self) -> None:
        """Raises WritesPaused while writes fail (a channel's message is then refused)."""
        if not self.ok:
            raise WritesPaused(f"the database cannot be written ({self._reason})")

    async def writable(self) -> None:
        """Waits until writes succeed (returns at once when they do)."""
        await self._writable.wait()

    def describe(self) -> str:
        """The state for the health endpoint: "ok" or what fails, since how long."""
        if self.ok:
            return "ok"
        failing_for = self._monotonic() - self._since
        return f"storage: writes failing for {failing_for:.0f}s ({self._kind})"

    async def close(self) -> None:
        if self._prober is not None:
            self._prober.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._prober

    async def _probe_until_ok(self) -> None:
        while True:
            await asyncio.sleep(self.probe_seconds)
            try:
                await self._probe()
            except Exception as exc:
                if storage_unavailable(exc):
                    continue
                log.warning("storage: the write probe failed (%s)", type(exc).__name__)
                continue
            break
        log.warning(
            "storage: writes succeed again after %.0fs; taking new messages again",
            self._monotonic() - self._since,
        )
        self.ok = True
        self._writable.set()
        for listener in self._on_recovered:
            try:
                listener()
            except Exception:
                log.exception("storage: a listener for writes coming back failed")
