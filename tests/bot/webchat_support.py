"""Driving the real bot's web chat over ASGI as a browser would: the shared harness.

The real app (store, flows, crisis check, outbox sender) with the web chat channel,
its page served by Starlette, driven by httpx over ASGI. The conversation a page
shows is read back from the database; a page polls with the cursor it was last
given, and `Screen` keeps what a page shows the way chat.js does, so a test can say
what a person would see. The fixtures (`ticks`, `clock`, `site`, `chat`) are made
available to tests/bot/channels by its conftest.
"""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from bot_support import make_config
from support import Clock

from bot.app import App
from bot.channels.webchat.channel import Tuning, WebChatChannel
from bot.channels.webchat.page import Limits, WebChatPage, mount_webchat
from bot.core.texts import BotTexts
from bot.web import WebServer
from storage.records import NewOutbound

CSRF = re.compile(r'name="csrf" value="([0-9a-f]{64})"')
MID = re.compile(r'name="mid" value="([0-9a-f]{32})"')
BUTTON = re.compile(r'name="choice" value="([^"]+)"')
LINE = re.compile(
    r'<li class="line (bot|you)" data-seq="[0-9]+">.*?<span class="text">(.*?)</span>', re.S
)
SECRET = "RAHASIA-WEBCHAT-5521"
NEUTRAL = "Oke, terima kasih."


@dataclass
class Ticks:
    """A monotonic clock the test moves by hand (the page's limits read it)."""

    now: float = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Site:
    """The bot with its web chat on one data folder, as `lk3 demo` serves it."""

    app: App
    channel: WebChatChannel
    page: WebChatPage
    asgi: object

    def browser(self, cookies: httpx.Cookies | None = None) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=self.asgi, client=("10.0.0.9", 1234))  # type: ignore[arg-type]
        return httpx.AsyncClient(transport=transport, base_url="http://bot.test", cookies=cookies)

    async def close(self) -> None:
        self.channel.wake_all()
        await self.app.stop()


TIGHT = Limits(
    per_address=5,
    per_network=8,
    crisis_starts_per_network=3,
    window_seconds=60,
    poll_seconds=0.05,
    reply_seconds=0.2,
)
"""Small limits, so a test meets them in a few posts, and short waits for replies."""


async def open_site(
    data: Path,
    clock: Clock,
    ticks: Ticks,
    tuning: Tuning | None = None,
    *,
    start: bool = True,
    limits: Limits = TIGHT,
) -> Site:
    channel = WebChatChannel(tuning)
    app = await App.open(make_config(data), [channel], env={}, clock=clock)
    channel.bind(app.host())
    if start:
        await app.start()
    page = WebChatPage(
        channel,
        app.receive,
        BotTexts.load(),
        secure_cookies=False,
        limits=limits,
        monotonic=ticks,
        concern=app.pipeline.concern,
        read_chars=app.config.max_message_chars,
    )
    web = WebServer("127.0.0.1", 0)
    mount_webchat(web, page)
    return Site(app, channel, page, web.app())


async def form(http: httpx.AsyncClient) -> tuple[str, str]:
    html = (await http.get("/chat")).text
    csrf, mid = CSRF.search(html), MID.search(html)
    assert csrf is not None and mid is not None
    return csrf.group(1), mid.group(1)


async def say(site: Site, http: httpx.AsyncClient, **fields: str) -> httpx.Response:
    csrf, mid = await form(http)
    response = await http.post("/chat/send", data={"csrf": csrf, "mid": mid, **fields})
    await site.app.wait_idle()
    return response


async def poll(http: httpx.AsyncClient, after: int | str = 0) -> dict[str, object]:
    response = await http.get(f"/chat/replies?after={after}&wait=0")
    assert response.status_code == 200
    body: dict[str, object] = response.json()
    return body


async def lines(http: httpx.AsyncClient, after: int | str = 0) -> list[dict[str, object]]:
    found: list[dict[str, object]] = (await poll(http, after))["lines"]  # type: ignore[assignment]
    return found


async def cursor(http: httpx.AsyncClient) -> str:
    """The cursor a page that has every line kept now would poll with."""
    return str((await poll(http))["cursor"])


@dataclass
class Screen:
    """The lines a page shows, kept from its polls' answers as chat.js keeps them.

    Told the person `left` (a quick exit), chat.js loads the blank note: the screen shows
    no line, and the page that comes back once they write again starts afresh.
    """

    lines: list[tuple[int, str, str]] = field(default_factory=list)  # (seq, who, text)
    cursor: str = "0"
    last: int = 0
    note: bool = False  # showing the blank note

    async def poll(self, http: httpx.AsyncClient) -> dict[str, Any]:
        body: dict[str, Any] = await poll(http, "0" if self.note else self.cursor)
        self.note = bool(body["left"])
        if self.note:
            self.lines, self.last, self.cursor = [], 0, "0"
            return body
        if body["reset"]:
            self.lines, self.last = [], 0
        first = body["first"]
        self.lines = [line for line in self.lines if first is not None and line[0] >= first]
        for line in body["lines"]:
            if line["seq"] > self.last:
                self.lines.append((line["seq"], line["who"], line["text"]))
                self.last = line["seq"]
        self.last = max(self.last, body["last"])
        self.cursor = body["cursor"]
        return body

    @property
    def shows(self) -> list[tuple[str, str]]:
        return [(who, text) for _, who, text in self.lines]


def shown(page: str) -> list[tuple[str, str]]:
    """(who, text) of every line the page prints (bold marks dropped)."""
    return [
        (who, html.unescape(re.sub(r"</?strong>", "", text))) for who, text in LINE.findall(page)
    ]


@pytest.fixture
def ticks() -> Ticks:
    return Ticks()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def site(tmp_path: Path, clock: Clock, ticks: Ticks) -> AsyncIterator[Site]:
    opened = await open_site(tmp_path / "data", clock, ticks)
    try:
        yield opened
    finally:
        await opened.close()


@dataclass
class Chat:
    site: Site
    http: httpx.AsyncClient

    @property
    def app(self) -> App:
        return self.site.app

    async def say(self, **fields: str) -> httpx.Response:
        return await say(self.site, self.http, **fields)

    async def lines(self, after: int | str = 0) -> list[dict[str, object]]:
        return await lines(self.http, after)


@pytest.fixture
async def chat(site: Site) -> AsyncIterator[Chat]:
    async with site.browser() as http:
        yield Chat(site, http)


async def consented(chat: Chat) -> None:
    """A family who started the chat and agreed to the consent question."""
    await chat.say(start="1")
    await chat.say(choice="agree")


async def another_tab(chat: Chat) -> httpx.AsyncClient:
    """A second tab of the same browser: the same cookie, so the same conversation."""
    return chat.site.browser(httpx.Cookies(chat.http.cookies))


async def keep_talking(site: Site, http: httpx.AsyncClient, ticks: Ticks, until: int) -> None:
    """Messages a minute apart (past the posting limit) until the conversation has `until` lines."""
    for n in range(20):
        if (await poll(http))["last"] >= until:  # type: ignore[operator]
            return
        ticks.now += 61
        await say(site, http, text=f"pesan {n}")
    raise AssertionError(f"the conversation did not reach {until} lines")


def address_of(chat: Chat) -> str:
    """The anonymous id in the browser's cookie: the conversation's address."""
    return str(chat.http.cookies["lk3_chat"])


def reply(contact_id: int, text: str) -> NewOutbound:
    """A reply as the outbox holds it, for the web chat at `contact_id`."""
    return NewOutbound(contact_id, "webchat", text, (), 5, datetime.now(UTC))
