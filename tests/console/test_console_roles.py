"""Every console route against every role: who may see and do what.

The table is written by hand (not derived from the app), and a test checks it
names every route the console serves, so a new page cannot ship unjudged.
"""

from __future__ import annotations

import pytest
from case_support import family_case
from console_support import ROLE_SETS, add_staff, client, csrf_of, login
from media_support import family_media
from support import Clock
from support.media import ogg_opus

from bot.console.core import Console
from bot.console.office import Office

C, S, A, AC = "counsellor", "supervisor", "admin", "admin+counsellor"
ALL = frozenset(ROLE_SETS)
PUBLIC = "public"

# (method, path) -> roles that may use it ("public": anyone, signed in or not).
MATRIX: dict[tuple[str, str], frozenset[str] | str] = {
    ("GET", "/console/login"): PUBLIC,
    ("POST", "/console/login"): PUBLIC,
    ("GET", "/console/totp"): PUBLIC,
    ("POST", "/console/totp"): PUBLIC,
    ("GET", "/console/enrol"): PUBLIC,
    ("POST", "/console/enrol"): PUBLIC,
    ("POST", "/console/logout"): PUBLIC,
    ("POST", "/console/lang"): PUBLIC,
    ("GET", "/console/static/{name}"): PUBLIC,
    ("GET", "/console/"): ALL,
    ("GET", "/console/users"): frozenset({A, AC}),
    ("POST", "/console/users"): frozenset({A, AC}),
    ("POST", "/console/users/{staff_id}/roles"): frozenset({A, AC}),
    ("POST", "/console/users/{staff_id}/active"): frozenset({A, AC}),
    ("POST", "/console/users/{staff_id}/password"): frozenset({A, AC}),
    ("POST", "/console/users/{staff_id}/totp-reset"): frozenset({A, AC}),
    ("POST", "/console/users/{staff_id}/link-code"): frozenset({A, AC}),
    # Flows: admins only (what the bot says to every family).
    ("GET", "/console/flows"): frozenset({A, AC}),
    ("GET", "/console/flows/{flow_id}"): frozenset({A, AC}),
    ("POST", "/console/flows/{flow_id}/check"): frozenset({A, AC}),
    ("POST", "/console/flows/{flow_id}/validate"): frozenset({A, AC}),
    ("POST", "/console/flows/{flow_id}/chat"): frozenset({A, AC}),
    ("POST", "/console/flows/{flow_id}/publish"): frozenset({A, AC}),
    ("POST", "/console/flows/{flow_id}/current"): frozenset({A, AC}),
    # An office's globals.toml and faq.toml: admins only, like the flows.
    ("GET", "/console/library/{file_id}"): frozenset({A, AC}),
    ("POST", "/console/library/{file_id}/check"): frozenset({A, AC}),
    ("POST", "/console/library/{file_id}/publish"): frozenset({A, AC}),
    # Bookings: everyone sees a schedule (a counsellor only their own, checked per
    # request); supervisors and admins keep the hours and closures and see figures.
    ("GET", "/console/bookings"): ALL,
    ("POST", "/console/bookings/{code}/mark"): ALL,
    ("GET", "/console/availability"): frozenset({S, A, AC}),
    ("POST", "/console/availability/hours"): frozenset({S, A, AC}),
    ("POST", "/console/availability/hours/{hours_id}/remove"): frozenset({S, A, AC}),
    ("POST", "/console/availability/closures"): frozenset({S, A, AC}),
    ("POST", "/console/availability/closures/{day}/remove"): frozenset({S, A, AC}),
    ("POST", "/console/availability/roster"): frozenset({S, A, AC}),
    ("POST", "/console/availability/roster/{shift_id}/remove"): frozenset({S, A, AC}),
    ("GET", "/console/figures"): frozenset({S, A, AC}),
    ("GET", "/console/figures.csv"): frozenset({S, A, AC}),
    # Counts across offices: province supervisors only (test_console_offices.py).
    ("GET", "/console/province"): frozenset(),
    ("GET", "/console/figures/cases.csv"): frozenset({S, A, AC}),
    ("GET", "/console/referrals"): frozenset({A, AC}),
    ("POST", "/console/referrals"): frozenset({A, AC}),
    ("POST", "/console/referrals/{code}"): frozenset({A, AC}),
    # The audit log: codes only, so supervisors and admins both browse and verify it.
    ("GET", "/console/audit"): frozenset({S, A, AC}),
    ("POST", "/console/audit/verify"): frozenset({S, A, AC}),
    # Queue and cases: counsellors and supervisors (an admin reads no transcript unless
    # also a counsellor). Each role here acts on a case it holds; who may read a case
    # held by someone else is the table in test_console_case.py.
    ("GET", "/console/queue"): frozenset({C, S, AC}),
    ("GET", "/console/queue/events"): frozenset({C, S, AC}),
    # The emergency alarm on every page, and a case's live conversation.
    ("GET", "/console/alarm/events"): frozenset({C, S, AC}),
    ("GET", "/console/cases/{case_code}/events"): frozenset({C, S, AC}),
    ("POST", "/console/cases/{case_code}/take"): frozenset({C, S, AC}),
    ("GET", "/console/cases/{case_code}"): frozenset({C, S, AC}),
    ("GET", "/console/cases/{case_code}/media/{media_id:int}"): frozenset({C, S, AC}),
    ("POST", "/console/cases/{case_code}/reply"): frozenset({C, S, AC}),
    ("POST", "/console/cases/{case_code}/notes"): frozenset({C, S, AC}),
    ("POST", "/console/cases/{case_code}/refer"): frozenset({C, S, AC}),
    ("POST", "/console/cases/{case_code}/release"): frozenset({C, S, AC}),
    ("POST", "/console/cases/{case_code}/close"): frozenset({C, S, AC}),
    # Counsellors' labels for the crisis check: whoever may read the case.
    ("POST", "/console/cases/{case_code}/label"): frozenset({C, S, AC}),
}

