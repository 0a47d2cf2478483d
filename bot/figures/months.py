"""A month (`2026-11`) as the office's calendar has it: [first midnight, next first midnight)."""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

from bot.digits import digits

__all__ = ["month_of", "month_window"]


def month_of(raw: str) -> tuple[int, int] | None:
    """(year, month) of `YYYY-MM`, or None for anything else."""
    parts = raw.split("-")
    if len(parts) != 2 or len(parts[0]) != 4 or not all(digits(p) and len(p) <= 4 for p in parts):
        return None
    year, month = int(parts[0]), int(parts[1])
    return (year, month) if 2000 <= year <= 2999 and 1 <= month <= 12 else None


def month_window(year: int, month: int, tz: ZoneInfo) -> tuple[datetime, datetime]:
    after = (year + month // 12, month % 12 + 1)
    since = datetime.combine(datetime(year, month, 1).date(), time(0), tzinfo=tz)
    until = datetime.combine(datetime(after[0], after[1], 1).date(), time(0), tzinfo=tz)
    return since, until
