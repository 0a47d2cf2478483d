"""A family's message with a character the database cannot keep (NUL) is kept and answered.

PostgreSQL's `text` refuses U+0000 where SQLite kept it; every channel's message
passes through `Inbound`, where such a character becomes U+FFFD (bot.storable), so
on both backends the message is stored once, crisis-checked and answered.
"""

from __future__ import annotations

import pytest
from bot_support import Bot

from bot.channels.base import Inbound
from bot.storable import REPLACEMENT, UnstorableText, check_storable, storable, unstorable


def test_nul_and_lone_surrogates_are_unstorable_and_become_the_replacement_character() -> None:
    assert unstorable("a\x00b") and unstorable("\ud800")
    assert not unstorable("halo, apa kabar? 😊 \t\n\x01")
    assert storable("a\x00b\udfff") == f"a{REPLACEMENT}b{REPLACEMENT}"
    assert storable("halo") == "halo"


def test_a_refused_value_is_named_but_never_echoed() -> None:
    with pytest.raises(UnstorableText) as refused:
        check_storable("rahasia\x00", "Config 'office.name'")
    assert "office.name" in str(refused.value) and "rahasia" not in str(refused.value)
    assert check_storable("Kantor Ambon", "name") == "Kantor Ambon"


def test_every_channel_s_message_is_made_storable_where_it_is_built() -> None:
    inbound = Inbound("test", "id\x00", "chat\x00", "text", "tolong\x00", reply_to="r\x00")
    assert (inbound.transport_id, inbound.address) == ("id\ufffd", "chat\ufffd")
    assert (inbound.text, inbound.reply_to) == ("tolong\ufffd", "r\ufffd")


async def test_a_message_with_a_nul_is_stored_once_and_answered(bot: Bot) -> None:
    await bot.start("chat-1")
    await bot.send("chat-1", "agree", kind="choice")
    before = len(bot.channel.sent)
    assert await bot.send("chat-1", "\x00")
    assert len(bot.channel.sent) > before, "the family got no answer"
    row = await bot.app.store.inbox.get(3)
    assert row is not None and row.text == REPLACEMENT


async def test_a_crisis_with_a_nul_inside_is_still_caught(bot: Bot) -> None:
    await bot.start("chat-1")
    await bot.send("chat-1", "agree", kind="choice")
    assert await bot.send("chat-1", "aku mau bunuh diri\x00 malam ini")
    case = await bot.app.store.cases.open_for(1)
    assert case is not None and case.urgency == "darurat"


async def test_an_address_with_a_nul_is_one_contact_across_messages(bot: Bot) -> None:
    await bot.start("chat\x00-1")
    await bot.send("chat\x00-1", "agree", kind="choice")
    assert {m.address for m in bot.channel.sent} == {"chat\ufffd-1"}
    assert await bot.app.store.contacts.get(2) is None
