"""Sign-in limits that hold under pressure: strangers sharing an address (a proxy on this
machine, an office's NAT) cannot lock a real user out; a burst of concurrent guesses
meets the same limits as guesses one by one; an IPv6 client is counted by its /64;
hashing runs off the event loop, a couple at a time."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from console_support import (
    PASSWORD,
    add_staff,
    client,
    code_for,
    csrf_of,
    login,
    post,
)
from support import Clock

from bot.clientaddr import LOOPBACK, network_key
from bot.config import load_config
from bot.console.app import build_console, mount_console
from bot.console.auth.login import HASHING_AT_ONCE, AuthSettings
from bot.console.auth.passwords import Hasher
from bot.console.core import Console
from bot.web import WebServer
from storage.store import Store

LOCKED = "Terlalu banyak percobaan"
MAIN_THREAD = threading.get_ident()


@dataclass
class Seen:
    """What the hasher saw: every hash verified, on which thread, and how many at once."""

    stored: list[str | None]
    threads: set[int]
    running: int = 0
    most: int = 0


SEEN = Seen([], set())
_SEEN_LOCK = threading.Lock()


@dataclass(frozen=True, slots=True)
class WatchedHasher(Hasher):
    """The real hasher, noting each verification (the hash still runs)."""

    def verify(self, stored: str | None, password: str) -> bool:
        with _SEEN_LOCK:
            SEEN.stored.append(stored)
            SEEN.threads.add(threading.get_ident())
            SEEN.running += 1
            SEEN.most = max(SEEN.most, SEEN.running)
        try:
            return Hasher.verify(self, stored, password)
        finally:
            with _SEEN_LOCK:
                SEEN.running -= 1


def watched_console(store: Store, clock: Clock) -> Console:
    SEEN.stored.clear()
    SEEN.threads.clear()
    SEEN.most = 0
    settings = AuthSettings(hasher=WatchedHasher(memory_kib=8, time_cost=1))
    return build_console(store, clock=clock, settings=settings)


async def attempt(http: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    return await post(
        http, "/console/login", {"username": username, "password": password}, "/console/login"
    )


async def strangers(http: httpx.AsyncClient, count: int = 20) -> None:
    for n in range(count):
        await attempt(http, f"tebak{n}", "salah-sekali-ya")


# --- strangers at one address cannot lock a real user out -----------------------------------


async def test_strangers_at_the_same_address_cannot_lock_out_a_clean_accounts_right_password(
    console: Console, clock: Clock
) -> None:
    await add_staff(console, "nona", ("counsellor",))
    async with client(console, ip="10.9.9.9") as http:
        await strangers(http)
        assert LOCKED in (await attempt(http, "tebak-lagi", "salah-sekali-ya")).text
        signed_in = await login(http, "nona", None, clock)
        assert signed_in.headers["location"] == "/console/", "the password, then the code"


async def test_at_a_crowded_address_an_account_gets_one_wrong_guess_then_waits(
    console: Console, clock: Clock
) -> None:
    """The address's limit still slows a guesser: one guess per clean account, then the
    account is refused from there like any name with a failure on record."""
    await add_staff(console, "nona", ("counsellor",))
    async with client(console, ip="10.9.9.9") as http:
        await strangers(http)
        assert LOCKED in (await attempt(http, "nona", "bukan-kata-sandinya")).text
        assert LOCKED in (await attempt(http, "nona", PASSWORD)).text
    async with client(console, ip="10.0.0.2") as http:
        assert (await login(http, "nona", None, clock)).headers["location"] == "/console/"


async def test_behind_a_local_proxy_by_default_each_client_has_its_own_limit(
    console: Console, clock: Clock, tmp_path: Path
) -> None:
    """Caddy or nginx on this machine, and a config that says nothing of proxies: the
    forwarded address is the one counted, so 20 failures elsewhere lock nobody out."""
    (tmp_path / "config.toml").write_text("[web]\nport = 8080\n", encoding="utf-8")
    trusted = load_config(tmp_path / "config.toml", env={}).web.trusted_proxies
    assert trusted == LOOPBACK
    await add_staff(console, "nona", ("counsellor",))
    async with served(console, trusted) as base, httpx.AsyncClient(base_url=base) as http:
        for n in range(21):
            text = await forwarded(http, "203.0.113.5", f"tebak{n}", "salah-sekali-ya")
        assert LOCKED in text
        page = await forwarded(http, "203.0.113.6", "nona", PASSWORD, follow=True)
        assert "kode" in page.lower(), "the right password leads on to the code page"


@asynccontextmanager
async def served(console: Console, trusted: tuple[str, ...]) -> AsyncIterator[str]:
    web = WebServer("127.0.0.1", 0, trusted_proxies=trusted)
    mount_console(web, console)
    await web.start()
    try:
        yield f"http://127.0.0.1:{web.port}"
    finally:
        await web.stop()


async def forwarded(
    http: httpx.AsyncClient, client_ip: str, username: str, password: str, *, follow: bool = False
) -> str:
    headers = {"X-Forwarded-For": client_ip}
    page = await http.get("/console/login", headers=headers)
    response = await http.post(
        "/console/login",
        data={"username": username, "password": password, "csrf": csrf_of(page.text)},
        headers=headers,
        follow_redirects=follow,
    )
    return response.text


async def test_an_ipv6_client_is_counted_by_its_slash_64(console: Console, clock: Clock) -> None:
    assert network_key("2001:db8:1:2:aaaa::1") == "2001:db8:1:2::/64"
    assert network_key("::ffff:192.0.2.7") == "192.0.2.7"
    assert network_key("192.0.2.7") == "192.0.2.7"
    for n in range(20):
        async with client(console, ip=f"2001:db8:1:2::{n + 1:x}") as http:
            await attempt(http, f"tebak{n}", "salah-sekali-ya")
    async with client(console, ip="2001:db8:1:2:ffff::9") as http:
        assert LOCKED in (await attempt(http, "tebak-lagi", "salah-sekali-ya")).text
    async with client(console, ip="2001:db8:1:3::1") as http:
        assert LOCKED not in (await attempt(http, "tebak-lagi", "salah-sekali-ya")).text


# --- concurrent guesses meet the same limits ------------------------------------------------


async def burst(
    http: httpx.AsyncClient, path: str, page: str, forms: list[dict[str, str]]
) -> list[httpx.Response]:
    """Posts every form at once, all with the token of one page (as a script would)."""
    token = csrf_of((await http.get(page)).text)
    return list(
        await asyncio.gather(*(http.post(path, data={**form, "csrf": token}) for form in forms))
    )


async def test_a_burst_of_passwords_for_one_account_checks_only_its_free_guesses(
    store: Store, clock: Clock
) -> None:
    console = watched_console(store, clock)
    member_id, _ = await add_staff(console, "nona", ("counsellor",))
    forms = [{"username": "nona", "password": f"tebakan-ke-{n}"} for n in range(22)]
    async with client(console, ip="10.5.5.5") as http:
        answers = await burst(http, "/console/login", "/console/login", forms)
    checked = [stored for stored in SEEN.stored if stored is not None]
    assert len(checked) == 5, "five free failures, then the lock: never 22 checks"
    assert sum(LOCKED in a.text for a in answers) == 17
    assert (await store.console.credentials(member_id)).failed_logins == 5


async def test_a_burst_of_names_from_one_address_is_held_to_its_limit(
    store: Store, clock: Clock
) -> None:
    console = watched_console(store, clock)
    member_id, _ = await add_staff(console, "nona", ("counsellor",))
    # Each of 30 made-up names once, and the real name with wrong passwords: 35 at once.
    forms = [{"username": f"tebak{n}", "password": "salah-sekali-ya"} for n in range(30)]
    forms += [{"username": "nona", "password": f"tebakan-ke-{n}"} for n in range(5)]
    async with client(console, ip="10.5.5.6") as http:
        answers = await burst(http, "/console/login", "/console/login", forms)
    # Past the address's 20, only a name with no failure yet is checked, once.
    assert sum(LOCKED not in a.text for a in answers) <= 20
    assert (await store.console.credentials(member_id)).failed_logins <= 5


async def test_a_burst_of_codes_checks_only_the_accounts_free_guesses(
    console: Console, clock: Clock
) -> None:
    member_id, secret = await add_staff(console, "ana", ("admin",))
    assert secret is not None
    async with client(console, ip="10.6.6.7") as http:
        first = await attempt(http, "ana", PASSWORD)
        assert first.headers["location"] == "/console/totp"
        right = code_for(secret, clock)
        wrong = [f"{n:06d}" for n in range(200000, 200022) if f"{n:06d}" != right]
        answers = await burst(http, "/console/totp", "/console/totp", [{"code": c} for c in wrong])
    creds = await console.store.console.credentials(member_id)
    assert creds.totp_failures == 5, "five codes checked, never 22"
    assert not any(a.headers.get("location") == "/console/" for a in answers)


async def test_a_crowded_address_still_takes_a_clean_accounts_right_code(
    console: Console, clock: Clock
) -> None:
    """Others' wrong codes fill the address's limit (10); a counsellor whose account has
    no wrong code signs in from there all the same."""
    for name in ("budi", "citra", "dewi"):
        await add_staff(console, name, ("counsellor",))
    await add_staff(console, "nona", ("counsellor",))
    async with client(console, ip="10.7.7.7") as http:
        for name in ("budi", "citra", "dewi"):
            await attempt(http, name, PASSWORD)
            for n in range(4):
                await post(http, "/console/totp", {"code": f"10000{n}"}, "/console/totp")
        assert (await login(http, "nona", None, clock)).headers["location"] == "/console/"


# --- hashing off the event loop, and one hash on every path --------------------------------


async def test_hashes_run_in_threads_a_couple_at_a_time(store: Store, clock: Clock) -> None:
    console = watched_console(store, clock)
    await add_staff(console, "nona", ("counsellor",))
    forms = [{"username": f"tebak{n}", "password": "salah-sekali-ya"} for n in range(12)]
    async with client(console, ip="10.5.5.7") as http:
        await burst(http, "/console/login", "/console/login", forms)
    assert len(SEEN.stored) == 12
    assert MAIN_THREAD not in SEEN.threads, "never on the event loop's thread"
    assert 1 <= SEEN.most <= HASHING_AT_ONCE


async def test_an_account_without_a_password_costs_the_same_hash(
    store: Store, clock: Clock
) -> None:
    console = watched_console(store, clock)
    await store.staff.add("tanpa", "Tanpa", ("counsellor",), clock())
    async with client(console) as http:
        answer = await attempt(http, "tanpa", "apa-saja-boleh")
    assert answer.status_code == 401
    assert SEEN.stored == [None], "a dummy hash, as for a wrong password"
