"""Time as storage keeps it: aware UTC datetimes outside, integer microseconds inside.

Integers sort and compare exactly in SQL, which the outbox's due-time queries rely on.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from storage.errors import InvalidRecordError

__all__ = ["EPOCH", "from_micros", "to_micros", "utc_now"]

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICRO = timedelta(microseconds=1)


def utc_now() -> datetime:
    """The default clock; tests inject their own."""
    return datetime.now(UTC)


def to_micros(value: datetime, what: str) -> int:
    """Microseconds since the Unix epoch; `what` names the field for the error message."""
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        raise InvalidRecordError(f"{what} is a naive datetime; storage needs timezone-aware UTC")
    return (value - EPOCH) // _MICRO


def from_micros(value: int) -> datetime:
    """The aware UTC datetime for a stored microsecond count."""
    return EPOCH + value * _MICRO
