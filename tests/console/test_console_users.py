"""Users page: admins add staff and change roles; every change is in the audit chain."""

from __future__ import annotations

from console_support import PASSWORD, add_staff, client, login, post
from support import Clock

from bot.console.core import Console


async def test_role_change_is_saved_and_audited(console: Console, clock: Clock) -> None:
    target, _ = await add_staff(console, "budi", ("counsellor",))
    admin, secret = await add_staff(console, "ana", ("admin",))
    async with client(console) as http:
        await login(http, "ana", secret, clock)
        done = await post(
            http, f"/console/users/{target}/roles", {"role": "supervisor"}, "/console/users"
        )
        assert done.status_code == 200
    member = await console.store.staff.get(target)
    assert member is not None and member.roles == frozenset({"supervisor"})
    rows = await console.store.audit.rows()
    assert [(r.actor, r.action, r.subject) for r in rows] == [
        (f"staff:{admin}", "staff_roles_changed", f"staff:{target}")
    ]
    assert rows[0].reason == "roles counsellor -> supervisor"
    assert (await console.store.audit.verify()).ok


async def test_admin_cannot_lock_themself_out(console: Console, clock: Clock) -> None:
    admin, secret = await add_staff(console, "ana", ("admin",))
    async with client(console) as http:
        await login(http, "ana", secret, clock)
        refused = await post(
            http, f"/console/users/{admin}/roles", {"role": "counsellor"}, "/console/users"
        )
        assert refused.status_code == 400
        gone = await post(http, f"/console/users/{admin}/active", {"active": "0"}, "/console/users")
        assert gone.status_code == 400
    member = await console.store.staff.get(admin)
    assert member is not None and member.active and "admin" in member.roles


async def test_deactivating_a_user_ends_their_sessions(console: Console, clock: Clock) -> None:
    target, _ = await add_staff(console, "budi", ("counsellor",))
    _, secret = await add_staff(console, "ana", ("admin",))
    async with client(console) as budi:
        await login(budi, "budi", None, clock)
        async with client(console) as http:
            await login(http, "ana", secret, clock)
            form = {"active": "0", "confirm": "yes"}
            await post(http, f"/console/users/{target}/active", form, "/console/users")
        assert (await budi.get("/console/")).headers["location"] == "/console/login"
        assert (await login(budi, "budi", None, clock)).status_code == 401


async def test_bad_input_when_adding_a_user_gets_a_kind_answer_and_is_shown_as_text(
    console: Console, clock: Clock
) -> None:
    _, secret = await add_staff(console, "ana", ("admin",))
    async with client(console) as http:
        await login(http, "ana", secret, clock)
        bad = await post(
            http,
            "/console/users",
            {
                "username": "<b>x</b>",
                "display_name": "X",
                "role": "counsellor",
                "password": PASSWORD,
            },
            "/console/users",
        )
        assert bad.status_code == 400 and "Tidak bisa disimpan" in bad.text
        assert "nama pengguna 2 sampai 32 karakter" in bad.text
        short = await post(
            http,
            "/console/users",
            {"username": "budi", "display_name": "B", "role": "counsellor", "password": "pendek"},
            "/console/users",
        )
        assert short.status_code == 400 and "paling sedikit 10 karakter" in short.text
        assert "at least" not in short.text
        assert "<b>x</b>" not in bad.text
    assert await console.store.staff.by_username("budi") is None
