"""The web chat: a family in a browser talks to the real bot through the same pipeline.

In-process: the real app (store, flows, crisis check, outbox sender) with the web
chat channel, its page served by Starlette, driven by httpx over ASGI. The
conversation a page shows is read back from the database, so it survives a
reload and a restart of the bot, and a quick exit or an erasure leaves nothing.
A page polls with the cursor it was last given; `Screen` keeps what a page shows
the way chat.js does, so a test can say what a person would see.
"""

from __future__ import annotations

import html
import re
import sqlite3
from collections.abc import AsyncIterator
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from bot_support import make_config
from support import Clock

from bot.app import App
from bot.channels.base import Outbound, RetryLater
from bot.channels.webchat.channel import Tuning, WebChatChannel
from bot.channels.webchat.page import CSP, MAX_CHARS, Limits, WebChatPage, mount_webchat
from bot.core.texts import BotTexts
from bot.web import WebServer
from storage.records import NewOutbound

_CSRF = re.compile(r'name="csrf" value="([0-9a-f]{64})"')
_MID = re.compile(r'name="mid" value="([0-9a-f]{32})"')
_BUTTON = re.compile(r'name="choice" value="([^"]+)"')
_LINE = re.compile(
    r'<li class="line (bot|you)" data-seq="[0-9]+">.*?<span class="text">(.*?)</span>', re.S
)
SECRET = "RAHASIA-WEBCHAT-5521"
NEUTRAL = "Oke, terima kasih."


@dataclass
class Ticks:
    now: float = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Site:
    """The bot with its web chat on one data folder, as `lk3 demo` serves it."""

    app: App
    channel: WebChatChannel
    page: WebChatPage
    asgi: object

    def browser(self, cookies: httpx.Cookies | None = None) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=self.asgi, client=("10.0.0.9", 1234))  # type: ignore[arg-type]
        return httpx.AsyncClient(transport=transport, base_url="http://bot.test", cookies=cookies)

    async def close(self) -> None:
        self.channel.wake_all()
        await self.app.stop()


TIGHT = Limits(per_address=5, per_network=8, window_seconds=60, poll_seconds=0.05)
"""Small limits, so a test meets them in a few posts."""


async def open_site(
    data: Path,
    clock: Clock,
    ticks: Ticks,
    tuning: Tuning | None = None,
    *,
    start: bool = True,
    limits: Limits = TIGHT,
) -> Site:
    channel = WebChatChannel(tuning)
    app = await App.open(make_config(data), [channel], env={}, clock=clock)
    channel.bind(app.host())
    if start:
        await app.start()
    page = WebChatPage(
        channel,
        app.receive,
        BotTexts.load(),
        secure_cookies=False,
        limits=limits,
        monotonic=ticks,
        concern=app.pipeline.concern,
        read_chars=app.config.max_message_chars,
    )
    web = WebServer("127.0.0.1", 0)
    mount_webchat(web, page)
    return Site(app, channel, page, web.app())


async def form(http: httpx.AsyncClient) -> tuple[str, str]:
    html = (await http.get("/chat")).text
    csrf, mid = _CSRF.search(html), _MID.search(html)
    assert csrf is not None and mid is not None
    return csrf.group(1), mid.group(1)


async def say(site: Site, http: httpx.AsyncClient, **fields: str) -> httpx.Response:
    csrf, mid = await form(http)
    response = await http.post("/chat/send", data={"csrf": csrf, "mid": mid, **fields})
    await site.app.wait_idle()
    return response


async def poll(http: httpx.AsyncClient, after: int | str = 0) -> dict[str, object]:
    response = await http.get(f"/chat/replies?after={after}&wait=0")
    assert response.status_code == 200
    body: dict[str, object] = response.json()
    return body


async def lines(http: httpx.AsyncClient, after: int | str = 0) -> list[dict[str, object]]:
    found: list[dict[str, object]] = (await poll(http, after))["lines"]  # type: ignore[assignment]
    return found


async def cursor(http: httpx.AsyncClient) -> str:
    """The cursor a page that has every line kept now would poll with."""
    return str((await poll(http))["cursor"])


