"""The web chat's buttons show their numbers, and typing a number picks that button.

The bot's re-ask says "ketik nomornya" (type its number): the page numbers the
buttons as the bot counts the choices, the number is part of each button's name
for a screen reader, and the buttons stay buttons.
"""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from support import Clock
from webchat_support import Chat, Ticks, consented, open_site, shown

_NUMBERED = re.compile(
    r'<button type="submit" name="choice" value="([^"]+)"><span class="num">([0-9]+)\.</span> '
    r"([^<]+)</button>"
)
_CHOICES = re.compile(r'<form id="choices"[^>]*>')
MENU = "Apa yang bisa kami bantu? Silakan pilih:"


@pytest.fixture
async def family(tmp_path: Path) -> AsyncIterator[Chat]:
    """A browser on the bot's web chat (the real app, tests/bot/webchat_support.py)."""
    site = await open_site(tmp_path / "data", Clock(), Ticks())
    try:
        async with site.browser() as http:
            yield Chat(site, http)
    finally:
        await site.close()


async def buttons(chat: Chat) -> list[tuple[str, int, str]]:
    """(value, number, label) of each button the page shows now, in order."""
    page = (await chat.http.get("/chat")).text
    return [(v, int(n), html.unescape(label)) for v, n, label in _NUMBERED.findall(page)]


async def test_the_buttons_are_numbered_in_the_order_the_bot_counts_them(family: Chat) -> None:
    await family.say(start="1")
    assert await buttons(family) == [("agree", 1, "Setuju"), ("decline", 2, "Tidak setuju")]
    await family.say(choice="agree")
    menu = await buttons(family)
    assert [n for _, n, _ in menu] == list(range(1, len(menu) + 1))
    assert menu[0][2] == "Informasi layanan"


async def test_typing_a_buttons_number_picks_that_button(family: Chat) -> None:
    await family.say(start="1")
    await family.say(text="1")
    assert shown((await family.http.get("/chat")).text)[-1][1].endswith(MENU), "1 = Setuju"
    menu = await buttons(family)
    value, number, label = menu[1]
    await family.say(text=str(number))
    typed = shown((await family.http.get("/chat")).text)

    # The same choice pressed as a button, in a conversation of its own.
    async with family.site.browser() as other:
        pressing = Chat(family.site, other)
        await consented(pressing)
        await pressing.say(choice=value)
        pressed = shown((await other.get("/chat")).text)
    assert typed[-1] == pressed[-1], f"typing {number} answers as pressing {label!r}"


async def test_the_re_ask_that_says_type_its_number_shows_the_numbers(family: Chat) -> None:
    await consented(family)
    await family.say(text="zzkq plomb")
    page = (await family.http.get("/chat")).text
    assert "ketik nomornya" in shown(page)[-1][1]
    assert [n for _, n, _ in await buttons(family)][:2] == [1, 2]


async def test_the_choices_are_a_named_group_and_hidden_when_there_are_none(family: Chat) -> None:
    page = (await family.http.get("/chat")).text
    form = _CHOICES.search(page)
    assert form is not None and " hidden" in form.group(0)  # nothing to choose yet
    assert 'aria-label="Pilihan jawaban: tekan salah satu, atau ketik nomornya"' in form.group(0)
    await family.say(start="1")
    form = _CHOICES.search((await family.http.get("/chat")).text)
    assert form is not None and " hidden" not in form.group(0)
