"""What a web chat page reads again: after a reconnect, a reload, a restart of the bot.

The conversation a page shows is read back from the database: it survives a reload
and a restart, a page asleep gets what it missed and nothing twice, and a quick exit
or an erasure leaves nothing of before at the address. What an address can read is
its own, and bounded.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import httpx
from support import Clock
from support.rawdb import raw_query
from webchat_support import (
    NEUTRAL,
    SECRET,
    Chat,
    Screen,
    Site,
    Ticks,
    another_tab,
    consented,
    cursor,
    form,
    keep_talking,
    lines,
    open_site,
    poll,
    say,
    shown,
)

from bot.channels.webchat.channel import Tuning


async def test_a_reconnecting_page_gets_the_replies_it_missed_and_none_twice(chat: Chat) -> None:
    page = Screen()
    await chat.say(text="halo")
    await page.poll(chat.http)
    seen = page.last
    await chat.say(text="menu")  # the tab was closed while these came
    missed = await page.poll(chat.http)
    assert missed["reset"] is False and missed["lines"]
    assert all(line["seq"] > seen for line in missed["lines"])
    assert missed["lines"][0]["who"] == "you" and missed["lines"][0]["text"] == "menu"
    assert (await page.poll(chat.http))["lines"] == []
    assert page.shows == [(str(line["who"]), str(line["text"])) for line in await chat.lines()]


async def test_a_reload_shows_the_whole_conversation_with_the_pressed_buttons_labels(
    chat: Chat,
) -> None:
    await consented(chat)
    await chat.say(text=f"anak saya sakit {SECRET}")
    polled = [
        (str(line["who"]), "".join(str(piece) for piece, _ in line["parts"]))  # type: ignore[attr-defined]
        for line in await chat.lines()
    ]
    page = (await chat.http.get("/chat")).text
    assert shown(page) == polled
    mine = [text for who, text in polled if who == "you"]
    assert mine == ["Mulai", "Setuju", f"anak saya sakit {SECRET}"], "a button shows its label"
    assert 'id="waiting" class="waiting" aria-live="polite" hidden' in page, "a reply came"


async def test_until_a_reply_comes_the_page_says_it_is_waiting(
    tmp_path: Path, clock: Clock, ticks: Ticks
) -> None:
    site = await open_site(tmp_path / "data", clock, ticks, start=False)  # no sender yet
    try:
        async with site.browser() as http:
            csrf, mid = await form(http)
            await http.post("/chat/send", data={"csrf": csrf, "mid": mid, "text": "halo"})
            await site.app.pipeline.wait_idle()
            waiting = (await http.get("/chat")).text
            assert shown(waiting) == [("you", "halo")]
            assert '<p id="waiting" class="waiting" aria-live="polite">Menunggu balasan…</p>' in (
                waiting
            )
            await site.app.start()
            await site.app.wait_idle()
            answered = (await http.get("/chat")).text
            assert shown(answered)[-1][0] == "bot"
            assert 'aria-live="polite" hidden>Menunggu balasan…' in answered
    finally:
        await site.close()


async def test_every_reply_survives_a_restart_of_the_bot_on_the_same_data(
    tmp_path: Path, clock: Clock, ticks: Ticks
) -> None:
    data = tmp_path / "data"
    first = await open_site(data, clock, ticks)
    try:
        async with first.browser() as http:
            await say(first, http, start="1")
            await say(first, http, choice="agree")
            seen = await cursor(http)
            await say(first, http, text="menu")  # answered just before the restart
            before = await lines(http)
            cookies = httpx.Cookies(http.cookies)
    finally:
        await first.close()
    assert [line["who"] for line in before].count("bot") >= 3

    second = await open_site(data, clock, ticks)
    try:
        async with second.browser(cookies) as http:  # the same browser, the same cookie
            assert await lines(http) == before, "every reply, in order, after the restart"
            missed = await lines(http, after=seen)
            assert missed and missed[0]["text"] == "menu" and missed[-1]["who"] == "bot"
            page = (await http.get("/chat")).text
            assert len(shown(page)) == len(before), "a reload after the restart shows it all"
            await say(second, http, text="1")  # the conversation goes on
            assert len(await lines(http)) > len(before)
    finally:
        await second.close()


async def test_a_quick_exit_leaves_nothing_of_the_conversation_at_the_address(
    chat: Chat,
) -> None:
    await consented(chat)
    await chat.say(text=f"suami saya memantau HP saya {SECRET}")
    before = await chat.lines()
    assert any(SECRET in str(line["text"]) for line in before)
    asleep = await cursor(chat.http)
    await chat.say(text="keluar")
    body = await poll(chat.http)
    assert body["left"] is True and body["lines"] == []
    # The page that showed the conversation is told the same, at once.
    stale = await poll(chat.http, after=asleep)
    assert stale["left"] is True and stale["lines"] == []
    page = (await chat.http.get("/chat")).text
    assert shown(page) == [] and SECRET not in page and "keluar" not in page
    database = chat.app.config.database_path
    kept = raw_query(database, "SELECT count(*) FROM webchat_lines")[0][0]
    assert kept == 1, "only the neutral reply, shown once they write again"
    await chat.say(text="halo")
    shows = [(line["who"], line["text"]) for line in await chat.lines()]
    assert shows[:2] == [("bot", NEUTRAL), ("you", "halo")] and SECRET not in str(shows)


async def test_a_page_asleep_across_keluar_shows_none_of_the_old_lines_when_it_wakes(
    chat: Chat, ticks: Ticks
) -> None:
    await consented(chat)
    await chat.say(text=f"suami saya memantau HP saya {SECRET}")
    asleep = Screen()
    await asleep.poll(chat.http)
    assert SECRET in str(asleep.shows)
    async with await another_tab(chat) as other:
        ticks.now += 61
        await say(chat.site, other, text="keluar")
        # The new conversation's numbers reach the old cursor's: by number, nothing is new.
        await keep_talking(chat.site, other, ticks, until=asleep.last)
        fresh = Screen()
        await fresh.poll(other)
    woken = await asleep.poll(chat.http)
    assert woken["reset"] is True
    assert asleep.lines == fresh.lines, "what a fresh page shows: every new line, no old one"
    assert asleep.shows == shown((await chat.http.get("/chat")).text)
    assert SECRET not in str(asleep.shows)


async def test_a_page_asleep_while_another_tab_wrote_past_its_cursor_skips_nothing_new(
    chat: Chat, ticks: Ticks
) -> None:
    await consented(chat)
    await chat.say(text=f"tolong {SECRET}")
    asleep = Screen()
    await asleep.poll(chat.http)
    async with await another_tab(chat) as other:
        ticks.now += 61
        await say(chat.site, other, text="keluar")
        await keep_talking(chat.site, other, ticks, until=asleep.last + 3)
        fresh = Screen()
        await fresh.poll(other)
    woken = await asleep.poll(chat.http)
    assert woken["reset"] is True
    assert [seq for seq, _, _ in asleep.lines] == list(range(1, fresh.last + 1)), "none skipped"
    assert asleep.lines == fresh.lines and SECRET not in str(asleep.shows)
    assert (await asleep.poll(chat.http))["reset"] is False, "and from now on, only what is new"


async def test_a_page_asleep_across_keluar_and_a_restart_still_starts_over(
    tmp_path: Path, clock: Clock, ticks: Ticks
) -> None:
    data = tmp_path / "data"
    asleep, awake = Screen(), Screen()
    first = await open_site(data, clock, ticks)
    try:
        async with first.browser() as http:
            await say(first, http, text=f"halo {SECRET}")
            await asleep.poll(http)
            await say(first, http, text="keluar")
            assert (await awake.poll(http))["left"] is True  # the blank note
            await say(first, http, text="halo lagi")  # written from it: the chat comes back
            await awake.poll(http)
            cookies = httpx.Cookies(http.cookies)
    finally:
        await first.close()

    second = await open_site(data, clock, ticks)  # the epoch is read from the data, not memory
    try:
        async with second.browser(cookies) as http:
            await say(second, http, text="halo")
            resumed = await awake.poll(http)
            assert resumed["reset"] is False and resumed["lines"], "its cursor held: only new lines"
            woken = await asleep.poll(http)
            assert woken["reset"] is True
            assert asleep.lines == awake.lines and SECRET not in str(asleep.shows)
    finally:
        await second.close()


async def test_after_an_erasure_the_address_reads_nothing_of_before(
    chat: Chat, ticks: Ticks
) -> None:
    await consented(chat)
    await chat.say(text=f"tolong hapus semua {SECRET}")
    await chat.say(text="hapus")
    await chat.say(text="ya")  # the farewell is delivered, then the key destroyed
    body = await poll(chat.http)
    assert body["lines"] == [] and body["first"] is None
    page = (await chat.http.get("/chat")).text
    assert shown(page) == [] and SECRET not in page
    assert chat.app.store.erasure.is_erased(1)
    ticks.now += 61  # past the posting limit
    await chat.say(text="halo")  # writing again starts afresh, as a new person
    assert [line["who"] for line in await chat.lines()][:2] == ["you", "bot"]


async def test_no_address_or_cursor_reads_anything_of_another_person(site: Site) -> None:
    async with site.browser() as anna, site.browser() as budi:
        await say(site, anna, text=f"halo {SECRET}")
        anna_lines = await lines(anna)
        await say(site, budi, text="halo juga")
        budi_lines = await lines(budi)
        assert SECRET not in str(budi_lines)
        # Each conversation counts its own lines: nothing tells how busy the others are.
        assert [line["seq"] for line in budi_lines] == list(range(1, len(budi_lines) + 1))
        assert [line["seq"] for line in anna_lines] == list(range(1, len(anna_lines) + 1))
        anna_cursor = await cursor(anna)
        for after in ("0", "-1", "1e9", "%00", "9" * 30, str(anna_lines[0]["seq"]), anna_cursor):
            body = await poll(budi, after)  # an answer, never an error
            assert SECRET not in str(body)
            assert body["lines"] == (await poll(budi))["lines"], "only Budi's own lines"
            assert body["reset"] is (after != "0"), "a cursor not given to Budi: start over"
        assert await lines(budi, "abc") == budi_lines, "a cursor that is not one: from the start"
    forged = httpx.Cookies()
    forged.set("lk3_chat", "A" * 32, domain="bot.test", path="/chat")
    async with site.browser(forged) as stranger:
        body = await poll(stranger)
        assert body["lines"] == [] and body["first"] is None
        assert SECRET not in (await stranger.get("/chat")).text


async def test_what_an_address_can_read_again_is_bounded(
    tmp_path: Path, clock: Clock, ticks: Ticks
) -> None:
    site = await open_site(tmp_path / "data", clock, ticks, Tuning(lines=3, keep_seconds=3600))
    try:
        async with site.browser() as http:
            await say(site, http, start="1")
            await say(site, http, choice="agree")
            await say(site, http, text="menu")
            newest = await lines(http)
            assert len(newest) == 3 and newest[-1]["who"] == "bot"
            body = await poll(http)
            assert body["first"] == newest[0]["seq"]
            clock.advance(3601)
            assert await lines(http) == [], "nothing older than the limit is shown"
            await say(site, http, text="halo")
            database = site.app.config.database_path
            oldest = raw_query(database, "SELECT min(at) FROM webchat_lines")[0][0]
            assert oldest >= int((clock() - timedelta(seconds=3600)).timestamp() * 1_000_000)
    finally:
        await site.close()
