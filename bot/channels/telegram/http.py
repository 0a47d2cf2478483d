"""How python-telegram-bot reaches the Bot API: over aiohttp instead of httpx.

python-telegram-bot builds every request, maps every answer to its errors and
types, and leaves the HTTP itself to a `BaseRequest` (its documented extension
point). This one runs on aiohttp (already installed for twilio) because sending
is most of what the bot does and its default, `HTTPXRequest`, cost several times
the CPU per call (the figures are in docs/performance.md).

What it keeps from `HTTPXRequest`: per-call timeouts (connect, read, write,
pool; `None` waits without limit), a bounded connection pool, TLS with the
certifi bundle, form-encoded parameters and multipart uploads, and the mapping
of failures to `TimedOut` and `NetworkError`. What it never does: put the
request address in a message or a log line, because the address carries the
bot's token.
"""

from __future__ import annotations

import json
import logging
import ssl
import urllib.parse
import urllib.request
from functools import cache
from typing import Any

import aiohttp
import certifi
from telegram.error import NetworkError, TelegramError, TimedOut
from telegram.request import BaseRequest, RequestData

from bot.channels.pool import RecentFirstConnector

__all__ = ["AiohttpRequest"]

log = logging.getLogger(__name__)

_Timeout = float | None


class AiohttpRequest(BaseRequest):
    """A `BaseRequest` on one aiohttp session with at most `connections` connections.

    The session is made in `initialize` (aiohttp sessions belong to the running
    event loop) and closed in `shutdown`; both may be called more than once.
    """

    __slots__ = ("_connections", "_proxies", "_session", "_timeout")

    def __init__(self, connections: int = 8, timeout: float = 10.0) -> None:
        if connections < 1:
            raise ValueError("AiohttpRequest: connections must be at least 1")
        self._connections = connections
        self._timeout = timeout
        self._session: aiohttp.ClientSession | None = None
        self._proxies: dict[str, str | None] = {}

    @staticmethod
    def parse_json_payload(payload: bytes) -> dict[str, Any]:
        """Telegram's answer read as JSON. PTB's own logs a traceback with the whole answer
        for one that is not JSON; here the error only is raised, and the caller logs one
        line naming the endpoint and the error class."""
        try:
            data = json.loads(payload.decode("utf-8", "replace"))
        except ValueError:
            raise TelegramError("Invalid server response") from None
        if not isinstance(data, dict):
            raise TelegramError("Invalid server response")
        return data

    @property
    def read_timeout(self) -> float | None:
        return self._timeout

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            connector = RecentFirstConnector(limit=self._connections, ssl_context=_tls())
            self._session = aiohttp.ClientSession(
                connector=connector,
                # Every call states its own timeouts (do_request).
                timeout=aiohttp.ClientTimeout(total=None),
                # Telegram's answers are JSON read as bytes; nothing to decompress here
                # that aiohttp would not do on its own, and no cookies to keep.
                cookie_jar=aiohttp.DummyCookieJar(),
                # Not trust_env: it reads ~/.netrc in a worker thread on every request.
                # HTTPS_PROXY and friends are honoured all the same (_proxy_for).
                trust_env=False,
            )
            self._proxies = {}

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: object = BaseRequest.DEFAULT_NONE,
        write_timeout: object = BaseRequest.DEFAULT_NONE,
        connect_timeout: object = BaseRequest.DEFAULT_NONE,
        pool_timeout: object = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        session = self._session
        if session is None or session.closed:
            raise RuntimeError("AiohttpRequest is not initialized")
        read = _seconds(read_timeout, self._timeout)
        write = _seconds(write_timeout, self._timeout)
        connect = _seconds(connect_timeout, self._timeout)
        pool = _seconds(pool_timeout, self._timeout)
        timeout = aiohttp.ClientTimeout(
            # aiohttp has no write timeout: the whole call is bounded by the sum instead,
            # so a server that stops reading our request cannot hold a sender forever.
            total=_sum(read, write, connect, pool),
            connect=_sum(pool, connect),  # waiting for a pooled connection, then connecting
            sock_connect=connect,
            sock_read=read,
        )
        try:
            data, content_type = _body(request_data)
            headers = {"User-Agent": self.USER_AGENT}
            if content_type is not None:
                headers["Content-Type"] = content_type
            async with session.request(
                method,
                url,
                data=data,
                headers=headers,
                timeout=timeout,
                proxy=self._proxy_for(url),
            ) as response:
                return response.status, await response.read()
        except TimeoutError:  # aiohttp's timeouts are (subclasses of) TimeoutError
            # Not chained: aiohttp's message can name the address, which holds the token.
            raise TimedOut from None
        except aiohttp.ClientError as exc:
            # The class name only: aiohttp's own message can carry the address (the token).
            raise NetworkError(f"aiohttp.{type(exc).__name__}") from None

    def _proxy_for(self, url: str) -> str | None:
        """The proxy the environment names for this URL's scheme and host, looked up once
        per host (HTTPS_PROXY, HTTP_PROXY, ALL_PROXY and NO_PROXY, as httpx reads them)."""
        parts = urllib.parse.urlsplit(url)
        key = f"{parts.scheme}://{parts.hostname}"
        if key not in self._proxies:
            proxies = urllib.request.getproxies()
            proxy = proxies.get(parts.scheme) or proxies.get("all")
            if proxy and parts.hostname and urllib.request.proxy_bypass(parts.hostname):
                proxy = None
            if proxy and urllib.parse.urlsplit(proxy).scheme not in ("http", "https"):
                # aiohttp speaks to HTTP proxies only (a socks5:// ALL_PROXY would fail
                # every call): go direct, and say so without the proxy's address.
                log.warning("telegram: a proxy that is not http(s) is ignored")
                proxy = None
            self._proxies[key] = proxy or None
        return self._proxies[key]


