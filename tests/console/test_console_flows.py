"""Flows page (admins): every problem of an edit is shown with its line and place, only a valid
set is published, a publish or rollback is audited, and nothing typed runs as HTML."""

from __future__ import annotations

import re

import httpx
import pytest
from console_support import add_staff, client, csrf_of, login
from support import Clock

from bot.console.core import Console
from bot.console.office import Office

THANKS = "Terima kasih atas kepercayaan Anda."
BROKEN = [
    (
        lambda s: s.replace('next = "consent_ask"', 'next = "consent_aks"', 1),
        [": langkah welcome.greet, kunci next: tujuan &#39;consent_aks&#39; tidak ada"],
    ),
    (lambda s: s + "\n[[nodes\n", [" di welcome.toml: bukan TOML yang benar"]),
    (
        lambda s: s.replace('  en = "Thank you for your trust."\n', "", 1),
        [": pesan ke-1 pada langkah welcome.agree: terjemahan &#39;en&#39; belum ada"],
    ),
    (  # renaming a flow breaks every other file that leads into it: all are listed
        lambda s: s.replace('id = "welcome"\nname', 'id = "sambutan"\nname', 1),
        [
            "harus disimpan di berkas bernama sambutan.toml",
            ": langkah booking.needs_consent, kunci next: tujuan",
            " di globals.toml: perintah menu, kunci goto: tujuan &#39;welcome.menu&#39; tidak ada",
        ],
    ),
]


async def signed_in_admin(console: Console, clock: Clock, http: httpx.AsyncClient) -> int:
    admin, secret = await add_staff(console, "ana", ("admin",))
    await login(http, "ana", secret, clock)
    return admin


SEAL = re.compile(r'name="checked" value="([0-9a-f]{64})"')


async def send(
    http: httpx.AsyncClient, action: str, source: str, flow: str = "welcome"
) -> httpx.Response:
    """Posts `source` to `action`; a publish first checks it, as the page makes one do, and
    carries the seal a passing check gives (bot.console.flow_review)."""
    token = csrf_of((await http.get(f"/console/flows/{flow}")).text)
    data = {"csrf": token, "source": source}
    if action == "publish":
        found = SEAL.search((await http.post(f"/console/flows/{flow}/check", data=data)).text)
        if found is not None:
            data["checked"] = found.group(1)
    return await http.post(f"/console/flows/{flow}/{action}", data=data)


@pytest.mark.parametrize(("edit", "expected"), BROKEN)
async def test_a_broken_edit_shows_every_problem_with_its_path_and_publishes_nothing(
    console: Console, office: Office, clock: Clock, edit: object, expected: list[str]
) -> None:
    before = office.flows.library.current_version("welcome")
    draft = edit(office.flows.source("welcome"))  # type: ignore[operator]
    async with client(console) as http:
        await signed_in_admin(console, clock, http)
        for action in ("check", "publish"):
            response = await send(http, action, draft)
            assert response.status_code == 400
            for fragment in expected:
                assert fragment in response.text
    assert office.flows.library.current_version("welcome") == before
    assert await console.store.audit.rows() == []


async def test_publishing_makes_the_edit_current_and_writes_an_audit_row(
    console: Console, office: Office, clock: Clock
) -> None:
    before = office.flows.library.current_version("welcome")
    draft = office.flows.source("welcome").replace(THANKS, "Terima kasih banyak.")
    async with client(console) as http:
        admin = await signed_in_admin(console, clock, http)
        checked = await send(http, "check", draft)
        assert checked.status_code == 200 and "valid dan siap diterbitkan" in checked.text
        # the diff: the old line removed (marked in words too), the new one added
        assert (
            "dihapus: </span>  id = &#34;Terima kasih atas kepercayaan Anda.&#34;" in checked.text
        )
        assert "ditambahkan: </span>  id = &#34;Terima kasih banyak.&#34;" in checked.text
        assert office.flows.library.current_version("welcome") == before  # a check changes nothing
        published = await send(http, "publish", draft)
        assert published.status_code == 200
        after = office.flows.library.current_version("welcome")
        assert after != before and f"Versi {after} diterbitkan" in published.text
        again = await send(http, "publish", draft)
        assert f"versi {after} sudah berlaku" in again.text
        listing = await http.get("/console/flows")
        assert f"<code>{after}</code>" in listing.text
        token = csrf_of(listing.text)
        back = await http.post(
            "/console/flows/welcome/current", data={"csrf": token, "version": before}
        )
        assert back.status_code == 200
    assert office.flows.library.current_version("welcome") == before
    rows = [(r.actor, r.action, r.subject, r.reason) for r in await console.store.audit.rows()]
    assert rows == [
        (f"staff:{admin}", "flow_published", "flow:welcome", f"version {after}"),
        (f"staff:{admin}", "flow_rolled_back", "flow:welcome", f"version {after} -> {before}"),
    ]
    assert (await console.store.audit.verify()).ok


