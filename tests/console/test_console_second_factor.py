"""The second factor: a guesser who knows the password gets a handful of tries, never
the real user's password step; every role enrols; an admin's reset is audited."""

from __future__ import annotations

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

from bot.console.core import Console

WRONG = "000000"


async def password_step(http: httpx.AsyncClient, username: str = "ana") -> httpx.Response:
    return await post(
        http, "/console/login", {"username": username, "password": PASSWORD}, "/console/login"
    )


async def guess(http: httpx.AsyncClient, code: str = WRONG) -> httpx.Response:
    return await post(http, "/console/totp", {"code": code}, "/console/totp")


async def test_five_wrong_codes_void_the_half_signed_in_session(
    console: Console, clock: Clock
) -> None:
    await add_staff(console, "ana", ("admin",))
    async with client(console) as http:
        await password_step(http)
        for _ in range(4):
            assert (await guess(http)).status_code == 401
        fifth = await guess(http)
        assert fifth.headers["location"] == "/console/login?msg=restart"
        shown = await http.get(fifth.headers["location"])
        assert "silakan masuk lagi dengan kata sandi" in shown.text
        # The old half-session is gone: the code page sends back to the password.
        assert (await http.get("/console/totp")).headers["location"] == "/console/login"


async def test_a_guesser_with_the_password_gets_a_handful_of_codes_and_no_more(
    console: Console, clock: Clock
) -> None:
    """The attack of issue 20: 661 codes in 5 s. Now, in a burst, only the account's free
    codes are checked; every later one is refused unchecked, even the right one."""
    member_id, secret = await add_staff(console, "ana", ("admin",))
    assert secret is not None
    async with client(console, ip="10.6.6.6") as http:
        for _ in range(200):
            assert (await password_step(http)).headers["location"] == "/console/totp"
            assert (await guess(http)).status_code == 401
        right = await guess(http, code_for(secret, clock))
        assert right.status_code == 401 and "Terlalu banyak kode" in right.text
    creds = await console.store.console.credentials(member_id)
    assert creds.totp_failures == 5, "codes checked (and wrong) in the burst"
    assert creds.failed_logins == 0, "the password step's counter is untouched"


async def test_the_real_user_is_not_locked_out_at_the_password_step_and_gets_in_later(
    console: Console, clock: Clock
) -> None:
    _, secret = await add_staff(console, "ana", ("admin",))
    assert secret is not None
    async with client(console, ip="10.6.6.6") as guesser:
        for _ in range(12):
            await password_step(guesser)
            await guess(guesser)
    async with client(console, ip="10.0.0.7") as real:
        accepted = await password_step(real)
        assert accepted.headers["location"] == "/console/totp", "the password step stays open"
        locked = await guess(real, code_for(secret, clock))
        assert locked.status_code == 401 and "Terlalu banyak kode" in locked.text
        clock.advance(15 * 60 + 1)  # the longest lock is 15 minutes
    async with client(console, ip="10.0.0.7") as real:
        await password_step(real)
        done = await guess(real, code_for(secret, clock))
        assert done.headers["location"] == "/console/"
        assert (await real.get("/console/users")).status_code == 200


async def test_the_second_step_lock_is_short_and_grows(console: Console, clock: Clock) -> None:
    member_id, _ = await add_staff(console, "ana", ("admin",))
    waits = []
    for n in range(8):
        async with client(console, ip=f"10.1.0.{n}") as http:
            await password_step(http)
            await guess(http)
        creds = await console.store.console.credentials(member_id)
        waits.append(int((creds.totp_locked_until - clock()).total_seconds()))
        clock.advance(max(waits[-1], 0) + 1)
    assert waits == [0, 0, 0, 0, 30, 60, 120, 240]
    rows = [r for r in await console.store.audit.rows() if r.action == "login_second_factor_locked"]
    assert rows and all(r.subject == f"staff:{member_id}" for r in rows)


