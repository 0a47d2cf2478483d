"""A NUL in anything a staff member sends is refused kindly, before the database sees it.

PostgreSQL's `text` cannot hold U+0000 (bot.storable): a form field, the page address,
a query or a cookie holding one is answered 400 with a page saying what to do, on both
backends, and nothing is stored.
"""

from __future__ import annotations

from console_support import PASSWORD, add_staff, client, login, post, signed_in
from support import Clock

from bot.console.core import Console

KIND = "karakter tak terlihat"


async def test_a_form_field_with_a_nul_is_refused_kindly_and_nothing_is_kept(
    console: Console, clock: Clock
) -> None:
    _, http = await signed_in(console, clock, "ana", ("admin",))
    form = {"username": "budi\x00", "display_name": "Budi", "roles": "counsellor"}
    refused = await post(http, "/console/users", form, "/console/users")
    assert refused.status_code == 400 and KIND in refused.text
    assert "budi" not in refused.text, "the refused value is not shown back"
    assert [m.username for m in await console.store.staff.list()] == ["ana"]


async def test_a_sign_in_with_a_nul_is_refused_not_a_server_error(
    console: Console, clock: Clock
) -> None:
    await add_staff(console, "ana", ("admin",))
    async with client(console) as http:
        form = {"username": "ana\x00", "password": PASSWORD}
        refused = await post(http, "/console/login", form, "/console/login")
        assert refused.status_code == 400 and KIND in refused.text
        assert (await login(http, "ana", None, clock)).status_code == 303


async def test_an_address_query_or_cookie_with_a_nul_is_refused(
    console: Console, clock: Clock
) -> None:
    _, http = await signed_in(console, clock, "ana", ("admin", "supervisor"))
    for path in ("/console/static/a%00.css", "/console/audit?before=%00", "/console/users?x%00=1"):
        answer = await http.get(path)
        assert answer.status_code == 400 and KIND in answer.text, path
    refused = await post(http, "/console/users/1%00/roles", {"role": "admin"}, "/console/users")
    assert refused.status_code == 400
    http.cookies.set("lk3_console", "abc\x00")
    assert (await http.get("/console/")).status_code == 400
