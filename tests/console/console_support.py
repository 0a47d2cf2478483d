"""Driving the console in-process: a real store, the real app, httpx over ASGI, a fake clock."""

from __future__ import annotations

import functools
import re
from datetime import UTC, datetime

import httpx
import pyotp
from starlette.applications import Starlette
from starlette.routing import Route
from support import Clock

from bot.config import Config
from bot.console.app import build_console
from bot.console.auth.login import AuthSettings
from bot.console.auth.passwords import Hasher
from bot.console.core import Console
from bot.console.office import Office
from bot.console.queue_feed import FeedSettings
from bot.core.texts import BotTexts
from bot.flowhost.shelf import FlowShelf
from bot.handoff.service import Handoff
from flows.library import FlowLibrary
from flows.loader import bundled_library_dir, load_library
from storage.store import Store

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
PASSWORD = "kata-sandi-yang-panjang"
FAST = AuthSettings(hasher=Hasher(memory_kib=8, time_cost=1))
# In-process tests read the queue's event stream to its end: one snapshot, then it closes.
ONE_SHOT_FEED = FeedSettings(interval=0.05, heartbeat=5.0, lifetime=0.0)
_CSRF = re.compile(r'name="csrf" value="([0-9a-f]{64})"')

ROLE_SETS: dict[str, tuple[str, ...]] = {
    "counsellor": ("counsellor",),
    "supervisor": ("supervisor",),
    "admin": ("admin",),
    "admin+counsellor": ("admin", "counsellor"),
}


def console_app(console: Console) -> Starlette:
    return Starlette(
        routes=[Route(r.path, r.endpoint, methods=list(r.methods)) for r in console.routes]
    )


def make_console(
    store: Store, clock: Clock, public_url: str = "", office: Office | None = None
) -> Console:
    return build_console(
        store,
        clock=clock,
        public_url=public_url,
        settings=FAST,
        office=office,
        queue_feed=ONE_SHOT_FEED,
    )


@functools.cache
def _bundled(languages: tuple[str, ...]) -> tuple[BotTexts, FlowLibrary]:
    """Both are immutable, so every test may share one load."""
    texts = BotTexts.load(languages=languages)
    return texts, load_library(bundled_library_dir(), languages=languages)


async def make_office(store: Store, clock: Clock, config: Config | None = None) -> Office:
    """What `lk3 run` gives the console: the bundled flows on a shelf, booking texts, hand-off."""
    config = config if config is not None else Config()
    texts, library = _bundled(config.languages)
    shelf = await FlowShelf.open(
        store, library, base_dir=bundled_library_dir(), languages=config.languages, clock=clock
    )
    handoff = Handoff(store, texts, config, shelf.library, clock)
    shelf.listen(handoff.use_library)
    return Office(config, texts, handoff, shelf)


def client(console: Console, ip: str = "10.0.0.1") -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=console_app(console), client=(ip, 1234))
    return httpx.AsyncClient(transport=transport, base_url="http://console.test")


def csrf_of(html: str) -> str:
    found = _CSRF.search(html)
    assert found is not None, "the page has no CSRF field"
    return found.group(1)


# The second factor `add_staff` gave each username last: `login(..., secret=None)` uses it.
_SECRETS: dict[str, str] = {}


async def add_staff(
    console: Console, username: str, roles: tuple[str, ...], *, totp: bool = True
) -> tuple[int, str | None]:
    """A staff member with a password and (unless `totp=False`: not enrolled yet) a confirmed
    TOTP secret; every role needs one to sign in."""
    member = await console.store.staff.add(username, username.title(), roles, console.clock())
    await console.store.console.set_password(member.id, FAST.hasher.hash(PASSWORD))
    _SECRETS.pop(username, None)
    if not totp:
        return member.id, None
    secret = pyotp.random_base32()
    await console.store.console.set_totp(member.id, secret)
    await console.store.console.confirm_totp(member.id, 0)
    _SECRETS[username] = secret
    return member.id, secret


def code_for(secret: str, clock: Clock) -> str:
    return pyotp.TOTP(secret).at(clock())


async def post(
    http: httpx.AsyncClient, path: str, data: dict[str, str], page: str = "/console/"
) -> httpx.Response:
    """Posts a form the way a browser does: with the CSRF token of the page it came from."""
    token = csrf_of((await http.get(page)).text)
    return await http.post(path, data={**data, "csrf": token})


async def login(
    http: httpx.AsyncClient, username: str, secret: str | None, clock: Clock
) -> httpx.Response:
    """Password, then (once the password is accepted) the code of `secret`, or of the secret
    `add_staff` gave `username` when None."""
    response = await post(
        http, "/console/login", {"username": username, "password": PASSWORD}, "/console/login"
    )
    secret = secret or _SECRETS.get(username)
    if secret is not None and response.headers.get("location") == "/console/totp":
        assert response.headers["location"] == "/console/totp"
        response = await post(
            http, "/console/totp", {"code": code_for(secret, clock)}, "/console/totp"
        )
    return response


async def signed_in(
    console: Console, clock: Clock, username: str, roles: tuple[str, ...]
) -> tuple[int, httpx.AsyncClient]:
    """A staff member with `roles`, added and logged in: their id and browser."""
    staff_id, secret = await add_staff(console, username, roles)
    http = client(console)
    await login(http, username, secret, clock)
    return staff_id, http


async def post_form(
    http: httpx.AsyncClient, path: str, page: str, data: dict[str, str]
) -> httpx.Response:
    """Posts a form to `path` with the CSRF token of `page`, as the browser would."""
    token = csrf_of((await http.get(page)).text)
    return await http.post(path, data={**data, "csrf": token})
