"""Hostile form fields into every console page a role can post to: no 500, all escaped.

For each role set, every POST route of the console is sent random and hostile
values (script tags, quotes, template braces, NUL, 20 KB) in every form field the
console's templates name, with odd path parameters too. No answer is a 5xx; no
hostile string comes back unescaped, in the answer or in the page it leads to;
and a post without the page's CSRF token is still refused.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from case_support import family_case
from console_support import add_staff, client, csrf_of, login
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot.console.core import Console

TEMPLATES = Path(__file__).parents[2] / "bot" / "console" / "templates"
FIELDS = sorted(
    {m for p in TEMPLATES.glob("*.html") for m in re.findall(r'name="([a-z_0-9]+)"', p.read_text())}
    - {"csrf", "viewport"}
)
HOSTILE = st.one_of(
    st.sampled_from(
        [
            "<script>alert(1)</script>",
            '"><img src=x onerror=alert(1)>',
            "'; DROP TABLE staff; --",
            "{{ 7*7 }}{% raw %}",
            "\x00",
            "&amp;&lt;",
            "a" * 20_000,
            "<b>tebal</b>",
            "javascript:alert(1)",
        ]
    ),
    st.text(st.characters(codec="utf-8"), max_size=30),
    st.sampled_from(["", "0", "1", "-1", "99999999999999999999", "2026-03-03", "09:00", "id"]),
)
SEGMENTS = st.one_of(
    st.sampled_from(["1", "2", "0", "999999", "welcome", "2026-03-03", "K-0001", "x"]),
    HOSTILE.filter(lambda s: 0 < len(s) < 200),
)
SETTINGS = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
# Posting these would end the session under test, not test a form.
SKIP = {"/console/logout"}


def _post_paths(console: Console) -> list[str]:
    paths = sorted(r.path for r in console.routes if "POST" in r.methods)
    return [p for p in paths if p not in SKIP]


def _unescaped(value: str, page: str) -> bool:
    """Whether `value` appears raw in a page where escaping would have changed it: one that
    could open a tag or leave an attribute (`<`, a quote). A lone `>` or `&` cannot, and
    "1>" is in every page's `<h1>`."""
    dangerous = any(c in value for c in "<\"'")
    return dangerous and html.escape(value) != value and len(value) >= 2 and value in page


@dataclass
class Session:
    http: httpx.AsyncClient
    secret: str | None
    victim: int
    case_code: str


# One signed-in session per console under test, kept across hypothesis examples.
_SESSIONS: dict[int, Session] = {}


async def _session(console: Console, roles: tuple[str, ...]) -> Session:
    _, secret = await add_staff(console, "pemakai", roles)
    # Forms about another member (roles, password, deactivation) are aimed at this one.
    victim, _ = await add_staff(console, "korban", ("counsellor",))
    case = await family_case(console.store, console.clock)  # type: ignore[arg-type]
    http = client(console)
    await login(http, "pemakai", secret, console.clock)
    return Session(http, secret, victim, case.code)


@pytest.fixture(params=[("admin", "counsellor"), ("supervisor",)], ids=["admin", "supervisor"])
def roles(request: pytest.FixtureRequest) -> tuple[str, ...]:
    return tuple(request.param)


@SETTINGS
@example(data=None)
@given(data=st.data())
async def test_hostile_form_fields_never_give_a_5xx_and_come_back_escaped(
    console: Console, roles: tuple[str, ...], data: st.DataObject | None
) -> None:
    if id(console) not in _SESSIONS:
        _SESSIONS.clear()
        _SESSIONS[id(console)] = await _session(console, roles)
    session = _SESSIONS[id(console)]
    http, victim = session.http, session.victim
    if data is None:
        return
    if (await http.get("/console/")).status_code != 200:
        # A fuzzed login, TOTP or language form may have ended the session: sign in again.
        await login(http, "pemakai", session.secret, console.clock)
    path = data.draw(st.sampled_from(_post_paths(console)))

    def segment(match: re.Match[str]) -> str:
        name = match.group(1)
        if name == "staff_id":
            value = str(victim)
        elif name == "case_code":
            value = data.draw(st.one_of(st.just(session.case_code), SEGMENTS))
        else:
            value = data.draw(SEGMENTS)
        return quote(value, safe="")

    url = re.sub(r"\{([a-z_]+)\}", segment, path)
    fields = data.draw(st.dictionaries(st.sampled_from(FIELDS), HOSTILE, max_size=6))
    token = csrf_of((await http.get("/console/")).text)
    response = await http.post(url, data={**fields, "csrf": token})
    assert response.status_code < 500, (url, sorted(fields))
    pages = [response.text]
    location = response.headers.get("location", "")
    if location.startswith("/console"):
        follow = await http.get(location)
        assert follow.status_code < 500, location
        pages.append(follow.text)
    for value in fields.values():
        for page in pages:
            assert not _unescaped(value, page), (url, value[:40])


async def test_every_post_route_refuses_a_form_without_the_csrf_token(
    console: Console, roles: tuple[str, ...]
) -> None:
    session = await _session(console, roles)
    http, victim = session.http, session.victim
    for path in _post_paths(console):
        url = path.replace("{staff_id}", str(victim))
        url = re.sub(r"\{[a-z_]+\}", "1", url)
        for extra in ({}, {"csrf": ""}, {"csrf": "0" * 64}, {"csrf": "<script>"}):
            response = await http.post(url, data={"text": "<script>x</script>", **extra})
            assert response.status_code == 403, (url, extra)
            assert "<script>x</script>" not in response.text
