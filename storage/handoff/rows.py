"""How a `cases` row is read: the one `case_from_row`, shared by every reader of cases."""

from __future__ import annotations

from datetime import datetime

from storage.engine.clock import from_micros
from storage.engine.db import Row
from storage.handoff.records import AlertRef, LiveCase
from storage.records import Case

__all__ = [
    "ALERTS_SQL",
    "CASE_COLUMNS",
    "CASE_SELECT",
    "RISK_ORDER",
    "RISK_SQL",
    "alert_from_row",
    "brief",
    "case_from_row",
    "risk_key",
]

CASE_COLUMNS = (
    "id, code, contact_id, category, urgency, status, opened_at, waiting_since,"
    " owner_staff_id, taken_at, closed_at, outcome, alerted_at, alerts, widened_at,"
    " family_reminded_at, first_reply_at, urgent_unanswered_at, crisis, office_id"
)
CASE_SELECT = f"SELECT {CASE_COLUMNS} FROM cases"
RISK_SQL = "CASE urgency WHEN 'darurat' THEN 0 WHEN 'segera' THEN 1 ELSE 2 END"
RISK_ORDER = {"darurat": 0, "segera": 1}


def risk_key(case: LiveCase) -> tuple[int, datetime, int]:
    """Most urgent first, then longest waiting, as the queue orders cases."""
    return RISK_ORDER.get(case.urgency, 2), case.waiting_since, case.id


def _time(value: object) -> datetime | None:
    return None if value is None else from_micros(int(str(value)))


def case_from_row(row: Row) -> LiveCase:
    """A case from the `CASE_COLUMNS` of one row, in that order."""
    opened = from_micros(int(row[6]))
    return LiveCase(
        id=int(row[0]),
        code=str(row[1]),
        contact_id=int(row[2]),
        category=str(row[3]),
        urgency=str(row[4]),
        status=str(row[5]),
        opened_at=opened,
        waiting_since=_time(row[7]) or opened,
        owner_staff_id=None if row[8] is None else int(row[8]),
        taken_at=_time(row[9]),
        closed_at=_time(row[10]),
        outcome=None if row[11] is None else str(row[11]),
        alerted_at=_time(row[12]),
        alerts=int(row[13]),
        widened_at=_time(row[14]),
        family_reminded_at=_time(row[15]),
        first_reply_at=_time(row[16]),
        urgent_unanswered_at=_time(row[17]),
        crisis=str(row[18] or ""),
        office_id=int(row[19]),
    )


def brief(case: LiveCase) -> Case:
    """The codes of a case without its hand-off state, as the turn and privacy code see it."""
    return Case(
        id=case.id,
        code=case.code,
        contact_id=case.contact_id,
        category=case.category,
        urgency=case.urgency,
        status=case.status,
        opened_at=case.opened_at,
    )


# One per message: a digest may list a case for several rounds.
ALERTS_SQL = (
    "SELECT a.outbox_id, min(a.staff_id), o.contact_id, o.channel, o.provider_id"
    " FROM case_alerts a JOIN outbox o ON o.id = a.outbox_id"
    " WHERE a.case_id = ? GROUP BY a.outbox_id, o.id ORDER BY min(a.id)"
)


def alert_from_row(r: Row) -> AlertRef:
    return AlertRef(int(r[0]), int(r[1]), int(r[2]), str(r[3]), None if r[4] is None else str(r[4]))
