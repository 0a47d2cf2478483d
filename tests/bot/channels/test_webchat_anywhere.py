"""Questions answered anywhere and the conversation's language, through the real web chat.

The whole bot in-process (store, crisis check, flows, outbox) behind the web chat
page, driven over ASGI as a browser would (tests/bot/webchat_support.py): the English
page starts in English, a question typed at a menu is answered and the menu asked
again, "english please" switches everything after, and a crisis phrased as a
question is a crisis first, never an FAQ answer.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from support import Clock
from webchat_support import Site, Ticks, open_site, say


@pytest.fixture
async def site(tmp_path: Path) -> AsyncIterator[Site]:
    opened = await open_site(tmp_path / "data", Clock(), Ticks())
    try:
        yield opened
    finally:
        await opened.close()


@pytest.fixture
async def http(site: Site) -> AsyncIterator[httpx.AsyncClient]:
    async with site.browser() as client:
        yield client


async def bot_lines(http: httpx.AsyncClient) -> list[str]:
    """What the bot said, one message a line (a turn's replies arrive joined)."""
    body = (await http.get("/chat/replies?after=0&wait=0")).json()
    said = [str(line["text"]) for line in body["lines"] if line["who"] == "bot"]
    return [part for text in said for part in text.split("\n\n")]


async def test_the_english_page_starts_the_conversation_in_english(
    site: Site, http: httpx.AsyncClient
) -> None:
    await say(site, http, start="1", lang="en")
    replies = await bot_lines(http)
    assert replies[0].startswith("Hello, welcome to the chat service")
    assert replies[-1].startswith("Do you agree that we keep and use your data")


async def test_words_typed_first_on_the_english_page_are_answered_in_english(
    site: Site, http: httpx.AsyncClient
) -> None:
    await say(site, http, text="halo", lang="en")
    replies = await bot_lines(http)
    assert replies[0].startswith("Hello, welcome to the chat service")
    assert "Hello, thank you for getting in touch." in replies
    bad = [r for r in replies if "saya belum mengerti" in r or "I did not understand" in r]
    assert not bad, bad


async def test_a_question_at_a_menu_is_answered_and_the_menu_asked_again(
    site: Site, http: httpx.AsyncClient
) -> None:
    await say(site, http, start="1")
    await say(site, http, choice="agree")
    await say(site, http, choice="talk")
    before = await bot_lines(http)
    await say(site, http, text="bayar tidak?")
    after = (await bot_lines(http))[len(before) :]
    assert after[0].startswith("Layanan LK3 gratis")
    assert after[-1] == before[-1]  # the triage question, again
    assert len(after) == 2
    assert not any("belum mengerti" in r for r in after)


async def test_english_please_switches_the_rest_of_the_conversation(
    site: Site, http: httpx.AsyncClient
) -> None:
    await say(site, http, start="1")
    await say(site, http, choice="agree")
    before = await bot_lines(http)
    await say(site, http, text="english please")
    after = (await bot_lines(http))[len(before) :]
    assert after == ["Of course, we will continue in English.", "How can we help? Please choose:"]
    await say(site, http, text="my husband says he will kill me tonight")
    crisis = (await bot_lines(http))[len(before) + len(after) :]
    assert crisis[0].startswith("Thank you for telling us. We want you to be safe.")
    queue = await site.app.store.handoff.queue()
    assert [case.urgency for case in queue] == ["darurat"]


async def test_a_crisis_phrased_as_a_question_is_a_crisis_not_an_faq_answer(
    site: Site, http: httpx.AsyncClient
) -> None:
    await say(site, http, start="1")
    await say(site, http, choice="agree")
    before = await bot_lines(http)
    await say(site, http, text="nomor kantor berapa? suami saya mau bunuh saya sekarang")
    after = (await bot_lines(http))[len(before) :]
    assert after[0].startswith("Terima kasih sudah memberi tahu kami. Kami ingin Anda selamat.")
    assert not any(r.startswith("Telepon kantor kami") for r in after)
    queue = await site.app.store.handoff.queue()
    assert [case.urgency for case in queue] == ["darurat"]
