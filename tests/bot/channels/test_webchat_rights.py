"""A family's rights on the web chat, over ASGI: declining keeps nothing a reload could
bring back, and deleting shows what was deleted where the conversation was, then, once
closed, the blank note (nothing of the service) until they write again."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from support import Clock
from support.rawdb import database_bytes
from webchat_support import Site, Ticks, form, open_site, poll, say, shown

from bot.channels.webchat.page import Limits

FIRST = "halo kak, suami saya RAHASIA-WEB-7781"
LATER = "dia marah lagi RAHASIA-WEB-7782"


@pytest.fixture
async def site(tmp_path: Path) -> AsyncIterator[Site]:
    roomy = Limits(poll_seconds=0.05)  # these families never meet a limit
    opened = await open_site(tmp_path / "data", Clock(), Ticks(), limits=roomy)
    try:
        yield opened
    finally:
        await opened.close()


@pytest.fixture
async def http(site: Site) -> AsyncIterator[httpx.AsyncClient]:
    async with site.browser() as client:
        yield client


async def test_after_declining_a_reload_shows_none_of_their_words(
    site: Site, http: httpx.AsyncClient
) -> None:
    await say(site, http, text=FIRST)
    assert ("you", FIRST) in shown((await http.get("/chat")).text)
    await say(site, http, choice="decline")
    await say(site, http, text=LATER)
    page = (await http.get("/chat")).text  # a reload
    assert "RAHASIA" not in page
    assert [who for who, _ in shown(page)] == ["bot"] * len(shown(page))
    assert "RAHASIA" not in str(await poll(http))
    export = "\n".join(text for _, text in shown(await say_and_read(site, http, "dataku")))
    assert "RAHASIA" not in export and "(isi pesan tidak disimpan)" in export


async def test_words_that_worried_the_check_after_declining_go_once_the_safety_question_is_answered(
    site: Site, http: httpx.AsyncClient
) -> None:
    """Kept only while a counsellor might need them: until the person says they are safe."""
    await say(site, http, text=FIRST)
    await say(site, http, choice="decline")
    await say(site, http, text="saya takut sama suami saya RAHASIA-WEB-7790")
    asked = shown((await http.get("/chat")).text)[-1][1]
    assert asked.startswith("Kami ingin memastikan Anda baik-baik saja.")
    await say(site, http, text="tidak")
    page = (await http.get("/chat")).text
    assert "RAHASIA" not in page and "RAHASIA" not in str(await poll(http))
    assert await site.app.store.handoff.queue() == []


async def say_and_read(site: Site, http: httpx.AsyncClient, text: str) -> str:
    await say(site, http, text=text)
    return (await http.get("/chat")).text


async def test_after_deleting_the_page_shows_what_was_deleted_until_they_write_again(
    site: Site, http: httpx.AsyncClient
) -> None:
    await say(site, http, start="1")
    await say(site, http, choice="agree")
    await say(site, http, text=FIRST)
    await say(site, http, text="hapus")
    before = await poll(http)
    await say(site, http, choice="yes")
    await site.app.privacy.run_once()  # the farewell is sent: the key is destroyed
    assert site.app.store.erasure.is_erased(1)

    live = await poll(http, str(before["cursor"]))  # the page that pressed Ya
    assert live["reset"] is True and live["lines"] == [] and live["first"] is None
    statement = "".join(piece for piece, _ in live["statement"])  # type: ignore[attr-defined]
    assert statement.startswith("Data Anda sudah kami hapus.\n\nYang kami hapus:\n• ")
    assert "pesan Anda" in statement and "112" in statement
    assert "RAHASIA" not in statement

    page = (await http.get("/chat")).text  # a reload shows it too, and nothing of before
    assert 'id="statement"' in page and "Yang kami hapus:" in page
    assert shown(page) == [] and "RAHASIA" not in page

    await say(site, http, text="halo")  # writing again: a new conversation, no statement
    page = (await http.get("/chat")).text
    assert "Yang kami hapus:" not in page
    assert [who for who, _ in shown(page)][:2] == ["you", "bot"]
    assert (await poll(http))["statement"] == []


async def test_the_statement_shows_as_soon_as_the_farewell_is_delivered(tmp_path: Path) -> None:
    """The poll waiting when the farewell reaches the page answers with what was deleted
    at once, and a page that shows it waits again: found by CI, where a poll that began
    between the erasure's turn and its farewell waited its whole 20 s with the statement
    already there, because only a new line counted as news."""
    patient = Limits(poll_seconds=600.0)  # an answer before this is news, not a timeout
    site = await open_site(tmp_path / "data", Clock(), Ticks(), limits=patient)
    try:
        async with site.browser() as http:
            await say(site, http, start="1")
            await say(site, http, choice="agree")
            await say(site, http, text=FIRST)
            await say(site, http, text="hapus")
            await site.app.privacy.stop()  # the background pass comes later, as under load
            csrf, mid = await form(http)
            await http.post("/chat/send", data={"csrf": csrf, "mid": mid, "choice": "yes"})
            await site.app.pipeline.wait_idle()
            await site.app.sender.wait_idle()  # the farewell is delivered; nothing erased yet
            assert not site.app.store.erasure.is_erased(1)

            async def waiting_poll(after: str) -> dict[str, object]:
                url = f"/chat/replies?after={after}&wait=1"
                answer = await asyncio.wait_for(http.get(url), 60)
                assert answer.status_code == 200
                body: dict[str, object] = answer.json()
                return body

            live = await waiting_poll("0")  # the page cleared by the erasure's turn
            statement = "".join(piece for piece, _ in live["statement"])  # type: ignore[attr-defined]
            assert statement.startswith("Data Anda sudah kami hapus.")
            assert live["lines"] == [] and "RAHASIA" not in str(live)
            shows = str(live["cursor"])
            assert shows != "0"

            page = (await http.get("/chat")).text  # a reload shows it, with the same cursor
            assert "Yang kami hapus:" in page and shown(page) == [] and "RAHASIA" not in page
            assert f'data-cursor="{shows}"' in page

            await site.app.privacy.run_once()  # the removal changes nothing on the page
            pending = asyncio.create_task(waiting_poll(shows))
            await asyncio.sleep(0.3)
            assert not pending.done(), "a page showing the statement has nothing new"
            await say(site, http, text="halo")  # writing again ends it
            after = await pending
            assert after["statement"] == [] and after["lines"] != []
    finally:
        await site.close()


async def _delete_everything(site: Site, http: httpx.AsyncClient) -> None:
    await say(site, http, start="1")
    await say(site, http, choice="agree")
    await say(site, http, text=FIRST)
    await say(site, http, text="hapus")
    await say(site, http, choice="yes")
    await site.app.privacy.run_once()


async def test_closing_the_statement_leaves_the_blank_note_until_they_write_again(
    site: Site, http: httpx.AsyncClient
) -> None:
    await _delete_everything(site, http)
    page = (await http.get("/chat")).text
    assert "Yang kami hapus:" in page and 'action="/chat/done"' in page
    csrf, _ = await form(http)

    closed = await http.post("/chat/done", data={"csrf": csrf, "lang": "id"})
    assert closed.status_code == 303 and closed.headers["location"] == "/chat?lang=id"
    note = (await http.get("/chat")).text  # and after every reload
    assert 'id="note"' in note and "Yang kami hapus" not in note
    words = re.sub(r'value="[^"]*"', "", note)  # hidden tokens may hold "112" by chance
    for word in ("LK3", "Konseling", "hapus", "112"):
        assert word not in words
    assert (await poll(http))["left"] is True  # another tab of theirs goes blank too

    await say(site, http, text="halo")  # writing in the note is writing to the chat again
    page = (await http.get("/chat")).text
    assert 'id="note"' not in page and "Yang kami hapus" not in page
    assert [who for who, _ in shown(page)][:2] == ["you", "bot"]


async def test_closing_needs_the_page_own_form(site: Site, http: httpx.AsyncClient) -> None:
    await _delete_everything(site, http)
    forged = await http.post("/chat/done", data={"csrf": "forged", "lang": "id"})
    assert forged.status_code == 403
    assert "Yang kami hapus:" in (await http.get("/chat")).text  # still there to read
    async with site.browser() as stranger:  # a browser with no statement: nothing to close
        csrf, _ = await form(stranger)
        response = await stranger.post("/chat/done", data={"csrf": csrf, "lang": "en"})
        assert response.status_code == 303
        assert 'id="note"' not in (await stranger.get("/chat")).text


async def test_the_statement_is_for_that_browser_alone(site: Site, http: httpx.AsyncClient) -> None:
    await say(site, http, start="1")
    await say(site, http, choice="agree")
    await say(site, http, text="hapus")
    await say(site, http, choice="yes")
    async with site.browser() as other:
        assert "Yang kami hapus" not in (await other.get("/chat")).text
        assert (await poll(other))["statement"] == []
    await site.app.store.close()
    assert b"Yang kami hapus" not in database_bytes(site.app.config.database_path)
