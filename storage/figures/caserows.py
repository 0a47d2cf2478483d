"""The case-level rows of a month, without identities: codes and times only.

One row per case opened in [since, until), of one office or all: its code, office
code, category, urgency, the times it opened, got its first human reply and closed,
its outcome and the referrals recorded (codes joined by `;`). Read from plain columns; nothing is
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

    async def month(
        self, since: datetime, until: datetime, office_id: int | None = None
    ) -> list[CaseRow]:
        """The cases opened in [since, until), oldest first: one office's, or (None) every
        office's, each row naming its office's code."""
        start, end = to_micros(since, "since"), to_micros(until, "until")
        mine = "" if office_id is None else " AND c.office_id = ?"
        params = (start, end) if office_id is None else (start, end, office_id)
        rows = await self._readers.fetchall(
            "SELECT c.id, c.code, c.category, c.urgency, c.opened_at, c.first_reply_at,"
            " c.closed_at, c.outcome, o.code FROM cases c JOIN offices o ON o.id = c.office_id"
            f" WHERE c.opened_at >= ? AND c.opened_at < ?{mine} ORDER BY c.opened_at, c.id",
            params,
            what="caserows.month",
        )
        referred = await self._readers.fetchall(
            "SELECT r.case_id, r.service FROM case_referrals r JOIN cases c ON c.id = r.case_id"
            f" WHERE c.opened_at >= ? AND c.opened_at < ?{mine} ORDER BY r.id",
            params,
            what="caserows.referrals",
        )
        by_case: dict[int, list[str]] = {}
        for case_id, service in referred:
            by_case.setdefault(int(case_id), []).append(str(service))
        return [
            CaseRow(
                code=str(r[1]),
                office=str(r[8]),
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
