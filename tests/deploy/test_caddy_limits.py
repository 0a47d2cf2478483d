"""deploy/Caddyfile's body limits, with Caddy itself in front of the bot's web server: the
console takes 1MB, the web chat its longest message and more (the bot answers kindly
past its own limit), and nothing larger reaches the bot."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from starlette.requests import ClientDisconnect, Request
from starlette.responses import PlainTextResponse, Response
from test_caddy import caddy

from bot.channels.webchat.page import MAX_POST_BYTES
from bot.web import WebServer

pytestmark = pytest.mark.e2e

READ: list[int] = []


async def echo(request: Request) -> Response:
    try:
        body = await request.body()
    except ClientDisconnect:  # Caddy stopped passing an over-size body on
        return PlainTextResponse("cut", status_code=400)
    READ.append(len(body))
    return PlainTextResponse(str(len(body)))


async def test_caddy_caps_request_bodies_per_path(tmp_path: Path) -> None:
    web = WebServer("127.0.0.1", 0, max_body=8 * 1024 * 1024)
    web.add_route("/console/echo", echo, methods=["POST"])
    web.add_route("/chat/send", echo, methods=["POST"])
    await web.start()
    try:
        async with caddy(tmp_path, web.port) as (https_port, trust):
            base = f"https://localhost:{https_port}"
            async with httpx.AsyncClient(base_url=base, verify=trust, timeout=30) as http:
                form = await http.post("/console/echo", content=b"c" * 900_000)
                chat = await http.post("/chat/send", content=b"t" * (MAX_POST_BYTES + 1000))
                big_form = await http.post("/console/echo", content=b"c" * 1_100_000)
                big_chat = await http.post("/chat/send", content=b"t" * 600_000)
    finally:
        await web.stop()
    assert form.status_code == 200 and chat.status_code == 200
    # Caddy stops passing the body on at its limit: 413, or 502 from Debian's Caddy 2.6,
    # which answers so when it cuts a streamed body short.
    assert big_form.status_code in (413, 502) and big_chat.status_code in (413, 502)
    assert READ == [900_000, MAX_POST_BYTES + 1000], "nothing larger reached the bot"
