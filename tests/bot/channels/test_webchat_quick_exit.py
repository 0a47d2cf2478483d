"""After a quick exit the web chat is a blank note until the family writes again.

Whoever looks at the screen after "keluar" may be the person the family fears: the
page (a reload, a new tab of the same browser, a page polling) shows nothing of the
service, not its title, heading, intro, links or any line, only a plain note. Writing
in the note is writing to the chat again: the message is crisis-checked like any
other and the chat comes back. That the family left is read from the data (a quick
exit and no message since), so it holds across a restart; nothing new is stored.
"""

from __future__ import annotations

import asyncio
import html
import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from support import Clock
from webchat_support import (
    CSRF,
    MID,
    NEUTRAL,
    SECRET,
    Chat,
    Site,
    Ticks,
    address_of,
    another_tab,
    consented,
    open_site,
    poll,
    say,
    shown,
)

from bot.channels.webchat.page import Limits
from bot.core.texts import BotTexts
from storage.channels.webchat import START

_TITLE = re.compile(r"<title>(.*?)</title>", re.S)
_TEXTS = BotTexts.load()
NOTE_TEXTS = {
    _TEXTS.get(key, lang)
    for key in ("webchat.note_title", "webchat.note_send")
    for lang in ("id", "en")
}
CHAT_TEXTS = {
    text
    for key, table in _TEXTS.entries.items()
    if key.startswith("webchat.")
    for text in table.values()
    if text not in NOTE_TEXTS
}
"""Every word the chat page says of itself (title, intro, labels, notes): none is on the note."""


def assert_blank_note(page: str, title: str = "Catatan") -> None:
    """The page is the plain note: a neutral title and favicon, nothing of LK3 or the chat."""
    found = _TITLE.search(page)
    assert found is not None and found.group(1) == title
    assert '<link rel="icon" href="data:,">' in page, "an empty favicon, not a logo"
    text = html.unescape(page)
    assert "lk3" not in text.lower()
    assert [said for said in CHAT_TEXTS if said in text] == []
    for trace in ("<h1", "?lang=", "chat.js", "chat.css", 'class="line', "<script"):
        assert trace not in page, trace
    assert shown(page) == []
    assert NEUTRAL not in text and SECRET not in text and "keluar" not in text
    assert '<form id="note" method="post" action="/chat/send">' in page
    assert '<textarea id="text" name="text"' in page


async def left_in_a_hurry(chat: Chat) -> None:
    """A family who confided something, then typed the quick exit."""
    await consented(chat)
    await chat.say(text=f"suami saya memantau HP saya {SECRET}")
    await chat.say(text="keluar")


async def write_in_the_note(http: httpx.AsyncClient, text: str) -> httpx.Response:
    """Types in the blank note and sends it, as its own form does (no script on it)."""
    note = (await http.get("/chat")).text
    csrf, mid = CSRF.search(note), MID.search(note)
    assert csrf is not None and mid is not None
    return await http.post("/chat/send", data={"csrf": csrf[1], "mid": mid[1], "text": text})


async def test_after_keluar_a_reload_shows_a_blank_note_with_nothing_of_lk3(chat: Chat) -> None:
    before = (await chat.http.get("/chat")).text
    assert "LK3" in before and "<h1>" in before
    await left_in_a_hurry(chat)
    page = await chat.http.get("/chat")
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store", "no copy of the chat stays in a cache"
    assert_blank_note(page.text)
    english = (await chat.http.get("/chat?lang=en")).text
    assert_blank_note(english, title="Notes")
    assert '<html lang="en">' in english


async def test_every_page_polling_is_told_at_once_and_sent_no_line(chat: Chat) -> None:
    await consented(chat)
    await chat.say(text=f"tolong {SECRET}")
    showing = str((await poll(chat.http))["cursor"])
    await chat.say(text="keluar")
    for after in (showing, "0"):
        body = await poll(chat.http, after)
        assert body["left"] is True and body["lines"] == []
    # A poll waiting for a line answers at once, not after its timeout.
    waiting = chat.site.channel.wait(address_of(chat), START, timeout=30)
    assert (await asyncio.wait_for(waiting, timeout=5)).left is True


async def test_a_new_tab_and_a_restart_still_show_the_note(
    tmp_path: Path, clock: Clock, ticks: Ticks
) -> None:
    data = tmp_path / "data"
    first = await open_site(data, clock, ticks)
    try:
        async with first.browser() as http:
            chat = Chat(first, http)
            await left_in_a_hurry(chat)
            async with await another_tab(chat) as tab:
                assert_blank_note((await tab.get("/chat")).text)
            cookies = httpx.Cookies(http.cookies)
    finally:
        await first.close()
    second = await open_site(data, clock, ticks)  # read from the data, not from memory
    try:
        async with second.browser(cookies) as http:
            assert_blank_note((await http.get("/chat")).text)
        async with second.browser() as stranger:  # another browser: its own chat, as always
            assert "LK3" in (await stranger.get("/chat")).text
    finally:
        await second.close()


async def test_writing_in_the_note_brings_the_chat_back_and_is_crisis_checked(
    chat: Chat, ticks: Ticks
) -> None:
    await left_in_a_hurry(chat)
    ticks.now += 61  # past the posting limit
    sent = await write_in_the_note(chat.http, "dia bawa parang mau bunuh saya sekarang")
    assert sent.status_code == 303
    await chat.app.wait_idle()
    assert [case.urgency for case in await chat.app.store.handoff.queue()] == ["darurat"]
    page = (await chat.http.get("/chat")).text
    assert "<h1>" in page and "LK3" in page, "the chat is back"
    lines = shown(page)
    assert ("you", "dia bawa parang mau bunuh saya sekarang") in lines
    assert lines[-1][0] == "bot" and "112" in lines[-1][1]
    assert SECRET not in page, "what came before the quick exit stays gone"
    assert (await poll(chat.http))["left"] is False


async def test_a_note_sent_empty_stays_a_note_and_says_nothing(chat: Chat) -> None:
    await left_in_a_hurry(chat)
    refused = await write_in_the_note(chat.http, "   ")
    assert refused.status_code == 400
    assert_blank_note(refused.text)
    assert (await poll(chat.http))["left"] is True


@pytest.fixture
async def unhurried(tmp_path: Path, clock: Clock, ticks: Ticks) -> AsyncIterator[Site]:
    """The site with the default limits: a form waits for the bot's reply as served."""
    opened = await open_site(tmp_path / "data", clock, ticks, limits=Limits(poll_seconds=0.05))
    try:
        yield opened
    finally:
        await opened.close()


async def test_without_the_script_the_form_lands_on_the_note_at_once(unhurried: Site) -> None:
    """The page the form is sent back to is read before anyone waits for the bot."""
    async with unhurried.browser() as http:
        await say(unhurried, http, text=f"halo {SECRET}")
        note = (await http.get("/chat")).text
        csrf, mid = CSRF.search(note), MID.search(note)
        assert csrf is not None and mid is not None
        sent = await http.post(
            "/chat/send",
            data={"csrf": csrf[1], "mid": mid[1], "text": "keluar"},
            follow_redirects=True,
        )
        assert sent.status_code == 200
        assert_blank_note(sent.text)
