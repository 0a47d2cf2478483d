"""The web chat channel: replies become lines a waiting page is woken for, once each."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from webchat_support import Chat, address_of, reply

from bot.channels.base import Outbound, RetryLater
from bot.channels.webchat.channel import WebChatChannel


async def test_a_waiting_poll_wakes_when_a_reply_is_sent(chat: Chat) -> None:
    import asyncio

    await chat.say(text="halo")
    address = address_of(chat)
    channel = chat.site.channel
    seen = (await channel.view(address)).cursor
    contact = await chat.app.store.contacts.find("webchat", address)
    assert contact is not None
    waiting = asyncio.create_task(channel.wait(address, seen, timeout=30))
    await asyncio.sleep(0)
    assert not waiting.done()
    [row_id] = await chat.app.store.outbox.enqueue([reply(contact.id, "balasan konselor")])
    await channel.send(Outbound(row_id, address, "balasan konselor"))
    view = await waiting
    assert [(line.who, line.text) for line in view.lines] == [("bot", "balasan konselor")]
    assert (await channel.wait(address, view.cursor, timeout=0.01)).lines == ()


async def test_a_reply_handed_over_twice_is_one_line_and_a_cancelled_one_none(
    chat: Chat,
) -> None:
    await chat.say(text="halo")
    address = address_of(chat)
    store = chat.app.store
    contact = await store.contacts.find("webchat", address)
    assert contact is not None
    [row_id] = await store.outbox.enqueue([reply(contact.id, "balasan")])
    channel = chat.site.channel
    first = await channel.send(Outbound(row_id, address, "balasan"))
    again = await channel.send(Outbound(row_id, address, "balasan"))  # a crash before "sent"
    assert first is not None and first == again
    assert [line["text"] for line in await chat.lines()].count("balasan") == 1
    [other] = await store.outbox.enqueue([reply(contact.id, "dibatalkan")])
    await store.outbox.mark_failed(other, "cancelled_quick_exit", datetime.now(UTC))
    assert await channel.send(Outbound(other, address, "dibatalkan")) is None


async def test_an_unbound_channel_asks_the_sender_to_retry() -> None:
    with pytest.raises(RetryLater):
        await WebChatChannel().send(Outbound(1, "a" * 32, "halo"))
