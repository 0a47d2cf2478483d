"""The shared web server: routes registered before start, served in the loop, clear failures."""

from __future__ import annotations

import socket

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from bot.web import WebError, WebServer


async def hello(request: Request) -> Response:
    return PlainTextResponse("halo")


async def test_registered_routes_are_served_until_stopped() -> None:
    web = WebServer("127.0.0.1", 0)
    web.add_route("/hello", hello, methods=["GET"])
    await web.start()
    try:
        with pytest.raises(RuntimeError, match="already started"):
            web.add_route("/late", hello, methods=["GET"])
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{web.port}") as client:
            assert (await client.get("/hello")).text == "halo"
            assert (await client.post("/hello")).status_code == 405
            assert (await client.get("/nowhere")).status_code == 404
            assert (await client.get("/healthz")).text == "ok"
    finally:
        await web.stop()
    with pytest.raises(httpx.ConnectError):
        async with httpx.AsyncClient() as client:
            await client.get(f"http://127.0.0.1:{web.port}/hello")


async def test_a_port_in_use_is_a_clear_error_naming_the_address() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        web = WebServer("127.0.0.1", port)
        with pytest.raises(WebError, match=f"cannot listen on 127.0.0.1:{port}"):
            await web.start()


def test_a_route_registered_twice_is_refused() -> None:
    web = WebServer("127.0.0.1", 0)
    web.add_route("/hello", hello, methods=["GET"])
    with pytest.raises(ValueError, match="/hello is registered twice"):
        web.add_route("/hello", hello, methods=["POST"])
    assert web.paths == ["/healthz", "/hello"]
