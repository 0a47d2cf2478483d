"""Any process serves any request: every secret a token is made with comes from the master
key or the database, so what one `lk3 run` process minted, another on the same database
and keys accepts (docs/postgresql.md, "Several processes: what they share").

Two stores on one database and one keys folder stand for two processes; each test mints
with one and checks with the other. `test_no_process_keeps_a_random_secret_of_its_own`
reads the code, so a new key made at random in one process's memory is noticed.
"""

from __future__ import annotations

import re
import secrets
from pathlib import Path

import pytest
from console_support import T0, add_staff, client, make_console
from support import Clock

from bot.console.core import SESSION_COOKIE, Console
from bot.console.draft_chat import Chat, Line
from bot.web import CsrfKey
from storage.records import NewInbound
from storage.store import Store

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def consoles(store: Store, other: Store, clock: Clock) -> tuple[Console, Console]:
    return make_console(store, clock), make_console(other, clock)


async def test_a_session_started_by_one_process_is_served_by_the_other(
    consoles: tuple[Console, Console],
) -> None:
    a, b = consoles
    staff_id, _ = await add_staff(a, "admin1", ("admin",))
    session_id = secrets.token_urlsafe(32)
    await a.store.console.start_session(session_id, staff_id, "full")
    async with client(b) as http:
        http.cookies.set(SESSION_COOKIE, session_id)
        page = await http.get("/console/users")
    assert page.status_code == 200 and "admin1" in page.text


async def test_a_form_rendered_by_one_process_posts_to_the_other(
    consoles: tuple[Console, Console],
) -> None:
    a, b = consoles
    binding = "s:" + secrets.token_urlsafe(32)
    assert b.csrf.check(binding, a.csrf.token(binding))
    assert not b.csrf.check(binding, a.csrf.token(binding + "x"))
    staff_id, _ = await add_staff(a, "admin1", ("admin",))
    session_id = secrets.token_urlsafe(32)
    await a.store.console.start_session(session_id, staff_id, "full")
    async with client(a) as on_a, client(b) as on_b:
        on_a.cookies.set(SESSION_COOKIE, session_id)
        on_b.cookies.set(SESSION_COOKIE, session_id)
        form = await on_a.get("/console/users")
        token = re.search(r'name="csrf" value="([^"]+)"', form.text)
        assert token is not None
        out = await on_b.post("/console/logout", data={"csrf": token.group(1)})
    assert out.status_code == 303
    assert await b.store.console.session(session_id) is None


def test_a_test_chat_sealed_by_one_process_opens_in_the_other(
    consoles: tuple[Console, Console],
) -> None:
    a, b = consoles
    chat = Chat("welcome", "id", None, (Line("you", "halo"),))
    assert b.seal.open(a.seal.seal(chat, "s:x|welcome"), "s:x|welcome") == chat


async def test_a_second_factor_enrolled_in_one_process_is_read_in_the_other(
    consoles: tuple[Console, Console],
) -> None:
    a, b = consoles
    staff_id, secret = await add_staff(a, "konselor", ("counsellor",))
    assert secret is not None
    assert await b.store.console.totp_secret(staff_id) == secret


async def test_the_web_chat_page_keys_are_the_same_in_every_process(
    store: Store, other: Store
) -> None:
    assert store.webchat.csrf_key() == other.webchat.csrf_key()
    one, two = CsrfKey(store.webchat.csrf_key()), CsrfKey(other.webchat.csrf_key())
    assert two.check("w:alamat", one.token("w:alamat"))
    assert store.webchat._statement_key("alamat") == other.webchat._statement_key("alamat")


async def test_a_feed_token_and_an_address_lookup_work_in_either_process(
    store: Store, other: Store, clock: Clock
) -> None:
    member = await store.staff.add("konselor", "Konselor", ("counsellor",), clock())
    token = secrets.token_urlsafe(32)
    await store.bookings.set_feed_token(member.id, token, clock())
    assert await other.bookings.staff_for_feed_token(token) == member.id
    contact, _ = await store.turns.receive(
        "telegram", "628111", NewInbound("telegram", "m1", "text", "halo", T0)
    )
    found = await other.contacts.find("telegram", "628111")
    assert found is not None and found.id == contact.id


# Where a process makes a random value, and why it is not a secret another process needs.
RANDOM_ALLOWED = {
    "bot/monitoring/doctor.py": "a probe's nonce, checked in the same run",
    "bot/booking/ical.py": "a feed token: stored in the database (as a keyed hash)",
    "bot/channels/webchat/page.py": "message ids and new chat addresses: stored as blind indexes",
    "bot/demo.py": "the demo's printed password",
    "bot/console/auth/passwords.py": "a dummy password hashed to even out timing",
    "bot/console/auth/login.py": "a new TOTP secret: stored sealed in the database",
    "bot/console/core.py": "session ids and pre-session cookies: stored (hashed) or self-bound",
    "bot/console/pages/case.py": "a reply's source id, stored with the row",
    "storage/engine/rows.py": "row keys, stored with the rows",
    "storage/crypto/aead.py": "fresh data keys and nonces, stored wrapped or with the blob",
    "storage/crypto/keys.py": "a new master key, written to the key file",
    "storage/crypto/keytree.py": "a new tree's root, written to the tree file",
    "storage/handoff/cases.py": "case codes, stored",
    "storage/privacy/erasure.py": "a random blind index replacing an erased address",
    "storage/console/staff.py": "link codes, stored",
    "storage/figures/tokens.py": "a new API token, printed once: only its SHA-256 is stored",
    "bot/figures/cli.py": "a webhook secret printed for the admin to put in the config",
    "storage/figures/hooks.py": "a webhook event's id, stored with the event",
    "storage/engine/claims.py": "this process's member lock number: an identity, not a secret",
}
# A key made in memory when none is given: every caller in the running service must pass one.
KEY_DEFAULTS = {"bot/web.py": "CsrfKey", "bot/console/draft_chat.py": "ChatSeal"}


def test_no_process_keeps_a_random_secret_of_its_own() -> None:
    random = re.compile(r"os\.urandom|secrets\.(token_\w+|choice|randbits)")
    found = set()
    for path in [*ROOT.glob("bot/**/*.py"), *ROOT.glob("storage/**/*.py")]:
        name = path.relative_to(ROOT).as_posix()
        if random.search(path.read_text(encoding="utf-8")):
            found.add(name)
    assert found - set(RANDOM_ALLOWED) - set(KEY_DEFAULTS) == set(), (
        "a random value made in one process: derive it from the master key or store it,"
        " then list it here with why"
    )
    # The service passes every key (none falls back to the in-memory one).
    for path in ROOT.glob("bot/**/*.py"):
        text = path.read_text(encoding="utf-8")
        for cls in KEY_DEFAULTS.values():
            assert f"{cls}()" not in text, f"{path}: {cls}() makes a key of its own"
