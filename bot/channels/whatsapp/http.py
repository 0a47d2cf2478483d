"""The library's async HTTP client, pointed at `api_base_url`, credentials in a header."""

from __future__ import annotations

import asyncio
import base64
import contextvars
import logging
from urllib.parse import urlsplit, urlunsplit

import aiohttp
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.http.response import Response as TwilioResponse

from bot.channels.pool import RecentFirstConnector

__all__ = ["RETRY_AFTER", "TwilioHttp"]

# Connections to Twilio at most (the outbox sender sends a few at once).
CONNECTIONS = 16

RETRY_AFTER: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "twilio_retry_after", default=None
)
"""The `Retry-After` of the last answer in this context (None if it had none)."""

# The library logs request lines and headers at INFO: the account SID is in every URL.
_HTTP_LOG = logging.getLogger("twilio.async_http_client")
_HTTP_LOG.setLevel(logging.WARNING)


class TwilioHttp(AsyncTwilioHttpClient):  # type: ignore[misc]
    """The library's async HTTP client, pointed at `api_base_url`, credentials in a header.

    aiohttp 3.14 deprecates the `BasicAuth` the library builds from `auth` (one
    DeprecationWarning per request), so the Authorization header is built here and
    nothing deprecated runs. Each answer's `Retry-After` is kept for the caller. Its
    session reuses the connection used last, so those opened during a fault idle out
    (`bot.channels.pool`).
    """

    def __init__(self, base_url: str, timeout: float) -> None:
        super().__init__(logger=_HTTP_LOG, pool_connections=False)
        # An aiohttp session: needs a running loop.
        self.session = aiohttp.ClientSession(connector=RecentFirstConnector(limit=CONNECTIONS))
        parsed = urlsplit(base_url.rstrip("/"))
        self._rewrite = parsed.netloc != "api.twilio.com" or parsed.scheme != "https"
        self._scheme = parsed.scheme
        self._netloc = parsed.netloc
        self._prefix = parsed.path
        self._default_timeout = timeout

    def address(self, url: str) -> str:
        """Where a request for a Twilio URL goes: `api_base_url` in place of Twilio's host."""
        if not self._rewrite:
            return url
        parts = urlsplit(url)
        return urlunsplit((self._scheme, self._netloc, self._prefix + parts.path, parts.query, ""))

    async def request(
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,
        allow_redirects: bool = False,
    ) -> TwilioResponse:
        url = self.address(url)
        headers = dict(headers or {})
        if auth is not None:
            pair = f"{auth[0]}:{auth[1]}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(pair).decode("ascii")
        RETRY_AFTER.set(None)
        async with asyncio.timeout(timeout or self._default_timeout):
            response: TwilioResponse = await super().request(
                method,
                url,
                params=params,
                data=data,
                headers=headers,
                auth=None,
                timeout=None,
                allow_redirects=allow_redirects,
            )
        RETRY_AFTER.set(_seconds(response.headers.get("Retry-After")))
        return response


def _seconds(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None
