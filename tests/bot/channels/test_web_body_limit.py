"""No request body over its limit reaches an endpoint: a declared length is refused unread,
a streamed body is counted as it comes; the web chat's longest message always fits, and
a post past its limit gets the chat's kind note, never a bare error page."""

from __future__ import annotations

from collections.abc import AsyncIterator
from urllib.parse import urlencode

import httpx
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from webchat_support import Chat, form

from bot.channels.webchat.page import MAX_CHARS, MAX_POST_BYTES
from bot.web import DEFAULT_MAX_BODY, WebServer

READ: list[int] = []


async def echo(request: Request) -> Response:
    body = await request.body()
    READ.append(len(body))
    return PlainTextResponse(str(len(body)))


def small_server() -> WebServer:
    READ.clear()
    web = WebServer("127.0.0.1", 0, max_body=64 * 1024)
    web.add_route("/console/echo", echo, methods=["POST"])
    return web


async def test_a_declared_body_over_the_limit_is_refused_unread() -> None:
    web = small_server()
    transport = httpx.ASGITransport(app=web.app())
    async with httpx.AsyncClient(transport=transport, base_url="http://bot.test") as http:
        refused = await http.post("/console/echo", content=b"x" * (64 * 1024 + 1))
        taken = await http.post("/console/echo", content=b"x" * (64 * 1024))
    assert refused.status_code == 413
    assert taken.status_code == 200 and READ == [64 * 1024], "the endpoint saw only one"


async def chunks(total: int, size: int = 8192) -> AsyncIterator[bytes]:
    sent = 0
    while sent < total:
        piece = min(size, total - sent)
        sent += piece
        yield b"y" * piece


async def test_a_streamed_body_is_counted_as_it_arrives() -> None:
    """No Content-Length (chunked): over a real socket, the count stops it."""
    web = small_server()
    await web.start()
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{web.port}") as http:
            refused = await http.post("/console/echo", content=chunks(10 * 64 * 1024))
            taken = await http.post("/console/echo", content=chunks(20_000))
    finally:
        await web.stop()
    assert refused.status_code == 413
    assert taken.status_code == 200 and READ == [20_000]


def test_the_default_limit_is_a_mebibyte() -> None:
    assert WebServer("127.0.0.1", 0).max_body == DEFAULT_MAX_BODY == 1024 * 1024


def longest_post(csrf: str, mid: str) -> bytes:
    """The text box full of the widest characters there are (4 UTF-8 bytes each)."""
    words = "\U0001f62d" * MAX_CHARS
    return urlencode({"csrf": csrf, "mid": mid, "lang": "id", "text": words}).encode()


async def test_the_longest_message_the_chat_takes_always_fits(chat: Chat) -> None:
    csrf, mid = await form(chat.http)
    body = longest_post(csrf, mid)
    assert len(body) <= MAX_POST_BYTES
    response = await chat.http.post(
        "/chat/send",
        content=body,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    await chat.app.wait_idle()
    assert response.status_code == 303, "taken"
    assert len(await chat.lines()) >= 1


async def test_a_post_past_the_chats_limit_gets_its_kind_note(chat: Chat) -> None:
    csrf, mid = await form(chat.http)
    huge = {"csrf": csrf, "mid": mid, "text": "z" * MAX_POST_BYTES}
    page = await chat.http.post("/chat/send", data=huge)
    assert page.status_code == 413
    assert "terlalu panjang" in page.text and "<form" in page.text
    script = await chat.http.post("/chat/send", data=huge, headers={"Accept": "application/json"})
    assert script.status_code == 413 and "terlalu panjang" in script.json()["notice"]
    assert await chat.lines() == []
