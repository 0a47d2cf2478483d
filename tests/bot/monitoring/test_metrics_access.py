"""Who may read `/metrics`: this machine by default, never through a proxy; with
`[metrics] token`, only a request with the token. `/readyz` is open (codes only)."""

from __future__ import annotations

import dataclasses

import httpx
import pytest
from bot_support import Bot

from bot.monitorconfig import Metrics
from bot.monitoring.endpoints import mount_monitoring
from bot.monitoring.sources import Sources
from bot.web import WebServer

TOKEN = "0123456789abcdef0123"


async def status(bot: Bot, client: str, metrics: Metrics, **headers: str) -> int:
    app = bot.app
    sources = Sources(
        config=dataclasses.replace(app.config, metrics=metrics),
        store=app.store,
        writes=app.health,
        tally=app.pipeline.tally,
        pulses={},
        channels=("test",),
        clock=app.sender._clock,
    )
    web = WebServer("127.0.0.1", 0)
    mount_monitoring(web, sources)
    transport = httpx.ASGITransport(app=web.app(), client=(client, 5555))
    async with httpx.AsyncClient(transport=transport, base_url="http://bot.test") as http:
        assert (await http.get("/readyz")).status_code == 200
        return (await http.get("/metrics", headers=headers)).status_code


@pytest.mark.parametrize(
    ("client", "headers", "expected"),
    [
        ("127.0.0.1", {}, 200),
        ("::1", {}, 200),
        ("203.0.113.9", {}, 403),
        ("127.0.0.1", {"X-Forwarded-For": "203.0.113.9"}, 403),  # the proxy passed it on
        ("127.0.0.1", {"Forwarded": "for=203.0.113.9"}, 403),
    ],
)
async def test_without_a_token_only_this_machine_reads_metrics(
    bot: Bot, client: str, headers: dict[str, str], expected: int
) -> None:
    assert await status(bot, client, Metrics(), **headers) == expected


async def test_an_address_listed_in_allow_reads_metrics(bot: Bot) -> None:
    assert await status(bot, "10.0.0.7", Metrics(allow=("10.0.0.7",))) == 200
    assert await status(bot, "10.0.0.8", Metrics(allow=("10.0.0.7",))) == 403


async def test_with_a_token_every_request_needs_it(bot: Bot) -> None:
    metrics = Metrics(token=TOKEN)
    assert await status(bot, "127.0.0.1", metrics) == 403
    assert await status(bot, "203.0.113.9", metrics, Authorization="Bearer wrong") == 403
    assert await status(bot, "203.0.113.9", metrics, Authorization=f"Bearer {TOKEN}") == 200


async def test_a_forwarded_request_is_refused_even_from_an_allowed_address(bot: Bot) -> None:
    """A proxy listed in `allow` passes requests from anyone: the header decides first."""
    allowed = Metrics(allow=("10.0.0.7",))
    assert await status(bot, "10.0.0.7", allowed, **{"X-Forwarded-For": "203.0.113.9"}) == 403


async def test_allowed_addresses_are_compared_as_addresses(bot: Bot) -> None:
    allowed = Metrics(allow=("2001:db8:0:0:0:0:0:7",))
    assert await status(bot, "2001:db8::7", allowed) == 200
    assert await status(bot, "2001:db8::8", allowed) == 403