PARAMS = {
    "{name}": "console.css",
    "{staff_id}": "1",
    "{flow_id}": "welcome",
    "{file_id}": "faq",
    "{code}": "ABC234",
    "{hours_id}": "1",
    "{day}": "2026-03-10",
    "{media_id:int}": "1",
}


def concrete(path: str, case_code: str = "ZZZ999") -> str:
    if path.startswith("/console/referrals/"):
        path = path.replace("{code}", "polisi")  # a referral destination's code
    for key, value in PARAMS.items():
        path = path.replace(key, value)
    return path.replace("{case_code}", case_code)


def test_the_matrix_names_every_route_the_console_serves(console: Console) -> None:
    assert set(console.needs) == set(MATRIX)


@pytest.mark.parametrize(("method", "path"), sorted(MATRIX))
async def test_a_stranger_is_sent_to_login_or_refused(
    console: Console, method: str, path: str
) -> None:
    async with client(console) as http:
        if method == "GET":
            response = await http.get(concrete(path))
            if MATRIX[(method, path)] == PUBLIC:
                assert response.status_code in (200, 303)
                assert response.headers.get("location", "/console/login") == "/console/login"
            else:
                assert response.status_code == 303
                assert response.headers["location"] == "/console/login"
        else:
            page = await http.get("/console/login")
            response = await http.post(concrete(path), data={"csrf": csrf_of(page.text)})
            assert response.status_code != 200 or MATRIX[(method, path)] == PUBLIC
            if MATRIX[(method, path)] != PUBLIC:
                assert response.headers["location"] == "/console/login"


@pytest.mark.parametrize("role", sorted(ROLE_SETS))
@pytest.mark.parametrize(("method", "path"), sorted(k for k, v in MATRIX.items() if v != PUBLIC))
async def test_each_role_gets_exactly_its_pages(
    console: Console, office: Office, clock: Clock, role: str, method: str, path: str
) -> None:
    await add_staff(console, "target", ("counsellor",))  # staff id 1, acted upon
    me, secret = await add_staff(console, "me", ROLE_SETS[role])
    case = await family_case(console.store, clock)  # a case "me" holds
    assert (await office.handoff.take(me, case.id)).done
    if "{media_id:int}" in path:  # its family's voice note, media id 1
        await family_media(console.store, clock, case, "voice", "audio/ogg", ogg_opus(0.1))
    async with client(console) as http:
        await login(http, "me", secret, clock)
        if method == "GET":
            response = await http.get(concrete(path, case.code))
        else:
            token = csrf_of((await http.get("/console/")).text)
            response = await http.post(concrete(path, case.code), data={"csrf": token})
        allowed = MATRIX[(method, path)]
        assert isinstance(allowed, frozenset)
        if role in allowed:
            assert response.status_code in (200, 303, 400), response.status_code
        else:
            assert response.status_code == 403
    target = await console.store.staff.by_username("target")
    assert target is not None
    if role not in allowed:
        assert target.active and target.roles == frozenset({"counsellor"})
