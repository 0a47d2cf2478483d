"""The web server: one Starlette app for every route, served by uvicorn in the bot's loop.

With the two helpers every endpoint shares: `read_body` (bounded) and `CsrfKey`
(tokens for the console's and the web chat's forms).

The Telegram and WhatsApp webhooks, the console and the web chat register their
routes here; one server in the same event loop as the pipeline means a webhook handler
can await the store directly and answer only once the message is durable. The
socket is bound here rather than by uvicorn, so a port already in use is a
clear `WebError` instead of uvicorn exiting the process; and uvicorn's signal
handlers are left out, because `lk3 run` owns SIGINT and SIGTERM.

    WebError   the server could not start (address in use, bad host)
    BodyLimit  no request body over its path's limit reaches an endpoint (413, or
               `BODY_TOO_LARGE` in the scope for an endpoint that answers kindly itself)
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging
import secrets
import socket
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass

import uvicorn
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.clientaddr import RealClient
from bot.digits import digits
from bot.errors import BotError

__all__ = [
    "BODY_TOO_LARGE",
    "DEFAULT_MAX_BODY",
    "BodyLimit",
    "CsrfKey",
    "Endpoint",
    "WebError",
    "WebServer",
    "read_body",
]

log = logging.getLogger(__name__)

Endpoint = Callable[[Request], Awaitable[Response]]

# Sent with a 503 while the database cannot be written: the sender posts again later.
RETRY_LATER = {"Retry-After": "5"}
SHUTDOWN_GRACE_SECONDS = 5
DEFAULT_MAX_BODY = 1024 * 1024
"""The largest request body any endpoint gets (a console form with a flow file fits)."""
BODY_TOO_LARGE = "lk3.body_too_large"
"""Set in the scope, with an empty body, for a path that answers an over-size post itself."""


@dataclass(frozen=True, slots=True)
class PathLimit:
    """Bodies under `prefix` may carry `limit` bytes; `kindly`: over it, the endpoint is
    called with `BODY_TOO_LARGE` set and no body, to answer in its own words."""

    prefix: str
    limit: int
    kindly: bool = False


class BodyLimit:
    """ASGI middleware: refuses a body over its path's limit before an endpoint reads it.

    A declared Content-Length over the limit (or a malformed one) is refused at once,
    unread; a streamed body (no length) is counted as it arrives, held up to the limit,
    and refused the moment it passes it. Starlette's `request.form()` reads whatever
    it is given, so without this one post could fill the memory.
    """

    def __init__(self, app: ASGIApp, default: int, paths: Sequence[PathLimit] = ()) -> None:
        self.app = app
        self.default = PathLimit("/", default)
        # The longest prefix first: the most specific rule decides.
        self.paths = sorted(paths, key=lambda p: len(p.prefix), reverse=True)

    def _rule(self, path: str) -> PathLimit:
        return next((p for p in self.paths if path.startswith(p.prefix)), self.default)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rule = self._rule(str(scope.get("path", "")))
        headers = {name: value for name, value in scope.get("headers", [])}
        declared = headers.get(b"content-length")
        if declared is not None:
            if not digits(declared) or int(declared) > rule.limit:
                await self._over(rule, scope, receive, send)
                return
            await self.app(scope, receive, send)
            return
        if b"transfer-encoding" not in headers:
            await self.app(scope, receive, send)  # no body at all
            return
        held: list[Message] = []
        size = 0
        while True:
            message = await receive()
            held.append(message)
            if message["type"] != "http.request":
                break
            size += len(message.get("body", b""))
            if size > rule.limit:
                await self._over(rule, scope, receive, send)
                return
            if not message.get("more_body", False):
                break
        await self.app(scope, _replay(held, receive), send)

    async def _over(self, rule: PathLimit, scope: Scope, receive: Receive, send: Send) -> None:
        if rule.kindly:
            empty: Message = {"type": "http.request", "body": b"", "more_body": False}
            await self.app({**scope, BODY_TOO_LARGE: True}, _replay([empty], receive), send)
            return
        response = PlainTextResponse("request body too large", status_code=413)
        await response(scope, receive, send)


def _replay(messages: list[Message], receive: Receive) -> Receive:
    """`messages` first, then whatever the client sends next (a disconnect, usually)."""
    queue = list(messages)

    async def replayed() -> Message:
        if queue:
            return queue.pop(0)
        return await receive()

    return replayed


async def read_body(request: Request, limit: int) -> bytes | None:
    """The request body, or None as soon as it says or turns out to be longer than `limit`
    bytes (a malformed length counts as too long): no endpoint reads an unbounded body."""
    declared = request.headers.get("content-length", "")
    if declared and (not digits(declared) or int(declared) > limit):
        return None
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            return None
    return bytes(body)


class CsrfKey:
    """CSRF tokens bound to a session (or, before login, to a random pre-session cookie).

    A token is an HMAC of the session id under a key that never leaves the process,
    so a page on another site can neither read nor compute it; forms carry it in a
    hidden field and every POST is refused without the right one.
    """

    def __init__(self, key: bytes | None = None) -> None:
        self._key = key if key is not None else secrets.token_bytes(32)

    def token(self, binding: str) -> str:
        return hmac.new(self._key, binding.encode("ascii"), hashlib.sha256).hexdigest()

    def check(self, binding: str, token: str) -> bool:
        return bool(binding) and hmac.compare_digest(self.token(binding), token)


class WebError(BotError):
    """The web server could not start; the message names the address."""


class _Server(uvicorn.Server):
    """uvicorn without its own signal handling: the process that runs it stops it."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class WebServer:
    """Collects routes, then serves them until `stop`."""

    def __init__(
        self,
        host: str,
        port: int,
        trusted_proxies: Sequence[str] = (),
        max_body: int = DEFAULT_MAX_BODY,
    ) -> None:
        self.host = host
        self.port = port
        # The largest request body, and smaller or kinder rules per path (`limit_body`).
        self.max_body = max_body
        self._body_paths: list[PathLimit] = []
        # Whose X-Forwarded-For is believed (bot.clientaddr); uvicorn's own is off.
        self.trusted_proxies = tuple(trusted_proxies)
        self._routes: list[Route] = [Route("/healthz", self._healthz, methods=["GET"])]
        # What is wrong, for monitoring ("ok" when nothing is): see `report_health`.
        self._health: Callable[[], str] = lambda: "ok"
        self._server: _Server | None = None
        self._task: asyncio.Task[None] | None = None
        self._socket: socket.socket | None = None
        # Run first in `stop`: long-lived responses (the console's live queue) end
        # themselves, so the graceful shutdown does not wait on them.
        self._on_stop: list[Callable[[], None]] = []

    def add_route(self, path: str, endpoint: Endpoint, *, methods: Sequence[str]) -> None:
        """Registers a route; only before `start`."""
        if self._server is not None:
            raise RuntimeError(f"route {path}: the web server has already started")
        if any(route.path == path for route in self._routes):
            raise ValueError(f"route {path} is registered twice")
        self._routes.append(Route(path, endpoint, methods=list(methods)))

    def limit_body(self, prefix: str, limit: int, *, kindly: bool = False) -> None:
        """Bodies under `prefix` carry at most `limit` bytes (never more than `max_body`);
        `kindly`: the endpoint answers an over-size one itself (see `BODY_TOO_LARGE`)."""
        if self._server is not None:
            raise RuntimeError(f"body limit {prefix}: the web server has already started")
        self._body_paths.append(PathLimit(prefix, min(limit, self.max_body), kindly))

    def report_health(self, describe: Callable[[], str]) -> None:
        """`/healthz` answers 200 with "ok" while `describe` says "ok", else 503 with what
        it says (a database that cannot be written, for instance)."""
        self._health = describe

    async def _healthz(self, request: Request) -> Response:
        """For the reverse proxy and monitoring: the process is up and can do its work."""
        state = self._health()
        return PlainTextResponse(state, status_code=200 if state == "ok" else 503)

    def on_stop(self, hook: Callable[[], None]) -> None:
        """Registers a callable run at the start of `stop` (ends streams that never finish)."""
        self._on_stop.append(hook)

    @property
    def paths(self) -> list[str]:
        return [route.path for route in self._routes]

    def app(self) -> Starlette:
        return Starlette(
            routes=list(self._routes),
            middleware=[
                Middleware(RealClient, trusted=self.trusted_proxies),
                Middleware(BodyLimit, default=self.max_body, paths=tuple(self._body_paths)),
            ],
        )

    async def start(self) -> None:
        """Binds the address and serves in the running loop; returns once it accepts."""
        try:
            family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
            sock = socket.create_server((self.host, self.port), family=family)
            # Accepted connections inherit this. asyncio sets it only for sockets made
            # with proto IPPROTO_TCP, which create_server's are not: without it every
            # answer waited ~40 ms for a delayed ACK (Nagle).
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError as exc:
            raise WebError(
                f"the web server cannot listen on {self.host}:{self.port} ({exc.strerror}); "
                "check [web] host and port"
            ) from None
        self._socket = sock
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            self.app(),
            log_config=None,
            access_log=False,
            lifespan="off",
            server_header=False,
            # Never uvicorn's (it believes 127.0.0.1 by default): RealClient decides.
            proxy_headers=False,
            timeout_graceful_shutdown=SHUTDOWN_GRACE_SECONDS,
        )
        self._server = _Server(config)
        self._task = asyncio.create_task(self._server.serve(sockets=[sock]), name="web-server")
        while not self._server.started:
            if self._task.done():
                self._socket.close()
                await self._task
                raise WebError(f"the web server on {self.host}:{self.port} stopped at start")
            await asyncio.sleep(0.005)
        log.info("web server listening on %s:%s", self.host, self.port)

    async def stop(self) -> None:
        """Stops accepting, lets requests under way finish (a few seconds at most)."""
        if self._server is None or self._task is None:
            return
        for hook in self._on_stop:
            hook()
        self._server.should_exit = True
        await self._task
        if self._socket is not None:
            self._socket.close()
        self._server = None
        self._task = None
