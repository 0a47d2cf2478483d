"""The audit log (supervisors and admins): browse it newest first and verify its chain.

Rows show seq, time, actor, action and subject: pseudonymous codes only
(`staff:3`, `case:K7F3Q2`). The free-text reason is left out of the page, since a
staff member wrote it and it may say more than a code. "Verify chain" runs the
same check as `lk3 audit verify` and shows its result and the chain's head.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC

from starlette.requests import Request
from starlette.responses import Response

from bot.console.auth.login import Access, Need
from bot.console.core import Console, PageRoute
from bot.console.scope import office_of
from bot.digits import digits
from storage.privacy.audit import AuditReport, AuditRow

__all__ = ["PAGE_SIZE", "routes"]

PAGE_SIZE = 50


async def show(
    console: Console, request: Request, access: Access, report: AuditReport | None = None
) -> Response:
    raw = request.query_params.get("before", "")
    before = int(raw) if digits(raw) and len(raw) < 18 else None
    error = console.t(request, "audit_bad_page") if raw and before is None else ""
    rows = await console.store.audit.newest(before, PAGE_SIZE + 1, office_id=office_of(access))
    older = rows[PAGE_SIZE - 1].seq if len(rows) > PAGE_SIZE else None
    return console.render(
        request,
        access,
        "audit.html",
        rows=[_Shown.of(row) for row in rows[:PAGE_SIZE]],
        older=older,
        paged=before is not None,
        report=report,
        error=error,
    )


async def listing(console: Console, request: Request, access: Access) -> Response:
    return await show(console, request, access)


async def verify(console: Console, request: Request, access: Access) -> Response:
    return await show(console, request, access, await console.store.audit.verify())


routes = [
    PageRoute("/audit", listing, Need.OFFICE),
    PageRoute("/audit/verify", verify, Need.OFFICE, ("POST",)),
]


@dataclass(frozen=True, slots=True)
class _Shown:
    """One row as the page prints it: the time in UTC, the codes as stored."""

    seq: int
    at: str
    actor: str
    action: str
    subject: str

    @classmethod
    def of(cls, row: AuditRow) -> _Shown:
        at = row.at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        return cls(row.seq, at, row.actor, row.action, row.subject)