async def test_an_uploaded_file_is_checked_like_the_text_area(
    console: Console, office: Office, clock: Clock
) -> None:
    draft = office.flows.source("welcome").replace(THANKS, "Terima kasih, sungguh.")
    async with client(console) as http:
        await signed_in_admin(console, clock, http)
        token = csrf_of((await http.get("/console/flows/welcome")).text)
        checked = await http.post(
            "/console/flows/welcome/check",
            data={"csrf": token, "source": ""},
            files={"upload": ("welcome.toml", draft.encode("utf-8"), "text/plain")},
        )
        seal = SEAL.search(checked.text)
        assert checked.status_code == 200 and seal is not None
        # The checked file is now the text area's draft, which the publish button sends.
        good = await http.post(
            "/console/flows/welcome/publish",
            data={"csrf": token, "source": draft, "checked": seal.group(1)},
        )
        assert good.status_code == 200 and "diterbitkan" in good.text
        bad = await http.post(
            "/console/flows/welcome/check",
            data={"csrf": token, "source": ""},
            files={"upload": ("welcome.toml", b"\xff\xfe not utf-8", "text/plain")},
        )
        assert bad.status_code == 400 and "UTF-8" in bad.text
    assert "Terima kasih, sungguh." in office.flows.source("welcome")


async def test_family_text_typed_into_a_flow_is_shown_as_text_never_run(
    console: Console, office: Office, clock: Clock
) -> None:
    script = "<script>alert(1)</script>"
    draft = office.flows.source("welcome").replace(THANKS, script)
    async with client(console) as http:
        await signed_in_admin(console, clock, http)
        for action in ("check", "publish"):
            response = await send(http, action, draft)
            assert response.status_code == 200
            assert script not in response.text
            assert "&lt;script&gt;alert(1)&lt;/script&gt;" in response.text
        bad = await send(http, "check", draft + f"\n{script}\n")
        assert bad.status_code == 400 and script not in bad.text
        shown = await http.get("/console/flows/welcome")
        assert script not in shown.text and "#lt;script#gt;" in shown.text  # the graph


async def test_a_publish_without_the_form_token_is_refused(
    console: Console, office: Office, clock: Clock
) -> None:
    before = office.flows.library.current_version("welcome")
    draft = office.flows.source("welcome").replace(THANKS, "Terima kasih.")
    async with client(console) as http:
        await signed_in_admin(console, clock, http)
        refused = await http.post("/console/flows/welcome/publish", data={"source": draft})
        assert refused.status_code == 403
        forged = await http.post(
            "/console/flows/welcome/publish", data={"source": draft, "csrf": "0" * 64}
        )
        assert forged.status_code == 403
    assert office.flows.library.current_version("welcome") == before


@pytest.mark.parametrize(
    ("path", "status"),
    [("/console/flows/nope", 404), ("/console/flows/..%2Fwelcome", 404)],
)
async def test_an_unknown_flow_is_not_found(
    console: Console, clock: Clock, path: str, status: int
) -> None:
    async with client(console) as http:
        await signed_in_admin(console, clock, http)
        assert (await http.get(path)).status_code == status


async def test_rolling_back_to_an_unknown_version_is_answered_kindly(
    console: Console, office: Office, clock: Clock
) -> None:
    async with client(console) as http:
        await signed_in_admin(console, clock, http)
        token = csrf_of((await http.get("/console/flows/welcome")).text)
        response = await http.post(
            "/console/flows/welcome/current", data={"csrf": token, "version": "<b>x</b>"}
        )
        assert response.status_code == 400 and "Versi itu tidak ada" in response.text
