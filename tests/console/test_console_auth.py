"""Signing in: password, second factor, throttling, sessions, CSRF and security headers."""

from __future__ import annotations

import pytest
from console_support import PASSWORD, add_staff, client, code_for, csrf_of, login, post
from support import Clock

from bot.console.core import Console


async def test_counsellor_without_totp_signs_in_with_password_alone(
    console: Console, clock: Clock
) -> None:
    await add_staff(console, "nona", ("counsellor",))
    async with client(console) as http:
        response = await login(http, "nona", None, clock)
        assert response.status_code == 303 and response.headers["location"] == "/console/"
        home = await http.get("/console/")
        assert home.status_code == 200 and "Nona" in home.text


async def test_admin_needs_the_second_factor_before_any_page(
    console: Console, clock: Clock
) -> None:
    _, secret = await add_staff(console, "ana", ("admin",))
    assert secret is not None
    async with client(console) as http:
        response = await post(
            http, "/console/login", {"username": "ana", "password": PASSWORD}, "/console/login"
        )
        assert response.headers["location"] == "/console/totp"
        assert (await http.get("/console/users")).headers["location"] == "/console/totp"
        wrong = await post(http, "/console/totp", {"code": "000000"}, "/console/totp")
        assert wrong.status_code == 401
        right = await post(
            http, "/console/totp", {"code": code_for(secret, clock)}, "/console/totp"
        )
        assert right.headers["location"] == "/console/"
        assert (await http.get("/console/users")).status_code == 200


async def test_a_totp_code_works_only_once(console: Console, clock: Clock) -> None:
    _, secret = await add_staff(console, "ana", ("admin",))
    assert secret is not None
    async with client(console) as http:
        await login(http, "ana", secret, clock)
    async with client(console) as http:
        await post(
            http, "/console/login", {"username": "ana", "password": PASSWORD}, "/console/login"
        )
        again = await post(
            http, "/console/totp", {"code": code_for(secret, clock)}, "/console/totp"
        )
        assert again.status_code == 401


async def test_supervisor_without_totp_must_enrol_and_the_qr_page_confirms_it(
    console: Console, clock: Clock
) -> None:
    await add_staff(console, "sari", ("supervisor",), totp=False)
    async with client(console) as http:
        response = await post(
            http, "/console/login", {"username": "sari", "password": PASSWORD}, "/console/login"
        )
        assert response.headers["location"] == "/console/enrol"
        assert (await http.get("/console/")).headers["location"] == "/console/enrol"
        page = await http.get("/console/enrol")
        assert "data:image/svg+xml;base64," in page.text and "otpauth://totp/" in page.text
        member = await console.store.staff.by_username("sari")
        assert member is not None
        secret = await console.store.console.totp_secret(member.id)
        assert secret is not None
        done = await http.post(
            "/console/enrol", data={"code": code_for(secret, clock), "csrf": csrf_of(page.text)}
        )
        assert done.headers["location"] == "/console/"
        assert (await http.get("/console/")).status_code == 200


@pytest.mark.sqlite_only("the test reads the SQLite file's bytes")
async def test_totp_secret_is_sealed_in_the_database(console: Console, clock: Clock) -> None:
    staff_id, secret = await add_staff(console, "ana", ("admin",))
    assert secret is not None
    files = [console.store.path, console.store.path.with_name("lk3.db-wal")]
    raw = b"".join(p.read_bytes() for p in files if p.exists())
    assert b"staff_credentials" in raw
    assert secret.encode() not in raw


@pytest.mark.parametrize(
    ("username", "password"),
    [("nona", "salah-sekali-ya"), ("nobody", PASSWORD), ("", ""), ("<script>", "x" * 5000)],
)
async def test_wrong_sign_in_gets_one_kind_answer(
    console: Console, clock: Clock, username: str, password: str
) -> None:
    await add_staff(console, "nona", ("counsellor",))
    async with client(console) as http:
        response = await post(
            http, "/console/login", {"username": username, "password": password}, "/console/login"
        )
        assert response.status_code == 401
        assert "Nama pengguna atau kata sandi salah." in response.text
        assert "<script>" not in response.text.split("<main", 1)[1]


