"""Satisfaction ratings (the `feedback` flow's 1-5) as plain counts, for the monthly figures.

Why counts and not rows: a rating is kept as "one more 4 in 2026-11 for a
`kdrt`/`darurat` case", in a table keyed by (month, category, urgency,
rating). There is no contact id, no case id or code, no time finer than the
office's month, no comment and no row order: nothing here can be joined back to
a family, so the figures page may read it without decrypting anything and the
family's comment stays only in their sealed session. For the same reason an
erasure (`storage.privacy.erasure`) leaves these counts alone: they hold nothing
personal, exactly like the anonymous `erased_cases` it keeps for reports.

A rating is written by `record` inside the turn's transaction (`storage.conversation.turns`),
so it counts once with the message that gave it, or not at all. "At most one
rating per closed case" is kept by the host (`bot.flowhost.ratings`): the case's ticket
lives in the family's session and is used up in that same transaction.

    (errors: storage.errors.InvalidRecordError for a value that is not a code)
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from storage.engine.db import Readers, Tx
from storage.errors import InvalidRecordError
from storage.records import URGENCIES

__all__ = ["RATINGS", "NewRating", "RatingCounts", "RatingRepo", "record"]

RATINGS = (1, 2, 3, 4, 5)
_MONTH = re.compile(r"[0-9]{4}-(0[1-9]|1[0-2])")
_CODE = re.compile(r"[a-z][a-z0-9_]{1,31}")
UNKNOWN = ""
"""What the category and urgency columns hold when the rated case is not known."""


@dataclass(frozen=True, slots=True)
class NewRating:
    """One family's rating of a closed case: codes only, bucketed by the office's month."""

    month: str  # "YYYY-MM" in the office's time zone
    rating: int
    category: str | None = None  # the rated case's category code, when known
    urgency: str | None = None

    def __post_init__(self) -> None:
        if not _MONTH.fullmatch(self.month):
            raise InvalidRecordError(f"rating month {self.month!r} is not YYYY-MM")
        if isinstance(self.rating, bool) or self.rating not in RATINGS:
            raise InvalidRecordError(f"rating {self.rating!r} is not a whole number from 1 to 5")
        if self.category is not None and not _CODE.fullmatch(self.category):
            raise InvalidRecordError("rating category is not a category code")
        if self.urgency is not None and self.urgency not in URGENCIES:
            raise InvalidRecordError(f"rating urgency {self.urgency!r} is not one of {URGENCIES}")


@dataclass(frozen=True, slots=True)
class RatingCounts:
    """A month's ratings: how many of each, 1 to 5."""

    by_rating: tuple[tuple[int, int], ...]  # (rating, count) for 1..5, zeros included

    @property
    def total(self) -> int:
        return sum(n for _, n in self.by_rating)

    @property
    def mean(self) -> float | None:
        total = self.total
        return None if total == 0 else sum(r * n for r, n in self.by_rating) / total

    @property
    def share_helpful(self) -> float | None:
        """The share of ratings that were 4 or 5."""
        total = self.total
        return None if total == 0 else sum(n for r, n in self.by_rating if r >= 4) / total


async def record(tx: Tx, rating: NewRating, contact_id: int | None = None) -> None:
    """Counts one rating (inside the caller's transaction), in the office of the family
    who gave it (the default office when none is named)."""
    await tx.execute(
        "INSERT INTO rating_counts (office_id, month, category, urgency, rating, count)"
        " VALUES (coalesce((SELECT office_id FROM contacts WHERE id = ?), 1), ?, ?, ?, ?, 1)"
        " ON CONFLICT (office_id, month, category, urgency, rating)"
        " DO UPDATE SET count = count + 1",
        (
            contact_id,
            rating.month,
            rating.category or UNKNOWN,
            rating.urgency or UNKNOWN,
            rating.rating,
        ),
    )


class RatingRepo:
    """Reads the counts; they are written only with a turn (`record`)."""

    def __init__(self, readers: Readers) -> None:
        self._readers = readers

    async def month(self, month: str, *, office_id: int | None = None) -> RatingCounts:
        """The counts of one month ("YYYY-MM", the office's time zone), of one office (None:
        of every office)."""
        if not _MONTH.fullmatch(month):
            raise InvalidRecordError(f"ratings month {month!r} is not YYYY-MM")
        rows = await self._readers.fetchall(
            "SELECT rating, sum(count) FROM rating_counts WHERE month = ? AND (office_id = ? OR ?)"
            " GROUP BY rating",
            (month, office_id or 0, office_id is None),
            what="ratings.month",
        )
        found = {int(r[0]): int(r[1]) for r in rows}
        return RatingCounts(tuple((r, found.get(r, 0)) for r in RATINGS))
