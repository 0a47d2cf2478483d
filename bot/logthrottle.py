"""Repeated log events summarised: the first is logged, then a count per minute.

Whoever can reach a webhook can post forged requests by the hundred; one WARNING
each lets them fill the log (and bury what matters). A `LogThrottle` logs the
first event of a quiet spell, keeps counting the rest, and on the first event
a window later logs one line with the count ("… refused; 306 more in the
last 60 s"). The bookkeeping (`Tally`) is pure, on an injected clock. The lines
carry only the fixed message and a count: never what was posted.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["LogThrottle", "Tally"]


@dataclass(slots=True)
class Tally:
    """When to speak about an event that repeats; `window` seconds between lines."""

    window: float = 60.0
    clock: Callable[[], float] = field(default=time.monotonic)
    _since: float | None = None
    _quiet: int = 0

    def note(self) -> tuple[int, float] | None:
        """Counts one event. None: stay quiet. (0, 0.0): log this event, the first of a
        spell. (n, seconds): log that n events (this one included) came in those seconds
        since the last line."""
        now = self.clock()
        if self._since is None or (self._quiet == 0 and now - self._since >= self.window):
            self._since = now
            return (0, 0.0)
        self._quiet += 1
        if now - self._since < self.window:
            return None
        counted, seconds = self._quiet, now - self._since
        self._since, self._quiet = now, 0
        return (counted, seconds)

    @property
    def unreported(self) -> int:
        """Events counted but not yet in a line."""
        return self._quiet


class LogThrottle:
    """Log lines that may repeat, each fixed message summarised by its own `Tally`.

    Messages are fixed strings (no arguments): what was posted never reaches
    the log. A repeat is said as "<message>; 306 more in the last 60 s".
    """

    def __init__(
        self,
        logger: logging.Logger,
        *,
        window: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._logger = logger
        self._window = window
        self._clock = clock
        self._tallies: dict[tuple[int, str], Tally] = {}

    def log(self, level: int, message: str) -> None:
        """Logs `message` if it is the first of a spell, or its count once a window."""
        tally = self._tallies.get((level, message))
        if tally is None:
            tally = self._tallies[(level, message)] = Tally(self._window, self._clock)
        said = tally.note()
        if said is None:
            return
        count, seconds = said
        if count == 0:
            self._logger.log(level, "%s", message)
        else:
            self._logger.log(level, "%s; %d more in the last %.0f s", message, count, seconds)

    def warning(self, message: str) -> None:
        self.log(logging.WARNING, message)

    def info(self, message: str) -> None:
        self.log(logging.INFO, message)
