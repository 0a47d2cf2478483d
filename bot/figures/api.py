"""The read-only figures API: a province system reads one office's month, nothing more.

    GET /api/v1/figures?month=2026-11     the month's counts, as the console's figures
                                          page computes them ("<5" for 1-4), as JSON
    GET /api/v1/cases.csv?month=2026-11   the month's cases without identities (CSV)

Every request carries `Authorization: Bearer lk3f_...`, a token an admin made with
`lk3 api-token add --office CODE`; it reads that office and no other. The token is
looked up by its SHA-256 and compared in constant time (`storage.figures.tokens`);
a missing, unknown or revoked token gets the same 401. Nothing is decrypted: the
answers are counts, codes and times.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime

from starlette.requests import Request
from starlette.responses import Response

from bot.config import Config
from bot.console.pages.figures import csv_rows
from bot.figures.casecsv import case_csv
from bot.figures.months import month_of, month_window
from bot.offices.profiles import OfficeConfigs
from bot.web import WebServer
from storage.figures.tokens import ApiToken
from storage.store import Store

__all__ = ["FIGURES_ROUTE", "CASES_ROUTE", "FiguresApi", "mount_api"]

FIGURES_ROUTE = "/api/v1/figures"
CASES_ROUTE = "/api/v1/cases.csv"
_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def _problem(status: int, code: str, message: str) -> Response:
    headers = dict(_HEADERS)
    if status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="lk3-figures"'
    body = json.dumps({"error": code, "message": message})
    return Response(body, status, headers=headers, media_type="application/json")


class FiguresApi:
    """The two endpoints, over the store and the office's calendar."""

    def __init__(self, store: Store, config: Config, clock: Callable[[], datetime]) -> None:
        self._store = store
        self._config = config
        self._clock = clock
        self._offices = OfficeConfigs(store, config)  # each token's office's time zone

    async def _token(self, request: Request) -> ApiToken | None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        return await self._store.api_tokens.check(token.strip(), self._clock())

    def _picked(self, request: Request) -> tuple[int, int] | None:
        return month_of(request.query_params.get("month", ""))

    async def figures(self, request: Request) -> Response:
        token = await self._token(request)
        if token is None:
            return _problem(401, "unauthorized", "a valid bearer token is needed")
        picked = self._picked(request)
        if picked is None:
            return _problem(400, "bad_month", "month must be YYYY-MM, such as 2026-11")
        year, month = picked
        tz = (await self._offices.for_office(token.office_id)).office.tz
        since, until = month_window(year, month, tz)
        target = self._config.escalation.realert_minutes * 60
        label = f"{year:04d}-{month:02d}"
        # The console figures page's own reads, limited to the token's office.
        office = token.office_id
        counts = await self._store.office.month(since, until, office_id=office)
        handoff = await self._store.handoff.figures(
            since, until, target_seconds=target, office_id=office
        )
        ratings = await self._store.ratings.month(label, office_id=office)
        rows = csv_rows(counts, handoff, ratings)
        body = {
            "office": token.office,
            "month": label,
            "small_counts": 'counts from 1 to 4 are given as "<5"',
            "figures": [{"section": s, "item": i, "value": v} for s, i, v in rows],
        }
        return Response(
            json.dumps(body, ensure_ascii=False),
            headers=_HEADERS,
            media_type="application/json",
        )

    async def cases(self, request: Request) -> Response:
        token = await self._token(request)
        if token is None:
            return _problem(401, "unauthorized", "a valid bearer token is needed")
        picked = self._picked(request)
        if picked is None:
            return _problem(400, "bad_month", "month must be YYYY-MM, such as 2026-11")
        year, month = picked
        tz = (await self._offices.for_office(token.office_id)).office.tz
        since, until = month_window(year, month, tz)
        rows = await self._store.case_rows.month(since, until, token.office_id)
        name = f"lk3-cases-{token.office}-{year:04d}-{month:02d}.csv"
        return Response(
            case_csv(rows, tz),
            headers={**_HEADERS, "Content-Disposition": f'attachment; filename="{name}"'},
            media_type="text/csv; charset=utf-8",
        )


def mount_api(
    web: WebServer, store: Store, config: Config, clock: Callable[[], datetime]
) -> FiguresApi:
    api = FiguresApi(store, config, clock)
    web.add_route(FIGURES_ROUTE, api.figures, methods=["GET"])
    web.add_route(CASES_ROUTE, api.cases, methods=["GET"])
    return api
