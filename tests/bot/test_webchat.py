"""The web chat: a family in a browser talks to the real bot through the same pipeline.

In-process: the real app (store, flows, crisis check, outbox sender) with the web
chat channel, its page served by Starlette, driven by httpx over ASGI.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from bot_support import make_config

from bot.app import App
from bot.channels.base import Outbound
from bot.channels.webchat import Tuning, WebChatChannel
from bot.texts import BotTexts
from bot.web import WebServer
from bot.webchat.page import CSP, MAX_CHARS, Limits, WebChatPage, mount_webchat

_CSRF = re.compile(r'name="csrf" value="([0-9a-f]{64})"')
_MID = re.compile(r'name="mid" value="([0-9a-f]{32})"')
_BUTTON = re.compile(r'name="choice" value="([^"]+)"')


@dataclass
class Ticks:
    now: float = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Chat:
    app: App
    channel: WebChatChannel
    page: WebChatPage
    http: httpx.AsyncClient

    async def form(self) -> tuple[str, str]:
        html = (await self.http.get("/chat")).text
        csrf, mid = _CSRF.search(html), _MID.search(html)
        assert csrf is not None and mid is not None
        return csrf.group(1), mid.group(1)

    async def say(self, **fields: str) -> httpx.Response:
        csrf, mid = await self.form()
        response = await self.http.post("/chat/send", data={"csrf": csrf, "mid": mid, **fields})
        await self.app.wait_idle()
        return response

    async def lines(self, after: int = 0) -> list[dict[str, object]]:
        body = (await self.http.get(f"/chat/replies?after={after}&wait=0")).json()
        lines: list[dict[str, object]] = body["lines"]
        return lines


@pytest.fixture
def ticks() -> Ticks:
    return Ticks()


@pytest.fixture
async def chat(tmp_path: Path, ticks: Ticks) -> AsyncIterator[Chat]:
    channel = WebChatChannel()
    app = await App.open(make_config(tmp_path / "data"), [channel], env={})
    await app.start()
    page = WebChatPage(
        channel,
        app.receive,
        BotTexts.load(),
        secure_cookies=False,
        limits=Limits(per_address=5, per_network=8, window_seconds=60, poll_seconds=0.05),
        monotonic=ticks,
    )
    web = WebServer("127.0.0.1", 0)
    mount_webchat(web, page)
    transport = httpx.ASGITransport(app=web.app(), client=("10.0.0.9", 1234))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://bot.test") as http:
            yield Chat(app, channel, page, http)
    finally:
        channel.close()
        await app.stop()


async def test_first_visit_gives_an_anonymous_strict_cookie_and_a_strict_csp(chat: Chat) -> None:
    response = await chat.http.get("/chat")
    assert response.status_code == 200
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("lk3_chat=")
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/chat" in cookie
    assert "Max-Age" not in cookie  # a session cookie: closing the browser forgets it
    assert response.headers["content-security-policy"] == CSP
    assert "'unsafe-inline'" not in CSP and "frame-ancestors 'none'" in CSP
    assert "<script>" not in response.text  # only the external file
    again = await chat.http.get("/chat")
    assert "set-cookie" not in again.headers


async def test_start_is_answered_through_the_pipeline_with_buttons_that_post_a_choice(
    chat: Chat,
) -> None:
    assert (await chat.say(start="1")).status_code == 303
    lines = await chat.lines()
    assert [line["who"] for line in lines][:2] == ["you", "bot"]
    page = (await chat.http.get("/chat")).text
    values = _BUTTON.findall(page)
    assert values, "the welcome offers its choices as buttons"
    before = len(lines)
    assert (await chat.say(choice=values[0])).status_code == 303
    after = await chat.lines()
    assert len(after) > before + 1
    mine = after[before]
    assert mine["who"] == "you" and mine["text"] != values[0]  # the label, not the raw value


async def test_a_crisis_typed_in_the_web_chat_opens_an_urgent_case(chat: Chat) -> None:
    await chat.say(text="halo")
    await chat.say(text="suami saya memukuli saya sekarang, saya takut dibunuh")
    queue = await chat.app.store.handoff.queue()
    assert [(case.urgency) for case in queue] == ["darurat"]
    replies = [line["text"] for line in await chat.lines() if line["who"] == "bot"]
    assert any("112" in str(text) for text in replies)


@pytest.mark.parametrize(
    ("fields", "status", "note"),
    [
        ({"text": "x" * (MAX_CHARS + 1)}, 400, "terlalu panjang"),
        ({"text": "   "}, 400, "masih kosong"),
        ({}, 400, "masih kosong"),
    ],
)
async def test_bad_input_gets_a_kind_note_and_reaches_no_one(
    chat: Chat, fields: dict[str, str], status: int, note: str
) -> None:
    response = await chat.say(**fields)
    assert response.status_code == status
    assert note in response.text
    assert await chat.lines() == []
    assert await chat.app.store.handoff.queue() == []


async def test_a_long_message_note_comes_back_as_json_for_the_script(chat: Chat) -> None:
    csrf, mid = await chat.form()
    response = await chat.http.post(
        "/chat/send",
        data={"csrf": csrf, "mid": mid, "text": "y" * (MAX_CHARS + 5), "lang": "en"},
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 400
    assert "too long" in response.json()["notice"] and str(MAX_CHARS) in response.json()["notice"]


@pytest.mark.parametrize("token", ["", "0" * 64, "not-a-token"])
async def test_a_post_without_the_right_csrf_token_is_refused_kindly(
    chat: Chat, token: str
) -> None:
    await chat.http.get("/chat")
    response = await chat.http.post("/chat/send", data={"csrf": token, "text": "halo"})
    assert response.status_code == 403
    assert "kirim pesan Anda sekali lagi" in response.text
    await chat.app.wait_idle()
    assert await chat.lines() == []


async def test_a_token_from_another_conversation_is_refused(chat: Chat) -> None:
    csrf, _ = await chat.form()
    chat.http.cookies.clear()
    await chat.http.get("/chat")  # a new anonymous id
    response = await chat.http.post("/chat/send", data={"csrf": csrf, "text": "halo"})
    assert response.status_code == 403


async def test_the_same_form_posted_twice_is_one_message(chat: Chat) -> None:
    csrf, mid = await chat.form()
    for _ in range(2):
        await chat.http.post("/chat/send", data={"csrf": csrf, "mid": mid, "text": "halo"})
    await chat.app.wait_idle()
    assert [line["who"] for line in await chat.lines()].count("you") == 1


async def test_posts_are_limited_per_address_then_allowed_again(chat: Chat, ticks: Ticks) -> None:
    statuses = [(await chat.say(text=f"halo {n}")).status_code for n in range(6)]
    assert statuses == [303] * 5 + [429]
    refused = await chat.say(text="lagi")
    assert "tunggu sebentar" in refused.text and "112" in refused.text
    ticks.now += 61
    assert (await chat.say(text="sekarang boleh")).status_code == 303


async def test_new_cookies_do_not_escape_the_per_network_limit(chat: Chat) -> None:
    statuses = []
    for n in range(9):
        chat.http.cookies.clear()
        statuses.append((await chat.say(text=f"halo {n}")).status_code)
    assert statuses == [303] * 8 + [429]


async def test_a_reconnecting_page_gets_the_replies_it_missed_and_none_twice(chat: Chat) -> None:
    await chat.say(text="halo")
    first = await chat.lines()
    seen = int(str(first[-1]["seq"]))
    await chat.say(text="menu")  # the tab was closed while these came
    missed = await chat.lines(after=seen)
    assert missed and all(int(str(line["seq"])) > seen for line in missed)
    assert missed[0]["who"] == "you" and missed[0]["text"] == "menu"
    assert await chat.lines(after=int(str(missed[-1]["seq"]))) == []


async def test_a_poll_without_the_cookie_is_refused(chat: Chat) -> None:
    response = await chat.http.get("/chat/replies?after=0&wait=0")
    assert response.status_code == 403


async def test_static_files_are_served_and_nothing_else(chat: Chat) -> None:
    js = await chat.http.get("/chat/static/chat.js")
    assert js.status_code == 200 and js.headers["content-type"].startswith("text/javascript")
    assert (await chat.http.get("/chat/static/..%2Fpage.py")).status_code == 404
    assert (await chat.http.get("/chat/static/page.py")).status_code == 404


# --- the channel's buffer --------------------------------------------------------


async def test_the_buffer_keeps_the_newest_lines_per_conversation() -> None:
    channel = WebChatChannel(Tuning(lines=3))
    for n in range(5):
        assert await channel.send(Outbound(n, "a", f"r{n}")) == f"webchat:{n + 1}"
    assert [line.text for line in channel.lines("a")] == ["r2", "r3", "r4"]
    assert channel.lines("b") == []


async def test_an_idle_or_least_recent_conversation_is_forgotten() -> None:
    ticks = Ticks()
    channel = WebChatChannel(Tuning(conversations=2, idle_seconds=100), monotonic=ticks)
    await channel.send(Outbound(1, "a", "ra"))
    await channel.send(Outbound(2, "b", "rb"))
    await channel.send(Outbound(3, "c", "rc"))  # "a" was the least recent
    assert channel.lines("a") == [] and channel.lines("b") != []
    ticks.now += 101
    assert channel.lines("b") == [] and channel.lines("c") == []


async def test_a_waiting_poll_wakes_when_a_reply_is_sent() -> None:
    import asyncio

    channel = WebChatChannel()
    waiting = asyncio.create_task(channel.wait("a", 0, timeout=30))
    await asyncio.sleep(0)
    await channel.send(Outbound(1, "a", "halo", (("1", "Satu"),)))
    lines = await waiting
    assert [(line.text, line.options) for line in lines] == [("halo", (("1", "Satu"),))]
    assert await channel.wait("a", lines[-1].seq, timeout=0.01) == []


# The web chat's routes are public (no console session): this table names them all, so a
# new one cannot ship unjudged. The console's own table is tests/console/test_console_roles.py.
PUBLIC_ROUTES = {"/healthz", "/chat", "/chat/send", "/chat/replies", "/chat/static/{name}"}


def test_the_web_chat_serves_exactly_its_public_routes() -> None:
    web = WebServer("127.0.0.1", 0)
    page = WebChatPage(WebChatChannel(), _never, BotTexts.load(), secure_cookies=True)
    mount_webchat(web, page)
    assert set(web.paths) == PUBLIC_ROUTES


async def _never(_: object) -> bool:
    raise AssertionError("not called")
