"""Sign-in edges: names do not leak, old password hashes upgrade, forms survive a restart,
and the client address behind a proxy is believed only from a configured proxy."""

from __future__ import annotations

import ipaddress
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from console_support import (
    FAST,
    PASSWORD,
    add_staff,
    client,
    csrf_of,
    login,
    make_console,
    post,
)
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt
from support import Clock

from bot.clientaddr import client_address, parse_networks
from bot.config import Config, load_config
from bot.configvalues import ConfigError
from bot.console.app import build_console, mount_console
from bot.console.auth.login import AuthSettings
from bot.console.auth.passwords import Hasher
from bot.console.core import Console
from bot.web import WebServer
from storage.crypto.keys import KeyRing
from storage.store import Store

VERIFIED: list[str | None] = []


@dataclass(frozen=True, slots=True)
class CountingHasher(Hasher):
    """The real hasher, noting each verification (to show every path costs one)."""

    def verify(self, stored: str | None, password: str) -> bool:
        VERIFIED.append(stored)
        return Hasher.verify(self, stored, password)


async def attempt(http: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    return await post(
        http, "/console/login", {"username": username, "password": password}, "/console/login"
    )


# --- names do not leak ------------------------------------------------------------------


async def test_known_and_unknown_names_get_the_same_answers_and_the_same_lockout(
    console: Console, clock: Clock
) -> None:
    await add_staff(console, "nona", ("counsellor",))
    answers: dict[str, list[tuple[int, str]]] = {}
    for name, ip in (("nona", "10.0.1.1"), ("hantu", "10.0.1.2")):
        async with client(console, ip=ip) as http:
            seen = []
            for _ in range(7):
                response = await attempt(http, name, "salah-sekali-ya")
                message = response.text.split('role="alert">', 1)[1].split("<", 1)[0]
                seen.append((response.status_code, message))
            answers[name] = seen
    assert answers["nona"] == answers["hantu"]
    assert answers["nona"][0] == (401, "Nama pengguna atau kata sandi salah.")
    assert answers["nona"][-1][1].startswith("Terlalu banyak percobaan")
    clock.advance(31)
    async with client(console, ip="10.0.1.3") as http:
        back = await attempt(http, "hantu", "salah-sekali-ya")
        assert "salah" in back.text, "the unknown name's lock ends like a real one's"


async def test_every_password_answer_costs_one_hash_whatever_the_name(
    store: Store, clock: Clock
) -> None:
    """Timing: an unknown name or a locked account verifies a dummy hash of the same cost."""
    settings = AuthSettings(hasher=CountingHasher(memory_kib=8, time_cost=1))
    console = build_console(store, clock=clock, settings=settings)
    await add_staff(console, "nona", ("counsellor",))
    async with client(console) as http:
        for name in ["nona"] * 7 + ["hantu"] * 7:
            VERIFIED.clear()
            await attempt(http, name, "salah-sekali-ya")
            assert len(VERIFIED) == 1, name


# --- old hashes upgrade -------------------------------------------------------------------


def old_scrypt_hash(password: str) -> str:
    """A hash as the console stored them before argon2id (scrypt; small n for speed)."""
    salt = os.urandom(16)
    key = Scrypt(salt=salt, length=32, n=2**10, r=8, p=1).derive(password.encode())
    return f"scrypt$10$8$1${salt.hex()}${key.hex()}"


async def test_an_old_scrypt_hash_verifies_and_becomes_argon2id_at_the_next_login(
    console: Console, clock: Clock
) -> None:
    member_id, _ = await add_staff(console, "nona", ("counsellor",))
    await console.store.console.set_password(member_id, old_scrypt_hash(PASSWORD))
    async with client(console) as http:
        assert (await attempt(http, "nona", "bukan-kata-sandinya")).status_code == 401
        creds = await console.store.console.credentials(member_id)
        assert creds.password_hash is not None and creds.password_hash.startswith("scrypt$")
        assert (await login(http, "nona", None, clock)).headers["location"] == "/console/"
        upgraded = (await console.store.console.credentials(member_id)).password_hash
        assert upgraded is not None and upgraded.startswith("$argon2id$v=19$m=8,t=1,p=1$")
        assert (await http.get("/console/")).status_code == 200, "the session stays"
    clock.advance(30)
    async with client(console) as http:
        assert (await login(http, "nona", None, clock)).headers["location"] == "/console/"


def test_new_hashes_are_argon2id_at_owasp_parameters() -> None:
    hasher = Hasher()
    stored = hasher.hash(PASSWORD)
    assert stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert hasher.verify(stored, PASSWORD) and not hasher.verify(stored, PASSWORD + "x")
    assert not hasher.needs_upgrade(stored)
    assert hasher.needs_upgrade(FAST.hasher.hash(PASSWORD)), "a cheaper hash is raised"
    assert not hasher.verify("scrypt$99$8$1$00$00", PASSWORD)
    assert not hasher.verify("garbage", PASSWORD)


# --- forms survive a restart ----------------------------------------------------------------


async def test_a_form_rendered_before_a_restart_posts_after_it(
    tmp_path: Path, clock: Clock
) -> None:
    keyring = KeyRing.generate()
    store = await Store.open(tmp_path / "lk3.db", keyring, clock=clock)
    try:
        console = make_console(store, clock)
        _, secret = await add_staff(console, "ana", ("admin",))
        http = client(console)
        await login(http, "ana", secret, clock)
        token = csrf_of((await http.get("/console/users")).text)
        cookies = dict(http.cookies)
        await http.aclose()
    finally:
        await store.close()
    # The process restarts: the same database and master key, a new console.
    store = await Store.open(tmp_path / "lk3.db", keyring, clock=clock)
    try:
        console = make_console(store, clock)
        async with client(console) as http:
            for name, value in cookies.items():
                http.cookies.set(name, value, path="/console")
            form = {"username": "budi", "display_name": "Budi", "role": "counsellor"}
            done = await http.post(
                "/console/users", data={**form, "password": PASSWORD, "csrf": token}
            )
            assert done.status_code == 200 and "budi" in done.text
        assert await store.staff.by_username("budi") is not None
    finally:
        await store.close()


async def test_another_database_has_another_csrf_key(tmp_path: Path, clock: Clock) -> None:
    keys = []
    for name in ("a.db", "b.db"):
        store = await Store.open(tmp_path / name, KeyRing.generate(), clock=clock)
        keys.append(store.console.csrf_key())
        await store.close()
    assert keys[0] != keys[1] and len(keys[0]) == 32


# --- client addresses behind a proxy ------------------------------------------------------


@asynccontextmanager
async def served(console: Console, trusted: tuple[str, ...]) -> AsyncIterator[str]:
    web = WebServer("127.0.0.1", 0, trusted_proxies=trusted)
    mount_console(web, console)
    await web.start()
    try:
        yield f"http://127.0.0.1:{web.port}"
    finally:
        await web.stop()


async def forwarded_attempt(http: httpx.AsyncClient, forwarded: str, username: str) -> str:
    page = await http.get("/console/login", headers={"X-Forwarded-For": forwarded})
    response = await http.post(
        "/console/login",
        data={"username": username, "password": "salah-sekali-ya", "csrf": csrf_of(page.text)},
        headers={"X-Forwarded-For": forwarded},
    )
    return response.text


async def test_forwarded_addresses_from_an_untrusted_peer_do_not_escape_the_throttle(
    console: Console, clock: Clock
) -> None:
    async with served(console, ()) as base, httpx.AsyncClient(base_url=base) as http:
        answers = [await forwarded_attempt(http, f"198.51.100.{n}", f"tebak{n}") for n in range(22)]
    assert all("Terlalu banyak percobaan" not in a for a in answers[:20])
    assert all("Terlalu banyak percobaan" in a for a in answers[20:])


async def test_from_a_trusted_proxy_the_forwarded_address_is_the_one_throttled(
    console: Console, clock: Clock
) -> None:
    await add_staff(console, "nona", ("counsellor",))
    async with served(console, ("127.0.0.1/32",)) as base, httpx.AsyncClient(base_url=base) as http:
        for n in range(20):
            await forwarded_attempt(http, "203.0.113.5", f"tebak{n}")
        blocked = await forwarded_attempt(http, "203.0.113.5", "nona")
        assert "Terlalu banyak percobaan" in blocked
        page = await http.get("/console/login", headers={"X-Forwarded-For": "203.0.113.6"})
        other = await http.post(
            "/console/login",
            data={"username": "nona", "password": PASSWORD, "csrf": csrf_of(page.text)},
            headers={"X-Forwarded-For": "203.0.113.6"},
        )
        assert other.headers["location"] == "/console/totp"


def test_the_real_client_is_the_first_untrusted_hop_from_the_right() -> None:
    trusted = tuple(ipaddress.ip_network(n) for n in parse_networks(["10.0.0.0/8", "::1"]))
    assert client_address("10.0.0.2", "203.0.113.9", trusted) == "203.0.113.9"
    # A client's own forged entry sits left of the address the proxy saw: ignored.
    assert client_address("10.0.0.2", "1.2.3.4, 203.0.113.9, 10.0.0.3", trusted) == "203.0.113.9"
    assert client_address("192.0.2.1", "203.0.113.9", trusted) == "192.0.2.1"
    assert client_address("10.0.0.2", "not-an-address", trusted) == "10.0.0.2"
    assert client_address("::1", "2001:db8::7", trusted) == "2001:db8::7"
    assert client_address("10.0.0.2", None, trusted) == "10.0.0.2"


def load_config_text(text: str, tmp_path: Path) -> Config:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return load_config(path, env={})


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ('["10.0.0.300"]', "'10.0.0.300'. Not an IP address or a CIDR network"),
        ('["10.0.0.1/8"]', "'10.0.0.1/8'. Not an IP address or a CIDR network"),
        ('"127.0.0.1"', "Not a list of addresses"),
        ("[1]", "Not a list of addresses"),
    ],
)
def test_a_bad_trusted_proxy_stops_start_up_with_a_clear_error(
    value: str, says: str, tmp_path: Path
) -> None:
    with pytest.raises(ConfigError, match="web.trusted_proxies") as caught:
        load_config_text(f"[web]\ntrusted_proxies = {value}\n", tmp_path)
    assert says in str(caught.value)


def test_good_trusted_proxies_are_read_normalised(tmp_path: Path) -> None:
    text = '[web]\ntrusted_proxies = ["127.0.0.1", "10.0.0.0/8", "::1"]\n'
    config = load_config_text(text, tmp_path)
    assert config.web.trusted_proxies == ("127.0.0.1/32", "10.0.0.0/8", "::1/128")