def _seconds(value: object, default: float) -> _Timeout:
    """A timeout given to one call: seconds, None (no limit) or PTB's "not given"."""
    if value is None:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return default


def _sum(*values: _Timeout) -> _Timeout:
    return None if any(v is None for v in values) else sum(v for v in values if v is not None)


def _body(request_data: RequestData | None) -> tuple[aiohttp.FormData | bytes | None, str | None]:
    """Form-encoded parameters, or a multipart form when the call uploads files; and the
    content type to state (None: aiohttp states the multipart one).

    Plain parameters are encoded here: aiohttp's FormData builds a multipart writer
    (and a random boundary) even for a form it will send url-encoded.
    """
    if request_data is None:
        return None, None
    if not request_data.contains_files:
        encoded = urllib.parse.urlencode(request_data.json_parameters).encode("ascii")
        return encoded, "application/x-www-form-urlencoded"
    form = aiohttp.FormData(quote_fields=False)
    for name, value in request_data.json_parameters.items():
        form.add_field(name, value)
    for name, part in request_data.multipart_data.items():
        filename, content, mimetype = _file_part(part)
        form.add_field(name, content, filename=filename, content_type=mimetype)
    return form, None


def _file_part(part: object) -> tuple[str | None, bytes, str | None]:
    """PTB's multipart value: (filename, content) or (filename, content, mimetype)."""
    if isinstance(part, tuple) and len(part) in (2, 3):
        filename = part[0] if isinstance(part[0], str) else None
        content = part[1] if isinstance(part[1], bytes) else bytes(part[1])
        mimetype = part[2] if len(part) == 3 and isinstance(part[2], str) else None
        return filename, content, mimetype
    raise ValueError("AiohttpRequest: an upload part of an unknown shape")


@cache
def _tls() -> ssl.SSLContext:
    """One TLS context for every client: loading the CA bundle takes tens of milliseconds."""
    return ssl.create_default_context(cafile=certifi.where())