@dataclass
class Screen:
    """The lines a page shows, kept from its polls' answers as chat.js keeps them."""

    lines: list[tuple[int, str, str]] = field(default_factory=list)  # (seq, who, text)
    cursor: str = "0"
    last: int = 0

    async def poll(self, http: httpx.AsyncClient) -> dict[str, Any]:
        body: dict[str, Any] = await poll(http, self.cursor)
        if body["reset"]:
            self.lines, self.last = [], 0
        first = body["first"]
        self.lines = [line for line in self.lines if first is not None and line[0] >= first]
        for line in body["lines"]:
            if line["seq"] > self.last:
                self.lines.append((line["seq"], line["who"], line["text"]))
                self.last = line["seq"]
        self.last = max(self.last, body["last"])
        self.cursor = body["cursor"]
        return body

    @property
    def shows(self) -> list[tuple[str, str]]:
        return [(who, text) for _, who, text in self.lines]


def shown(page: str) -> list[tuple[str, str]]:
    """(who, text) of every line the page prints (bold marks dropped)."""
    return [
        (who, html.unescape(re.sub(r"</?strong>", "", text))) for who, text in _LINE.findall(page)
    ]


@pytest.fixture
def ticks() -> Ticks:
    return Ticks()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def site(tmp_path: Path, clock: Clock, ticks: Ticks) -> AsyncIterator[Site]:
    opened = await open_site(tmp_path / "data", clock, ticks)
    try:
        yield opened
    finally:
        await opened.close()


@dataclass
class Chat:
    site: Site
    http: httpx.AsyncClient

    @property
    def app(self) -> App:
        return self.site.app

    async def say(self, **fields: str) -> httpx.Response:
        return await say(self.site, self.http, **fields)

    async def lines(self, after: int | str = 0) -> list[dict[str, object]]:
        return await lines(self.http, after)


@pytest.fixture
async def chat(site: Site) -> AsyncIterator[Chat]:
    async with site.browser() as http:
        yield Chat(site, http)


async def consented(chat: Chat) -> None:
    """A family who started the chat and agreed to the consent question."""
    await chat.say(start="1")
    await chat.say(choice="agree")


# --- the page --------------------------------------------------------------------


async def test_first_visit_gives_an_anonymous_strict_cookie_and_a_strict_csp(chat: Chat) -> None:
    response = await chat.http.get("/chat")
    assert response.status_code == 200
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("lk3_chat=")
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/chat" in cookie
    assert "Max-Age" not in cookie  # a session cookie: closing the browser forgets it
    assert response.headers["content-security-policy"] == CSP
    assert "'unsafe-inline'" not in CSP and "frame-ancestors 'none'" in CSP
    assert "<script>" not in response.text  # only the external file
    again = await chat.http.get("/chat")
    assert "set-cookie" not in again.headers


async def test_start_is_answered_through_the_pipeline_with_buttons_that_post_a_choice(
    chat: Chat,
) -> None:
    assert (await chat.say(start="1")).status_code == 303
    lines = await chat.lines()
    assert [line["who"] for line in lines][:2] == ["you", "bot"]
    assert lines[0]["text"] == "Mulai"
    page = (await chat.http.get("/chat")).text
    values = _BUTTON.findall(page)
    assert values, "the welcome offers its choices as buttons"
    before = len(lines)
    assert (await chat.say(choice=values[0])).status_code == 303
    after = await chat.lines()
    assert len(after) > before + 1
    mine = after[before]
    assert mine["who"] == "you" and mine["text"] != values[0]  # the label, not the raw value


async def test_the_bots_emphasis_is_bold_and_a_persons_own_words_stay_as_typed(
    chat: Chat,
) -> None:
    await chat.say(start="1")
    await chat.say(text="*halo* <b>tolong</b>")
    page = (await chat.http.get("/chat")).text
    assert "<strong>language</strong>" in page, "the welcome's *language* is shown bold"
    assert "*language*" not in page
    assert "*halo* &lt;b&gt;tolong&lt;/b&gt;" in page, "a person's words are never formatted"
    bot_parts = [line["parts"] for line in await chat.lines() if line["who"] == "bot"]
    assert ["language", True] in [part for parts in bot_parts for part in parts]  # type: ignore[attr-defined]
    mine = [line for line in await chat.lines() if line["who"] == "you"][-1]
    assert mine["parts"] == [["*halo* <b>tolong</b>", False]]


