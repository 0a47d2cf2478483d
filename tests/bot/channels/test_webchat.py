"""The web chat: a family in a browser talks to the real bot through the same pipeline.

What the page is (an anonymous cookie, a strict CSP, its only routes), that a message
typed or a button pressed reaches the bot and is answered, and that a post must
carry its own conversation's token. Driven over ASGI with the harness in
tests/bot/webchat_support.py.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from support import Clock
from webchat_support import BUTTON, Chat, Ticks, form, open_site

from bot.channels.webchat.channel import WebChatChannel
from bot.channels.webchat.page import CSP, WebChatPage, mount_webchat
from bot.core.texts import BotTexts
from bot.web import WebServer


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
    values = BUTTON.findall(page)
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


@pytest.mark.parametrize("token", ["", "0" * 64, "not-a-token"])
async def test_a_post_without_the_right_csrf_token_is_refused_kindly(
    chat: Chat, token: str
) -> None:
    await chat.http.get("/chat")
    response = await chat.http.post("/chat/send", data={"csrf": token, "text": "halo"})
    assert response.status_code == 403
    assert "kirim pesan Anda sekali lagi" in response.text
    assert ">halo</textarea>" in response.text  # the words stay in the box
    await chat.app.wait_idle()
    assert await chat.lines() == []


async def test_a_token_from_another_conversation_is_refused(chat: Chat) -> None:
    csrf, _ = await form(chat.http)
    chat.http.cookies.clear()
    await chat.http.get("/chat")  # a new anonymous id
    response = await chat.http.post("/chat/send", data={"csrf": csrf, "text": "halo"})
    assert response.status_code == 403


async def test_a_page_rendered_before_a_restart_still_posts_after_it(tmp_path: Path) -> None:
    """Someone typing a long message while the office restarts the bot loses nothing."""
    first = await open_site(tmp_path / "data", Clock(), Ticks())
    async with first.browser() as http:
        csrf, mid = await form(http)
        cookies = httpx.Cookies(http.cookies)
    await first.close()
    second = await open_site(tmp_path / "data", Clock(), Ticks())
    try:
        async with second.browser(cookies) as http:
            posted = await http.post("/chat/send", data={"csrf": csrf, "mid": mid, "text": "halo"})
            assert posted.status_code == 303
            await second.app.wait_idle()
            assert "halo" in (await http.get("/chat")).text
    finally:
        await second.close()


async def test_the_same_form_posted_twice_is_one_message(chat: Chat) -> None:
    csrf, mid = await form(chat.http)
    for _ in range(2):
        await chat.http.post("/chat/send", data={"csrf": csrf, "mid": mid, "text": "halo"})
    await chat.app.wait_idle()
    assert [line["who"] for line in await chat.lines()].count("you") == 1


async def test_static_files_are_served_and_nothing_else(chat: Chat) -> None:
    js = await chat.http.get("/chat/static/chat.js")
    assert js.status_code == 200 and js.headers["content-type"].startswith("text/javascript")
    assert (await chat.http.get("/chat/static/..%2Fpage.py")).status_code == 404
    assert (await chat.http.get("/chat/static/page.py")).status_code == 404


# The web chat's routes are public (no console session): this table names them all, so a
# new one cannot ship unjudged. The console's own table is tests/console/test_console_roles.py.
PUBLIC_ROUTES = {
    "/healthz",
    "/chat",
    "/chat/send",
    "/chat/done",
    "/chat/replies",
    "/chat/static/{name}",
}


def test_the_web_chat_serves_exactly_its_public_routes() -> None:
    web = WebServer("127.0.0.1", 0)
    page = WebChatPage(WebChatChannel(), _never, BotTexts.load(), secure_cookies=True)
    mount_webchat(web, page)
    assert set(web.paths) == PUBLIC_ROUTES


async def _never(_: object) -> bool:
    raise AssertionError("not called")