async def test_one_address_guessing_codes_for_many_accounts_is_refused(
    console: Console, clock: Clock
) -> None:
    secrets = {}
    for n in range(4):
        _, secrets[n] = await add_staff(console, f"staf{n}", ("counsellor",))
    async with client(console, ip="10.6.6.6") as http:
        for n in range(4):
            await password_step(http, f"staf{n}")
            for _ in range(3):
                await guess(http)
        _, fresh = await add_staff(console, "baru", ("counsellor",))
        await password_step(http, "baru")
        assert fresh is not None
        # Past the address's ten, a wrong code is refused, and then so is the right one
        # (a clean account's right code is still taken: test_console_signin_limits.py).
        assert "Terlalu banyak kode" in (await guess(http)).text
        refused = await guess(http, code_for(fresh, clock))
        assert "Terlalu banyak kode" in refused.text


async def test_a_used_code_cannot_be_replayed_even_by_a_new_session(
    console: Console, clock: Clock
) -> None:
    _, secret = await add_staff(console, "ana", ("admin",))
    assert secret is not None
    code = code_for(secret, clock)
    async with client(console) as http:
        await password_step(http)
        assert (await guess(http, code)).headers["location"] == "/console/"
    async with client(console, ip="10.0.0.9") as other:
        await password_step(other)
        assert (await guess(other, code)).status_code == 401
        clock.advance(30)
        assert (await guess(other, code_for(secret, clock))).headers["location"] == "/console/"


async def test_a_counsellor_enrols_at_first_login_before_any_page(
    console: Console, clock: Clock
) -> None:
    member_id, _ = await add_staff(console, "nona", ("counsellor",), totp=False)
    async with client(console) as http:
        accepted = await password_step(http, "nona")
        assert accepted.headers["location"] == "/console/enrol"
        assert (await http.get("/console/queue")).headers["location"] == "/console/enrol"
        page = await http.get("/console/enrol")
        assert "data:image/svg+xml;base64," in page.text and "otpauth://totp/" in page.text
        secret = await console.store.console.totp_secret(member_id)
        assert secret is not None
        wrong = await http.post("/console/enrol", data={"code": WRONG, "csrf": csrf_of(page.text)})
        assert wrong.headers["location"] == "/console/enrol?error=1"
        assert "Kode tidak cocok" in (await http.get("/console/enrol?error=1")).text
        done = await http.post(
            "/console/enrol", data={"code": code_for(secret, clock), "csrf": csrf_of(page.text)}
        )
        assert done.headers["location"] == "/console/"
        assert (await http.get("/console/queue")).status_code == 200
    creds = await console.store.console.credentials(member_id)
    assert creds.totp_confirmed


async def test_an_admin_resets_a_counsellors_second_factor_audited_and_they_enrol_again(
    console: Console, clock: Clock
) -> None:
    nona, _ = await add_staff(console, "nona", ("counsellor",))
    admin, secret = await add_staff(console, "ana", ("admin",))
    async with client(console, ip="10.0.0.5") as counsellor:
        await login(counsellor, "nona", None, clock)
        assert (await counsellor.get("/console/queue")).status_code == 200
        async with client(console) as http:
            await login(http, "ana", secret, clock)
            asked = await post(http, f"/console/users/{nona}/totp-reset", {}, "/console/users")
            assert "Atur ulang verifikasi dua langkah" in asked.text, "the page asks first"
            form = {"confirm": "yes"}
            done = await post(http, f"/console/users/{nona}/totp-reset", form, "/console/users")
            assert done.status_code == 200
        # The reset ends the counsellor's sessions; the next sign-in asks to enrol again.
        assert (await counsellor.get("/console/queue")).headers["location"] == "/console/login"
        clock.advance(30)
        again = await password_step(counsellor, "nona")
        assert again.headers["location"] == "/console/enrol"
    [row] = [r for r in await console.store.audit.rows() if r.action == "staff_totp_reset"]
    assert (row.actor, row.subject) == (f"staff:{admin}", f"staff:{nona}")
