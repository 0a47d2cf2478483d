"""The web chat behind a reverse proxy on this machine: its per-network limits count each
family's real address (believed from the proxy only), an IPv6 family by its /64."""

from __future__ import annotations

import httpx
from webchat_support import Chat, Site, form

from bot.channels.webchat.page import mount_webchat
from bot.clientaddr import LOOPBACK
from bot.config import Web
from bot.web import WebServer


def behind_proxy(site: Site, forwarded: str) -> httpx.AsyncClient:
    """A browser whose requests reach the bot through Caddy on 127.0.0.1."""
    web = WebServer("127.0.0.1", 0, trusted_proxies=Web().trusted_proxies)
    mount_webchat(web, site.page)
    transport = httpx.ASGITransport(app=web.app(), client=("127.0.0.1", 40000))
    return httpx.AsyncClient(
        transport=transport,
        base_url="http://bot.test",
        headers={"X-Forwarded-For": forwarded},
    )


async def start(site: Site, http: httpx.AsyncClient, text: str) -> int:
    http.cookies.clear()
    csrf, mid = await form(http)
    response = await http.post("/chat/send", data={"csrf": csrf, "mid": mid, "text": text})
    await site.app.wait_idle()
    return response.status_code


async def test_families_behind_the_local_proxy_do_not_share_one_network(site: Site) -> None:
    assert Web().trusted_proxies == LOOPBACK, "a local proxy is believed by default"
    async with behind_proxy(site, "203.0.113.7") as first:
        # The tight test limits: 8 conversations a minute from one network.
        statuses = [await start(site, first, f"halo {n}") for n in range(9)]
        assert statuses == [303] * 8 + [429]
    async with behind_proxy(site, "198.51.100.20") as other:
        assert await start(site, other, "halo, saya mau tanya") == 303


async def test_an_ipv6_family_is_one_network_by_its_slash_64(site: Site) -> None:
    for n in range(8):
        async with behind_proxy(site, f"2001:db8:7:7::{n + 1:x}") as http:
            assert await start(site, http, f"halo {n}") == 303
    async with behind_proxy(site, "2001:db8:7:7:ffff::1") as same:
        assert await start(site, same, "halo lagi") == 429
    async with behind_proxy(site, "2001:db8:7:8::1") as next_door:
        assert await start(site, next_door, "halo lagi") == 303


async def test_a_forged_header_from_a_family_itself_is_not_believed(chat: Chat) -> None:
    """A browser reaching the bot directly (not from loopback) cannot pick its address."""
    statuses = []
    for n in range(9):
        chat.http.cookies.clear()
        chat.http.headers["X-Forwarded-For"] = f"192.0.2.{n}"
        statuses.append((await chat.say(text=f"halo {n}")).status_code)
    assert statuses == [303] * 8 + [429]
