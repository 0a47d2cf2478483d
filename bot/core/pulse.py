"""When a channel last heard from its service, and since when it has been failing to.

A channel that polls (Telegram's getUpdates) beats on every answer, a webhook on
every post it receives; readiness (`/readyz`), `/metrics` and the supervisors'
second-route notice read it. Wall-clock seconds, so the figures can be exported.
"""

from __future__ import annotations

import time
from collections.abc import Callable

__all__ = ["Pulse"]


class Pulse:
    """The last successful contact with a channel's service, and the current failure run."""

    def __init__(self, *, polls: bool, clock: Callable[[], float] = time.time) -> None:
        self.polls = polls  # whether silence means something is wrong (a poller answers often)
        self._clock = clock
        self.started_at = clock()
        self.last_ok: float | None = None
        self.failing_since: float | None = None

    def ok(self) -> None:
        """The service answered (a poll) or called us (a webhook)."""
        self.last_ok = self._clock()
        self.failing_since = None

    def failed(self) -> None:
        """A call to the service failed (network, 5xx, refused token)."""
        if self.failing_since is None:
            self.failing_since = self._clock()

    def silent_for(self) -> float:
        """Seconds since the last contact (since start, when there was none yet)."""
        since = self.last_ok if self.last_ok is not None else self.started_at
        return max(0.0, self._clock() - since)

    def failing_for(self) -> float:
        """Seconds the current failure run has lasted (0 while the service answers)."""
        return 0.0 if self.failing_since is None else max(0.0, self._clock() - self.failing_since)
