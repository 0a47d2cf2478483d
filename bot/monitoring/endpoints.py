"""The `/readyz` and `/metrics` routes, and who may read `/metrics`.

A figure like "urgent cases waiting" tells an outsider when the office is
overwhelmed, so `/metrics` answers only this machine (a request with no proxy's
forwarding header, from a loopback address) or an address listed in
`[metrics] allow`; with `[metrics] token` set, only a request carrying it as a
bearer token. `/readyz` says only codes and is open like `/healthz`.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging

from prometheus_client import CONTENT_TYPE_LATEST
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from bot.monitoring.metrics import render_metrics
from bot.monitoring.readiness import not_ready
from bot.monitoring.sources import Sources
from bot.web import WebServer

__all__ = ["METRICS_PATH", "READYZ_PATH", "Monitoring", "mount_monitoring"]

log = logging.getLogger(__name__)

READYZ_PATH = "/readyz"
METRICS_PATH = "/metrics"
_FORWARDED = ("forwarded", "x-forwarded-for", "x-real-ip")


class Monitoring:
    """The two endpoints over one set of sources."""

    def __init__(self, sources: Sources) -> None:
        self._sources = sources
        self.scrapes = 0  # served /metrics answers (tests, the bench)

    async def readyz(self, request: Request) -> Response:
        """200 "ready", or 503 "not ready: code, code" (see bot.monitoring.readiness)."""
        reasons = await not_ready(self._sources)
        if not reasons:
            return PlainTextResponse("ready")
        return PlainTextResponse("not ready: " + ", ".join(reasons), status_code=503)

    async def metrics(self, request: Request) -> Response:
        if not self.may_read(request):
            return PlainTextResponse(
                "forbidden", status_code=403, headers={"WWW-Authenticate": "Bearer"}
            )
        ready = not await not_ready(self._sources)
        try:
            body = await render_metrics(self._sources, ready)
        except Exception as exc:
            log.error("metrics: could not be read (%s)", type(exc).__name__)
            return PlainTextResponse("metrics unavailable", status_code=503)
        self.scrapes += 1
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    def may_read(self, request: Request) -> bool:
        settings = self._sources.config.metrics
        if settings.token:
            given = request.headers.get("authorization", "")
            return hmac.compare_digest(given.encode(), f"Bearer {settings.token}".encode())
        if any(name in request.headers for name in _FORWARDED):
            return False  # came through a proxy: from outside, whatever the socket says
        try:
            host = ipaddress.ip_address(request.client.host if request.client else "")
        except ValueError:
            return False
        return host.is_loopback or any(host == _parsed(allowed) for allowed in settings.allow)


def _parsed(
    address: str,
) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(address)
    except ValueError:
        return None


def mount_monitoring(web: WebServer, sources: Sources) -> Monitoring:
    monitoring = Monitoring(sources)
    web.add_route(READYZ_PATH, monitoring.readyz, methods=["GET"])
    web.add_route(METRICS_PATH, monitoring.metrics, methods=["GET"])
    return monitoring
