"""Checking a draft as the admin types: `POST /flows/{id}/validate`, JSON in and out.

The answer is the same check the Check button runs (every problem with its file
and path); the request is refused without the page's CSRF token, to anyone but
an admin, when it is not JSON, or when it is larger than a draft may be.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from console_support import add_staff, client, csrf_of, login
from support import Clock

from bot.console.core import Console
from bot.console.office import Office
from bot.flowhost.shelf import MAX_SOURCE_CHARS
from flows.sources import content_version

URL = "/console/flows/welcome/validate"
THANKS = "Terima kasih atas kepercayaan Anda."


async def admin_token(console: Console, clock: Clock, http: httpx.AsyncClient) -> str:
    _, secret = await add_staff(console, "ana", ("admin",))
    await login(http, "ana", secret, clock)
    return csrf_of((await http.get("/console/flows/welcome")).text)


async def validate(
    http: httpx.AsyncClient, token: str | None, body: bytes, url: str = URL
) -> httpx.Response:
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if token is not None:
        headers["X-CSRF-Token"] = token
    return await http.post(url, content=body, headers=headers)


def as_json(source: str) -> bytes:
    import json

    return json.dumps({"source": source}).encode("utf-8")


async def test_a_valid_draft_is_answered_with_its_step_count_and_version(
    console: Console, office: Office, clock: Clock
) -> None:
    draft = office.flows.source("welcome").replace(THANKS, "Terima kasih banyak.")
    before = office.flows.library.current_version("welcome")
    async with client(console) as http:
        token = await admin_token(console, clock, http)
        response = await validate(http, token, as_json(draft))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    answer = response.json()
    nodes = len(office.flows.library.flow("welcome").nodes)
    assert answer == {
        "valid": True,
        "nodes": nodes,
        "version": content_version(draft),
        "summary": f"Valid: alur welcome punya {nodes} langkah.",
        "problems": [],
    }
    # A check changes nothing: no new version, no audit row.
    assert office.flows.library.current_version("welcome") == before
    assert await console.store.audit.rows() == []


Edit = Callable[[str], str]
PROBLEMS: list[tuple[str, Edit, list[dict[str, object]]]] = [
    (
        "unknown target",
        lambda s: s.replace('next = "consent_ask"', 'next = "consent_aks"', 1),
        [
            {
                "file": "welcome.toml",
                "path": ["node 'greet'", "next"],
                "message": "unknown target 'consent_aks'",
            }
        ],
    ),
    (
        "not TOML",
        lambda s: s + "\n[[nodes\n",
        [{"file": "welcome.toml", "path": [], "message": "not valid TOML"}],
    ),
    (
        "nested too deeply for the TOML reader",
        lambda s: s + "\nx = " + "[" * 50_000 + "]" * 50_000 + "\n",
        [{"file": "welcome.toml", "path": [], "message": "not valid TOML: nested too deeply"}],
    ),
    (
        "missing translation",
        lambda s: s.replace('  en = "Thank you for your trust."\n', "", 1),
        [
            {
                "file": "welcome.toml",
                "path": ["node 'agree'", "say[0]"],
                "message": "missing translation 'en'",
            }
        ],
    ),
    (
        "renamed flow breaks the files that lead into it",
        lambda s: s.replace('id = "welcome"\nname', 'id = "sambutan"\nname', 1),
        [
            {"file": "welcome.toml", "path": ["id"], "message": "must be in a file named"},
            {"file": "booking.toml", "path": ["node 'needs_consent'", "next"], "message": ""},
            {"file": "globals.toml", "path": ["command 'menu'", "goto"], "message": ""},
        ],
    ),
]


@pytest.mark.parametrize(
    ("edit", "expected"), [p[1:] for p in PROBLEMS], ids=[p[0] for p in PROBLEMS]
)
async def test_each_kind_of_problem_is_answered_with_its_file_path_and_message(
    console: Console,
    office: Office,
    clock: Clock,
    edit: Edit,
    expected: list[dict[str, object]],
) -> None:
    draft = edit(office.flows.source("welcome"))
    async with client(console) as http:
        token = await admin_token(console, clock, http)
        response = await validate(http, token, as_json(draft))
    assert response.status_code == 200
    answer = response.json()
    assert answer["valid"] is False
    problems = answer["problems"]
    assert answer["summary"] == f"Belum valid, {len(problems)} masalah:"
    for want in expected:
        assert any(
            p["file"] == want["file"]
            and p["path"][: len(want["path"])] == want["path"]  # type: ignore[arg-type]
            and str(want["message"]) in p["message"]
            for p in problems
        ), (want, problems)


async def test_a_problem_is_worded_with_its_line_counted_from_one_in_the_admins_language(
    console: Console, office: Office, clock: Clock
) -> None:
    source = office.flows.source("welcome")
    draft = source.replace('next = "consent_ask"', 'next = "consent_aks"', 1)
    line = source.splitlines().index('next = "consent_ask"') + 1
    async with client(console) as http:
        token = await admin_token(console, clock, http)
        indonesian = (await validate(http, token, as_json(draft))).json()["problems"]
        await http.post("/console/lang", data={"csrf": token, "lang": "en", "back": "/console/"})
        english = (await validate(http, token, as_json(draft))).json()["problems"]
    assert [p["line"] for p in indonesian] == [line]
    assert indonesian[0]["text"] == (
        f"Baris {line}: langkah welcome.greet, kunci next: tujuan 'consent_aks' tidak ada"
    )
    assert english[0]["text"] == (
        f"Line {line}: step welcome.greet, key next: unknown target 'consent_aks'"
    )


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"{not json", "application/json"),
        (b"[1, 2]", "application/json"),
        (b'{"source": 3}', "application/json"),
        (b'{"text": "x"}', "application/json"),
        (b"\xff\xfe", "application/json"),
        (b"[" * 100_000 + b"]" * 100_000, "application/json"),
        (b"source=x", "application/x-www-form-urlencoded"),
    ],
    ids=["broken", "a list", "source not text", "no source", "not utf-8", "deep", "a form"],
)
async def test_a_body_that_is_not_the_expected_json_is_refused_kindly(
    console: Console, clock: Clock, body: bytes, content_type: str
) -> None:
    async with client(console) as http:
        token = await admin_token(console, clock, http)
        response = await http.post(
            URL, content=body, headers={"Content-Type": content_type, "X-CSRF-Token": token}
        )
    assert response.status_code == 400
    assert response.json() == {
        "error": 'Permintaan harus berupa JSON dengan kolom "source" berisi teks.'
    }


async def test_a_draft_larger_than_a_flow_may_be_is_refused_before_it_is_read(
    console: Console, office: Office, clock: Clock
) -> None:
    too_long = office.flows.source("welcome") + "#" * MAX_SOURCE_CHARS
    async with client(console) as http:
        token = await admin_token(console, clock, http)
        just_over = await validate(http, token, as_json(too_long))
        huge = await validate(http, token, b'{"source": "' + b"x" * (MAX_SOURCE_CHARS * 7) + b'"}')
    for response in (just_over, huge):
        assert response.status_code == 413
        assert response.json() == {"error": "Rancangan terlalu besar (paling banyak 200 KB)."}


async def test_without_the_page_token_the_check_is_refused(
    console: Console, office: Office, clock: Clock
) -> None:
    draft = as_json(office.flows.source("welcome"))
    async with client(console) as http:
        await admin_token(console, clock, http)
        missing = await validate(http, None, draft)
        forged = await validate(http, "0" * 64, draft)
    assert missing.status_code == 403 and forged.status_code == 403


async def test_a_token_from_another_session_does_not_count(
    console: Console, office: Office, clock: Clock
) -> None:
    draft = as_json(office.flows.source("welcome"))
    async with client(console) as first, client(console) as second:
        token = await admin_token(console, clock, first)
        _, secret = await add_staff(console, "budi", ("admin",))
        await login(second, "budi", secret, clock)
        response = await validate(second, token, draft)
    assert response.status_code == 403


@pytest.mark.parametrize("roles", [("counsellor",), ("supervisor",)])
async def test_only_admins_may_check_a_draft(
    console: Console, office: Office, clock: Clock, roles: tuple[str, ...]
) -> None:
    _, secret = await add_staff(console, "sari", roles)
    async with client(console) as http:
        await login(http, "sari", secret, clock)
        token = csrf_of((await http.get("/console/")).text)
        response = await validate(http, token, as_json(office.flows.source("welcome")))
    assert response.status_code == 403


async def test_a_stranger_is_sent_to_sign_in(console: Console, office: Office) -> None:
    async with client(console) as http:
        token = csrf_of((await http.get("/console/login")).text)
        response = await validate(http, token, as_json(office.flows.source("welcome")))
    assert response.status_code == 303 and response.headers["location"] == "/console/login"


async def test_an_unknown_flow_is_not_found_as_json(console: Console, clock: Clock) -> None:
    async with client(console) as http:
        token = await admin_token(console, clock, http)
        response = await validate(http, token, as_json("x"), "/console/flows/nope/validate")
    assert response.status_code == 404 and response.json() == {"error": "Tidak ditemukan."}
