"""The app's clock, moved by the test: inject it wherever the code reads the time."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

__all__ = ["Clock"]


@dataclass
class Clock:
    """Stands still until the test moves it; `Clock(T0)` starts at a fixed moment."""

    now: datetime = field(default_factory=lambda: datetime.now(UTC))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float = 0.0, **delta: float) -> datetime:
        """Moves on by `seconds` and any other `timedelta` units (`minutes=5`)."""
        self.now += timedelta(seconds=seconds, **delta)
        return self.now
