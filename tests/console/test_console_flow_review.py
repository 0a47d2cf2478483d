"""Reviewing a flow draft: the diff marks each added and removed line in colour, with a sign
and in words, and only a draft that just passed its check, exactly as checked, by this
session, against the version still current, can be published."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from console_support import add_staff, client, csrf_of, login
from support import Clock
from test_console_flows import SEAL, THANKS, send

from bot.console.core import Console
from bot.console.flow_review import DiffLine, draft_diff
from bot.console.office import Office

REFUSED = "Belum diterbitkan: hanya draf yang baru lolos pemeriksaan"


@pytest.mark.parametrize(
    ("current", "draft", "expected"),
    [
        ("a\nb\nc\n", "a\nb\nc\n", []),
        (
            "a\nb\nc\n",
            "a\nB\nc\n",
            [
                DiffLine("hunk", "@@ -1,3 +1,3 @@"),
                DiffLine("same", "a", 1, 1),
                DiffLine("remove", "b", old=2),
                DiffLine("add", "B", new=2),
                DiffLine("same", "c", 3, 3),
            ],
        ),
        (
            "a\nc\n",
            "a\nb\nc\nd\n",
            [
                DiffLine("hunk", "@@ -1,2 +1,4 @@"),
                DiffLine("same", "a", 1, 1),
                DiffLine("add", "b", new=2),
                DiffLine("same", "c", 2, 3),
                DiffLine("add", "d", new=4),
            ],
        ),
    ],
)
def test_the_diff_lists_each_line_with_its_kind_and_numbers(
    current: str, draft: str, expected: list[DiffLine]
) -> None:
    assert list(draft_diff(current, draft).lines) == expected


def test_far_apart_changes_come_in_separate_hunks_with_three_lines_around() -> None:
    before = "".join(f"line {n}\n" for n in range(1, 31))
    after = before.replace("line 2\n", "line two\n").replace("line 28\n", "")
    diff = draft_diff(before, after)
    hunks = [line.text for line in diff.lines if line.kind == "hunk"]
    assert hunks == ["@@ -1,5 +1,5 @@", "@@ -25,6 +25,5 @@"]
    assert (diff.added, diff.removed) == (1, 2)


@asynccontextmanager
async def admin(
    console: Console, clock: Clock, name: str = "ana"
) -> AsyncIterator[httpx.AsyncClient]:
    _, secret = await add_staff(console, name, ("admin",))
    async with client(console) as http:
        await login(http, name, secret, clock)
        yield http


async def post(
    http: httpx.AsyncClient, action: str, draft: str, seal: str | None = None
) -> httpx.Response:
    token = csrf_of((await http.get("/console/flows/welcome")).text)
    data = {"csrf": token, "source": draft}
    if seal is not None:
        data["checked"] = seal
    return await http.post(f"/console/flows/welcome/{action}", data=data)


async def seal_for(http: httpx.AsyncClient, draft: str) -> str:
    checked = await post(http, "check", draft)
    found = SEAL.search(checked.text)
    assert checked.status_code == 200 and found is not None
    return found.group(1)


async def test_the_page_offers_publish_only_after_a_passing_check(
    console: Console, office: Office, clock: Clock
) -> None:
    source = office.flows.source("welcome")
    async with admin(console, clock) as http:
        shown = await http.get("/console/flows/welcome")
        assert 'id="flow-publish"' not in shown.text
        assert "Tombol Terbitkan muncul setelah draf lolos pemeriksaan." in shown.text
        broken = await post(http, "check", source.replace('next = "consent_ask"', 'next = "x"'))
        assert broken.status_code == 400 and 'id="flow-publish"' not in broken.text
        unchanged = await post(http, "check", source)
        assert 'id="flow-publish"' not in unchanged.text  # nothing to publish
        good = await post(http, "check", source.replace(THANKS, "Terima kasih banyak."))
        assert 'id="flow-publish"' in good.text and SEAL.search(good.text) is not None
        assert '<li class="d-add">' in good.text and '<li class="d-remove">' in good.text
        assert "1 baris ditambahkan, 1 baris dihapus." in good.text


async def test_a_draft_published_without_a_passing_check_is_refused(
    console: Console, office: Office, clock: Clock
) -> None:
    before = office.flows.library.current_version("welcome")
    draft = office.flows.source("welcome").replace(THANKS, "Terima kasih banyak.")
    async with admin(console, clock) as http:
        for seal in (None, "", "0" * 64):
            refused = await post(http, "publish", draft, seal)
            assert refused.status_code == 409 and REFUSED in refused.text
            assert 'id="flow-publish"' not in refused.text
    assert office.flows.library.current_version("welcome") == before
    assert await console.store.audit.rows() == []


async def test_a_seal_fits_only_the_exact_draft_it_was_given_for(
    console: Console, office: Office, clock: Clock
) -> None:
    before = office.flows.library.current_version("welcome")
    checked = office.flows.source("welcome").replace(THANKS, "Terima kasih banyak.")
    edited_after = checked.replace("Terima kasih banyak.", "Terima kasih banyak!")
    async with admin(console, clock) as http:
        seal = await seal_for(http, checked)
        refused = await post(http, "publish", edited_after, seal)
        assert refused.status_code == 409 and REFUSED in refused.text
        assert office.flows.library.current_version("welcome") == before
        published = await post(http, "publish", checked, seal)
        assert published.status_code == 200 and "diterbitkan" in published.text
    assert office.flows.library.current_version("welcome") != before


async def test_a_seal_is_good_for_its_own_session_only(
    console: Console, office: Office, clock: Clock
) -> None:
    before = office.flows.library.current_version("welcome")
    draft = office.flows.source("welcome").replace(THANKS, "Terima kasih banyak.")
    async with admin(console, clock, "ana") as ana:
        seal = await seal_for(ana, draft)
    async with admin(console, clock, "budi") as budi:
        refused = await post(budi, "publish", draft, seal)
        assert refused.status_code == 409 and REFUSED in refused.text
    assert office.flows.library.current_version("welcome") == before


async def test_a_seal_goes_stale_once_another_version_is_published(
    console: Console, office: Office, clock: Clock
) -> None:
    source = office.flows.source("welcome")
    mine = source.replace(THANKS, "Terima kasih banyak.")
    theirs = source.replace(THANKS, "Terima kasih, sungguh.")
    async with admin(console, clock, "ana") as ana, admin(console, clock, "budi") as budi:
        seal = await seal_for(ana, mine)
        assert (await send(budi, "publish", theirs)).status_code == 200
        stale = await post(ana, "publish", mine, seal)
        assert stale.status_code == 409 and REFUSED in stale.text
        # The page shows ana her draft against what is current now: she checks it again.
        assert "Terima kasih, sungguh." in stale.text
    assert "Terima kasih, sungguh." in office.flows.source("welcome")
