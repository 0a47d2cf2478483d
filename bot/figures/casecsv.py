"""The month's cases as CSV: one row a case, codes and times only, safe to open in a sheet.

Columns: code, office, category, urgency, opened, first_human_reply, closed, outcome,
referral (the codes recorded, `;` between them). Times are ISO 8601 in the office's
time zone. No name, number, chat id, staff member or word is read to make it.

A spreadsheet runs a cell that starts with `=`, `+`, `-` or `@` (or a tab or carriage
return) as a formula, so such a cell gets a leading `'`: codes never start that way
today, but a category comes from a flow file and a referral code from an admin.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import datetime
from zoneinfo import ZoneInfo

from storage.figures.caserows import CaseRow

__all__ = ["COLUMNS", "case_csv", "guarded"]

COLUMNS = (
    "code",
    "office",
    "category",
    "urgency",
    "opened",
    "first_human_reply",
    "closed",
    "outcome",
    "referral",
)
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def guarded(cell: str) -> str:
    """A cell a spreadsheet shows as text, never runs."""
    return "'" + cell if cell.startswith(_FORMULA) else cell


def _when(value: datetime | None, tz: ZoneInfo) -> str:
    return "" if value is None else value.astimezone(tz).isoformat(timespec="seconds")


def case_csv(rows: Iterable[CaseRow], tz: ZoneInfo) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for row in rows:
        cells = (
            row.code,
            row.office,
            row.category,
            row.urgency,
            _when(row.opened_at, tz),
            _when(row.first_reply_at, tz),
            _when(row.closed_at, tz),
            row.outcome or "",
            ";".join(row.referrals),
        )
        writer.writerow([guarded(c) for c in cells])
    return out.getvalue()
