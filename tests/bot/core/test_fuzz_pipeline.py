"""Bad input through the real message path: any text is stored once, processed once, answered.

Hypothesis draws the texts a family's phone (or a broken client) could send: any
code point (lone surrogates, controls, RTL marks, zero-width and combining marks),
empty and blank texts, and 100 KB. One app serves every example; each example is a
new contact, so examples do not disturb each other.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from bot_support import Bot, make_config
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from support import RecordingChannel

from bot.app import App
from bot.channels.base import Inbound

# Characters that break naive text handling, drawn often on purpose.
HOSTILE = st.sampled_from(
    [
        "\ud800",  # a lone surrogate: cannot be encoded as UTF-8
        "\udfff",
        "\x00",
        "\x1b[31m",
        "\r\n",
        "\u200b",  # zero-width space
        "\u200d",  # zero-width joiner
        "\u202e",  # right-to-left override
        "\u200f",  # right-to-left mark
        "\ufeff",
        "\u0301",  # a combining acute accent
        "\u0336" * 5,
        "\U0001f62d",
        "ﷺ",
        "𝕓𝕦𝕟𝕦𝕙",
        "<script>alert(1)</script>",
        "{{ 7*7 }}",
        "'; DROP TABLE inbox; --",
        "%s%n",
    ]
)
TEXTS = st.one_of(
    st.text(st.characters(codec=None), max_size=200),
    st.lists(st.one_of(HOSTILE, st.text(max_size=8)), max_size=30).map("".join),
    st.sampled_from(["", " ", "\t\n ", "\u3000", "\u200b\u200b"]),
)
# Phrases the classifier must flag urgent wherever they stand in a message.
CRISIS = st.sampled_from(
    [
        "aku mau bunuh diri",
        "suami saya memukuli saya sekarang, tolong",
        "tolong suami saya mau bunuh saya",
    ]
)
# Noise around a phrase: anything at all, kept apart from it by a line break.
NOISE = st.one_of(st.text(st.characters(codec=None), max_size=80), st.lists(HOSTILE).map("".join))
SETTINGS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture
async def shared(tmp_path: Path) -> AsyncIterator[Bot]:
    channel = RecordingChannel()
    app = await App.open(make_config(tmp_path / "data"), [channel], env={})
    await app.start()
    try:
        yield Bot(app, channel)
    finally:
        await app.stop()


async def _deliver_once(bot: Bot, text: str) -> str:
    """Sends one text from a new contact; checks it was stored, processed and answered once."""
    bot.counter += 1
    address = f"fuzz-{bot.counter}"
    inbound = Inbound("test", f"f{bot.counter}", address, "text", text)
    assert await bot.app.receive(inbound) is True, "a message was not stored"
    await bot.app.wait_idle()
    replies = len(bot.channel.texts_to(address))
    assert replies >= 1, "a message was not answered"
    assert await bot.app.receive(inbound) is False, "a repeat was stored again"
    await bot.app.wait_idle()
    assert len(bot.channel.texts_to(address)) == replies, "a repeat was processed again"
    assert await bot.app.store.inbox.count_pending() == 0, "a message was left unprocessed"
    return address


@SETTINGS
@example(text="\ud800")
@example(text="\x00" * 10)
@example(text="")
@given(text=TEXTS)
async def test_any_text_is_stored_once_processed_once_and_answered(shared: Bot, text: str) -> None:
    await _deliver_once(shared, text)


@settings(SETTINGS, max_examples=3)
@given(filler=st.sampled_from(["a", "\u200b", "ẞ\u0301 "]), crisis=st.booleans())
async def test_a_100_kb_text_is_stored_answered_and_read_to_the_end(
    shared: Bot, filler: str, crisis: bool
) -> None:
    tail = "\naku mau bunuh diri" if crisis else ""
    text = (filler * (100_000 // len(filler)))[: 100_000 - len(tail)] + tail
    address = await _deliver_once(shared, text)
    contact = await shared.app.store.contacts.find("test", address)
    assert contact is not None
    case = await shared.app.store.cases.open_for(contact.id)
    assert (case is not None and case.urgency == "darurat") is crisis


@SETTINGS
@given(before=NOISE, phrase=CRISIS, after=NOISE)
async def test_a_crisis_phrase_anywhere_in_noise_is_flagged_urgent(
    shared: Bot, before: str, phrase: str, after: str
) -> None:
    address = await _deliver_once(shared, f"{before}\n{phrase}\n{after}")
    contact = await shared.app.store.contacts.find("test", address)
    assert contact is not None
    case = await shared.app.store.cases.open_for(contact.id)
    assert case is not None and case.urgency == "darurat", "the crisis check missed it"
