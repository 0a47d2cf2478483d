"""A capped, jittered back-off for loops that call an upstream which may be down.

A back-off that doubles without a low cap turns a minute's outage into many
minutes of deafness: after ten failures at up to 60 s apart the bot heard
nothing for about five minutes, crisis messages included. Waits here double from
`first` to at most `cap` (a few seconds), so the bot hears again within `cap`
of the upstream answering; jitter keeps restarts of many bots from calling in
step. Pure bookkeeping: the caller sleeps, and randomness is injected.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["Backoff"]


@dataclass(slots=True)
class Backoff:
    """The wait before the next try after a failure; `reset` after a success."""

    first: float = 0.5
    cap: float = 5.0
    jitter: float = 0.2  # each wait is shortened by up to this fraction, never lengthened
    uniform: Callable[[], float] = field(default=random.random)
    failures: int = 0

    def next_wait(self) -> float:
        """Counts one more failure and returns the seconds to wait (never over `cap`)."""
        self.failures += 1
        base = min(self.cap, self.first * 2.0 ** min(self.failures - 1, 32))
        return base * (1.0 - self.jitter * self.uniform())

    def reset(self) -> None:
        """The upstream answered: the next failure waits `first` again."""
        self.failures = 0
