"""The case-level rows of a month, without identities: codes and times only.

One row per case opened in [since, until): its code, office, category, urgency, the
times it opened, got its first human reply and closed, its outcome and the
referrals recorded (codes joined by `;`). Read from plain columns; nothing is
decrypted, and no contact, staff member or word is read at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from storage.engine.clock import from_micros, to_micros
from storage.engine.db import Readers

__all__ = ["CaseRow", "CaseRowRepo"]


@dataclass(frozen=True, slots=True)
class CaseRow:
    code: str
    office: str
    category: str
    urgency: str
    opened_at: datetime
    first_reply_at: datetime | None
    closed_at: datetime | None
    outcome: str | None
    referrals: tuple[str, ...]


def _when(value: object) -> datetime | None:
    return None if value is None else from_micros(int(str(value)))


class CaseRowRepo:
    def __init__(self, readers: Readers) -> None:
        self._readers = readers

    async def month(self, since: datetime, until: datetime, office: str) -> list[CaseRow]:
        """The cases opened in [since, until), oldest first. One office per database until
        offices are rows: `office` is its code (`[figures] office`)."""
        start, end = to_micros(since, "since"), to_micros(until, "until")
        rows = await self._readers.fetchall(
            "SELECT c.id, c.code, c.category, c.urgency, c.opened_at, c.first_reply_at,"
            " c.closed_at, c.outcome"
            " FROM cases c WHERE c.opened_at >= ? AND c.opened_at < ? ORDER BY c.opened_at, c.id",
            (start, end),
            what="caserows.month",
        )
        referred = await self._readers.fetchall(
            "SELECT r.case_id, r.service FROM case_referrals r JOIN cases c ON c.id = r.case_id"
            " WHERE c.opened_at >= ? AND c.opened_at < ? ORDER BY r.id",
            (start, end),
            what="caserows.referrals",
        )
        by_case: dict[int, list[str]] = {}
        for case_id, service in referred:
            by_case.setdefault(int(case_id), []).append(str(service))
        return [
            CaseRow(
                code=str(r[1]),
                office=office,
                category=str(r[2]),
                urgency=str(r[3]),
                opened_at=from_micros(int(r[4])),
                first_reply_at=_when(r[5]),
                closed_at=_when(r[6]),
                outcome=None if r[7] is None else str(r[7]),
                referrals=tuple(by_case.get(int(r[0]), ())),
            )
            for r in rows
        ]
