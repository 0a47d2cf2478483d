"""The month's cases as CSV (supervisors and admins): one row a case, codes and times only.

The same file as `lk3 figures cases --month` (`bot.figures.casecsv`): nothing is
decrypted and no family, staff member or word is in it. Each download is audited.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from bot.console.auth.login import Access, Need
from bot.console.core import Console, PageRoute
from bot.figures.casecsv import case_csv
from bot.figures.months import month_of, month_window
from storage.offices.schema import DEFAULT_OFFICE_ID

__all__ = ["routes"]


async def download(console: Console, request: Request, access: Access) -> Response:
    picked = month_of(request.query_params.get("month", ""))
    if picked is None:
        return console.error(request, access, 400, "figures_bad_month")
    year, month = picked
    tz = console.office.config.office.tz
    since, until = month_window(year, month, tz)
    # A case-level file: the staff member's own office only (a province supervisor sees
    # other offices' counts on the figures page, never their cases).
    office_id = await console.store.offices.office_of_staff(access.member.id)
    rows = await console.store.case_rows.month(since, until, office_id or DEFAULT_OFFICE_ID)
    name = f"lk3-cases-{year:04d}-{month:02d}.csv"
    await console.audit(
        access, "cases_export", f"month:{year:04d}-{month:02d}", "case-level CSV, no identities"
    )
    return Response(
        case_csv(rows, tz),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


routes = [PageRoute("/figures/cases.csv", download, Need.OFFICE)]