async def test_account_locks_after_repeated_failures_and_unlocks_later(
    console: Console, clock: Clock
) -> None:
    await add_staff(console, "nona", ("counsellor",))
    async with client(console) as http:
        for _ in range(5):
            bad = await post(
                http,
                "/console/login",
                {"username": "nona", "password": "bukan-ini-ya"},
                "/console/login",
            )
            assert bad.status_code == 401
        locked = await login(http, "nona", None, clock)
        assert locked.status_code == 401 and "Terlalu banyak percobaan" in locked.text
        clock.advance(31)
        assert (await login(http, "nona", None, clock)).status_code == 303


async def test_one_address_trying_many_accounts_is_refused(console: Console, clock: Clock) -> None:
    """Past 20 failures an address is refused, but not a clean account's right password
    (tests/console/test_console_signin_limits.py): strangers cannot lock a user out."""
    await add_staff(console, "nona", ("counsellor",))
    async with client(console, ip="10.9.9.9") as http:
        for i in range(20):
            await post(
                http,
                "/console/login",
                {"username": f"guess{i}", "password": "x" * 12},
                "/console/login",
            )
        refused = await post(
            http, "/console/login", {"username": "guess20", "password": "x" * 12}, "/console/login"
        )
        assert "Terlalu banyak percobaan" in refused.text
    async with client(console, ip="10.0.0.2") as http:
        assert (await login(http, "nona", None, clock)).status_code == 303


async def test_session_ends_after_idle_timeout(console: Console, clock: Clock) -> None:
    await add_staff(console, "nona", ("counsellor",))
    async with client(console) as http:
        await login(http, "nona", None, clock)
        clock.advance(29 * 60)
        assert (await http.get("/console/")).status_code == 200
        clock.advance(29 * 60)
        assert (await http.get("/console/")).status_code == 200
        clock.advance(31 * 60)
        assert (await http.get("/console/")).headers["location"] == "/console/login"


async def test_logout_ends_the_session_on_the_server(console: Console, clock: Clock) -> None:
    await add_staff(console, "nona", ("counsellor",))
    async with client(console) as http:
        await login(http, "nona", None, clock)
        cookie = http.cookies["lk3_session"]
        assert (await post(http, "/console/logout", {})).headers["location"] == "/console/login"
    async with client(console) as other:
        other.cookies.set("lk3_session", cookie)
        assert (await other.get("/console/")).headers["location"] == "/console/login"


async def test_post_without_or_with_a_foreign_csrf_token_is_refused(
    console: Console, clock: Clock
) -> None:
    _, secret = await add_staff(console, "ana", ("admin",))
    async with client(console) as http:
        await login(http, "ana", secret, clock)
        form = {"username": "mallory", "display_name": "M", "role": "admin", "password": PASSWORD}
        assert (await http.post("/console/users", data=form)).status_code == 403
        forged = await http.post("/console/users", data={**form, "csrf": "0" * 64})
        assert forged.status_code == 403
        assert await console.store.staff.by_username("mallory") is None
        login_without = await http.post(
            "/console/login", data={"username": "ana", "password": PASSWORD}
        )
        assert login_without.status_code == 403


async def test_cookies_are_httponly_strict_and_secure_behind_https(
    store: object, clock: Clock
) -> None:
    from console_support import make_console

    from storage.store import Store

    assert isinstance(store, Store)
    console = make_console(store, clock, public_url="https://lk3.example.org")
    await add_staff(console, "nona", ("counsellor",))
    async with client(console) as http:
        response = await login(http, "nona", None, clock)
        cookie = response.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=strict" in cookie and "secure" in cookie


@pytest.mark.parametrize("path", ["/console/login", "/console/", "/console/users"])
async def test_every_response_carries_the_security_headers(
    console: Console, clock: Clock, path: str
) -> None:
    _, secret = await add_staff(console, "ana", ("admin",))
    async with client(console) as http:
        await login(http, "ana", secret, clock)
        response = await http.get(path)
        csp = response.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert "unsafe-inline" not in csp
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "no-referrer"
        assert "<script>" not in response.text and "onclick" not in response.text


async def test_language_switch_shows_english(console: Console, clock: Clock) -> None:
    async with client(console) as http:
        assert "Masuk ke konsol" in (await http.get("/console/login")).text
        await post(
            http, "/console/lang", {"lang": "en", "back": "/console/login"}, "/console/login"
        )
        assert "Sign in to the console" in (await http.get("/console/login")).text
