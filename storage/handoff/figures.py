"""Hand-off figures from case timings: pure, so the arithmetic is tested without a database.

Time to first human reply is reported by urgency as a median and a 90th
percentile by nearest rank (a value that really occurred, never an
interpolation between two cases), with the count of cases that waited past the
office's target; a case with no reply yet counts as late once the window's end
is that far after its opening.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from datetime import datetime

from storage.engine.clock import to_micros
from storage.handoff.records import HandoffFigures, UrgencyFigures
from storage.records import URGENCIES

__all__ = ["figures_of", "nearest_rank"]

Timing = tuple[str, int, int | None]
"""A case's urgency, opening and first reply (microseconds since the epoch; None if none)."""


def nearest_rank(values: Sequence[float], share: float) -> float | None:
    """The smallest value with at least `share` of the values at or below it; None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def figures_of(
    timings: Sequence[Timing], since: datetime, until: datetime, target_seconds: int
) -> HandoffFigures:
    """The figures of cases opened in [since, until), most urgent first."""
    end = to_micros(until, "until")
    target = target_seconds * 1_000_000
    result = []
    for urgency in reversed(URGENCIES):
        mine = [(opened, reply) for level, opened, reply in timings if level == urgency]
        waits = [(reply - opened) / 1e6 for opened, reply in mine if reply is not None]
        late = sum(
            1 for opened, reply in mine if (reply if reply is not None else end) - opened > target
        )
        result.append(
            UrgencyFigures(
                urgency=urgency,
                opened=len(mine),
                answered=len(waits),
                median_first_reply_seconds=statistics.median(waits) if waits else None,
                waited_past_target=late,
                p90_first_reply_seconds=nearest_rank(waits, 0.9),
            )
        )
    return HandoffFigures(since, until, target_seconds, tuple(result))