async def test_a_crisis_typed_in_the_web_chat_opens_an_urgent_case(chat: Chat) -> None:
    await chat.say(text="halo")
    await chat.say(text="suami saya memukuli saya sekarang, saya takut dibunuh")
    queue = await chat.app.store.handoff.queue()
    assert [(case.urgency) for case in queue] == ["darurat"]
    replies = [line["text"] for line in await chat.lines() if line["who"] == "bot"]
    assert any("112" in str(text) for text in replies)


@pytest.mark.parametrize(
    ("fields", "status", "note"),
    [
        ({"text": "x" * (MAX_CHARS + 1)}, 400, "terlalu panjang"),
        ({"text": "x" * 3 + "\u200b" * MAX_CHARS}, 400, "terlalu panjang"),
        ({"text": "   "}, 400, "masih kosong"),
        ({}, 400, "masih kosong"),
    ],
)
async def test_bad_input_gets_a_kind_note_and_reaches_no_one(
    chat: Chat, fields: dict[str, str], status: int, note: str
) -> None:
    response = await chat.say(**fields)
    assert response.status_code == status
    assert note in response.text
    assert await chat.lines() == []
    assert await chat.app.store.handoff.queue() == []


async def test_a_long_message_note_comes_back_as_json_for_the_script(chat: Chat) -> None:
    csrf, mid = await form(chat.http)
    response = await chat.http.post(
        "/chat/send",
        data={"csrf": csrf, "mid": mid, "text": "y" * (MAX_CHARS + 5), "lang": "en"},
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 400
    assert "too long" in response.json()["notice"] and str(MAX_CHARS) in response.json()["notice"]


@pytest.mark.parametrize("token", ["", "0" * 64, "not-a-token"])
async def test_a_post_without_the_right_csrf_token_is_refused_kindly(
    chat: Chat, token: str
) -> None:
    await chat.http.get("/chat")
    response = await chat.http.post("/chat/send", data={"csrf": token, "text": "halo"})
    assert response.status_code == 403
    assert "kirim pesan Anda sekali lagi" in response.text
    await chat.app.wait_idle()
    assert await chat.lines() == []


async def test_a_token_from_another_conversation_is_refused(chat: Chat) -> None:
    csrf, _ = await form(chat.http)
    chat.http.cookies.clear()
    await chat.http.get("/chat")  # a new anonymous id
    response = await chat.http.post("/chat/send", data={"csrf": csrf, "text": "halo"})
    assert response.status_code == 403


async def test_the_same_form_posted_twice_is_one_message(chat: Chat) -> None:
    csrf, mid = await form(chat.http)
    for _ in range(2):
        await chat.http.post("/chat/send", data={"csrf": csrf, "mid": mid, "text": "halo"})
    await chat.app.wait_idle()
    assert [line["who"] for line in await chat.lines()].count("you") == 1


async def test_posts_over_the_limit_are_held_back_with_the_words_kept_then_taken(
    chat: Chat, ticks: Ticks
) -> None:
    statuses = [(await chat.say(text=f"halo {n}")).status_code for n in range(6)]
    assert statuses == [303] * 5 + [429]
    refused = await chat.say(text="aku mau tanya jam buka")
    assert "tunggu sebentar" in refused.text and "112" in refused.text
    assert ">aku mau tanya jam buka</textarea>" in refused.text  # the words are still there
    ticks.now += 61
    assert (await chat.say(text="sekarang boleh")).status_code == 303


async def test_the_script_is_told_how_long_to_wait_before_it_sends_again(
    chat: Chat, ticks: Ticks
) -> None:
    for n in range(5):
        await chat.say(text=f"halo {n}")
        ticks.now += 2
    csrf, mid = await form(chat.http)
    held = await chat.http.post(
        "/chat/send",
        data={"csrf": csrf, "mid": mid, "text": "oke", "lang": "id"},
        headers={"Accept": "application/json"},
    )
    assert held.status_code == 429
    assert held.json()["retry"] == 50.0 and held.headers["Retry-After"] == "50"
    assert "mengirimnya sendiri" in held.json()["notice"]


async def test_a_crisis_after_many_quick_lines_is_never_held_back_by_the_limit(
    chat: Chat,
) -> None:
    """The report: after eleven quick short lines the twelfth, a threat with a machete,
    got only a notice, with nothing stored, no case and no alert."""
    for line in ["kak", "tolong", "aku takut", "kak", "halo"]:
        await chat.say(text=line)
    crisis = await chat.say(text="dia bawa parang mau bunuh mama sekarang")
    assert crisis.status_code == 303
    queue = await chat.app.store.handoff.queue()
    assert [case.urgency for case in queue] == ["darurat"]
    mine = [line["text"] for line in await chat.lines() if line["who"] == "you"]
    assert mine[-1] == "dia bawa parang mau bunuh mama sekarang"


async def test_a_questionnaire_answered_every_second_never_meets_the_default_limit(
    tmp_path: Path, clock: Clock, ticks: Ticks
) -> None:
    site = await open_site(tmp_path / "data", clock, ticks, limits=Limits(poll_seconds=0.05))
    try:
        async with site.browser() as http:
            statuses = []
            for n in range(40):
                statuses.append((await say(site, http, text=f"{n % 2 + 1}")).status_code)
                ticks.now += 1
        assert set(statuses) == {303}
    finally:
        await site.close()


async def test_families_talking_behind_one_network_address_do_not_share_a_limit(
    site: Site, ticks: Ticks
) -> None:
    """Mobile operators put many phones behind one address: the network's limit counts
    conversations starting, not the messages of conversations under way."""
    families = [site.browser() for _ in range(4)]
    try:
        statuses = []
        for round_ in range(4):
            for http in families:
                statuses.append((await say(site, http, text=f"pesan {round_}")).status_code)
            ticks.now += 5
        assert set(statuses) == {303}
    finally:
        for http in families:
            await http.aclose()


async def test_a_long_message_is_taken_whole_checked_whole_and_read_in_part(chat: Chat) -> None:
    """5,000 characters: stored, the crisis check reads the end too, the bot says it read
    the first part, and nothing is refused."""
    story = ("Saya mau cerita panjang tentang keluarga kami. " * 100)[:4900]
    text = story + " Malam ini suami saya bilang mau bunuh saya pakai parang."
    response = await chat.say(text=text)
    assert response.status_code == 303
    mine = [line["text"] for line in await chat.lines() if line["who"] == "you"]
    assert mine == [text]
    assert [case.urgency for case in await chat.app.store.handoff.queue()] == ["darurat"]
    replies = " ".join(str(line["text"]) for line in await chat.lines() if line["who"] == "bot")
    assert "2000 karakter pertama" in replies


async def test_the_page_counts_down_to_what_the_bot_reads_at_once(chat: Chat) -> None:
    page = (await chat.http.get("/chat")).text
    assert f'maxlength="{MAX_CHARS}"' in page
    assert 'data-read="2000"' in page and "Sisa {left} karakter" in page


async def test_polls_are_limited_per_address_then_allowed_again(chat: Chat, ticks: Ticks) -> None:
    await chat.http.get("/chat")  # the page gives the conversation its cookie
    limit = Limits().polls_per_address
    statuses = [
        (await chat.http.get("/chat/replies?after=0&wait=0")).status_code for _ in range(limit)
    ]
    assert statuses == [200] * limit
    refused = await chat.http.get("/chat/replies?after=0&wait=0")
    assert refused.status_code == 429 and refused.json()["lines"] == []
    ticks.now += 61
    assert (await chat.http.get("/chat/replies?after=0&wait=0")).status_code == 200


async def test_new_cookies_do_not_escape_the_per_network_limit(chat: Chat) -> None:
    statuses = []
    for n in range(9):
        chat.http.cookies.clear()
        statuses.append((await chat.say(text=f"halo {n}")).status_code)
    assert statuses == [303] * 8 + [429]


async def test_a_poll_without_the_cookie_is_refused(chat: Chat) -> None:
    response = await chat.http.get("/chat/replies?after=0&wait=0")
    assert response.status_code == 403


async def test_static_files_are_served_and_nothing_else(chat: Chat) -> None:
    js = await chat.http.get("/chat/static/chat.js")
    assert js.status_code == 200 and js.headers["content-type"].startswith("text/javascript")
    assert (await chat.http.get("/chat/static/..%2Fpage.py")).status_code == 404
    assert (await chat.http.get("/chat/static/page.py")).status_code == 404


# --- what a page can read again ----------------------------------------------------------


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
    assert [(line["who"], line["text"]) for line in body["lines"]] == [("bot", NEUTRAL)]  # type: ignore[union-attr]
    assert body["first"] == body["last"] and body["reset"] is False
    # The page that showed the conversation is told to start over, with only the reply.
    stale = await poll(chat.http, after=asleep)
    assert stale["reset"] is True and stale["lines"] == body["lines"]
    page = (await chat.http.get("/chat")).text
    assert shown(page) == [("bot", NEUTRAL)]
    assert SECRET not in page and "keluar" not in page
    database = chat.app.config.database_path
    with closing(sqlite3.connect(database)) as db:
        kept = db.execute("SELECT count(*) FROM webchat_lines").fetchone()[0]
    assert kept == 1


async def another_tab(chat: Chat) -> httpx.AsyncClient:
    """A second tab of the same browser: the same cookie, so the same conversation."""
    return chat.site.browser(httpx.Cookies(chat.http.cookies))


async def keep_talking(site: Site, http: httpx.AsyncClient, ticks: Ticks, until: int) -> None:
    """Messages a minute apart (past the posting limit) until the conversation has `until` lines."""
    for n in range(20):
        if (await poll(http))["last"] >= until:  # type: ignore[operator]
            return
        ticks.now += 61
        await say(site, http, text=f"pesan {n}")
    raise AssertionError(f"the conversation did not reach {until} lines")


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
            with closing(sqlite3.connect(site.app.config.database_path)) as db:
                oldest = db.execute("SELECT min(at) FROM webchat_lines").fetchone()[0]
            assert oldest >= int((clock() - timedelta(seconds=3600)).timestamp() * 1_000_000)
    finally:
        await site.close()


# --- the channel ---------------------------------------------------------------------


async def test_a_waiting_poll_wakes_when_a_reply_is_sent(chat: Chat) -> None:
    import asyncio

    await chat.say(text="halo")
    address = _address(chat)
    channel = chat.site.channel
    seen = (await channel.view(address)).cursor
    contact = await chat.app.store.contacts.find("webchat", address)
    assert contact is not None
    waiting = asyncio.create_task(channel.wait(address, seen, timeout=30))
    await asyncio.sleep(0)
    assert not waiting.done()
    [row_id] = await chat.app.store.outbox.enqueue([_reply(contact.id, "balasan konselor")])
    await channel.send(Outbound(row_id, address, "balasan konselor"))
    view = await waiting
    assert [(line.who, line.text) for line in view.lines] == [("bot", "balasan konselor")]
    assert (await channel.wait(address, view.cursor, timeout=0.01)).lines == ()


async def test_a_reply_handed_over_twice_is_one_line_and_a_cancelled_one_none(
    chat: Chat,
) -> None:
    await chat.say(text="halo")
    address = _address(chat)
    store = chat.app.store
    contact = await store.contacts.find("webchat", address)
    assert contact is not None
    [row_id] = await store.outbox.enqueue([_reply(contact.id, "balasan")])
    channel = chat.site.channel
    first = await channel.send(Outbound(row_id, address, "balasan"))
    again = await channel.send(Outbound(row_id, address, "balasan"))  # a crash before "sent"
    assert first is not None and first == again
    assert [line["text"] for line in await chat.lines()].count("balasan") == 1
    [other] = await store.outbox.enqueue([_reply(contact.id, "dibatalkan")])
    await store.outbox.mark_failed(other, "cancelled_quick_exit", datetime.now(UTC))
    assert await channel.send(Outbound(other, address, "dibatalkan")) is None


async def test_an_unbound_channel_asks_the_sender_to_retry() -> None:
    with pytest.raises(RetryLater):
        await WebChatChannel().send(Outbound(1, "a" * 32, "halo"))


# The web chat's routes are public (no console session): this table names them all, so a
# new one cannot ship unjudged. The console's own table is tests/console/test_console_roles.py.
PUBLIC_ROUTES = {"/healthz", "/chat", "/chat/send", "/chat/replies", "/chat/static/{name}"}


def test_the_web_chat_serves_exactly_its_public_routes() -> None:
    web = WebServer("127.0.0.1", 0)
    page = WebChatPage(WebChatChannel(), _never, BotTexts.load(), secure_cookies=True)
    mount_webchat(web, page)
    assert set(web.paths) == PUBLIC_ROUTES


async def _never(_: object) -> bool:
    raise AssertionError("not called")


def _address(chat: Chat) -> str:
    """The anonymous id in the browser's cookie: the conversation's address."""
    return str(chat.http.cookies["lk3_chat"])


def _reply(contact_id: int, text: str) -> NewOutbound:
    return NewOutbound(contact_id, "webchat", text, (), 5, datetime.now(UTC))
