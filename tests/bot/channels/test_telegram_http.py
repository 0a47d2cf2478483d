"""The Bot API transport under python-telegram-bot (bot/channels/telegram/http.py).

The real library sends through it to the fake Bot API server; a proxy named by
the environment is a small real HTTP proxy on loopback.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import NetworkError
from telegram_api import TOKEN, FakeTelegram

from bot.channels.telegram.http import AiohttpRequest

pytestmark = pytest.mark.e2e

# Nothing answers at this name (RFC 2606): only a proxy can reach it.
UNREACHABLE = "http://api.telegram.invalid/bot"


class Proxy:
    """A forward HTTP proxy that answers every request itself, as a Bot API would
    answer getMe, and remembers the request lines it was sent."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        self._server: asyncio.Server | None = None

    async def __aenter__(self) -> Proxy:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    @property
    def url(self) -> str:
        assert self._server is not None
        port = self._server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        self.requests.append(lines[0])
        length = next(
            (int(h.split(":", 1)[1]) for h in lines if h.lower().startswith("content-length:")),
            0,
        )
        await reader.readexactly(length)
        user = {"id": 1, "is_bot": True, "first_name": "LK3", "username": "lk3_bot"}
        body = json.dumps({"ok": True, "result": user}).encode()
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            + f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
            + body
        )
        await writer.drain()
        writer.close()


@pytest.fixture
async def proxy() -> AsyncIterator[Proxy]:
    async with Proxy() as server:
        yield server


def _bot(base_url: str) -> Bot:
    # Both requests, as the bot makes them (bot.channels.telegram.channel.TelegramChannel).
    return Bot(
        TOKEN,
        base_url=base_url,
        request=AiohttpRequest(2, 2.0),
        get_updates_request=AiohttpRequest(1, 2.0),
    )


async def test_requests_go_through_the_proxy_the_environment_names(
    proxy: Proxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    async with _bot(UNREACHABLE) as bot:
        assert (await bot.get_me()).username == "lk3_bot"
    assert proxy.requests
    assert all(line.startswith("POST http://api.telegram.invalid/bot") for line in proxy.requests)


async def test_a_host_in_no_proxy_is_reached_directly(
    proxy: Proxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    monkeypatch.setenv("NO_PROXY", "api.telegram.invalid")
    with pytest.raises(NetworkError) as raised:
        async with _bot(UNREACHABLE) as bot:
            await bot.get_me()
    assert proxy.requests == []
    assert TOKEN not in str(raised.value), "the address (and its token) stays out of errors"


async def test_awkward_text_and_buttons_arrive_exactly_as_sent() -> None:
    text = "Ibu & anak = aman? 100% ya + 🙏\n«tanda» \u200b جميل a=b&c=d"
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("Ya & lanjut", callback_data="a=1&b")]])
    async with FakeTelegram() as fake, _bot(fake.api_base_url) as bot:
        sent = await bot.send_message(4242, text, reply_markup=markup)
        (message,) = fake.messages(4242)
    assert message.text == text
    assert message.keyboard == [[{"text": "Ya & lanjut", "callback_data": "a=1&b"}]]
    assert sent.message_id == message.message_id


async def test_a_proxy_aiohttp_cannot_speak_to_is_ignored_not_fatal(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ALL_PROXY", "socks5://user:secret@127.0.0.1:1")
    async with FakeTelegram() as fake, _bot(fake.api_base_url) as bot:
        assert (await bot.get_me()).username == "lk3_test_bot"
