"""Sending on Telegram: limits, failures and their meaning, long texts, buttons.

The real python-telegram-bot against the fake Bot API; failures are injected by
the fake, and the outbox sender decides what they mean.
"""

from __future__ import annotations

import dataclasses

import pytest
from telegram import error as tg_error
from telegram_api import FakeTelegram
from telegram_support import (
    FAST,
    app_of,
    channel_of,
    contact,
    running,
    settle,
)

from bot.channels.base import DeliveryError, MessageDeleter, Outbound, RetryLater, Unreachable
from bot.channels.telegram.errors import delivery_error
from bot.channels.telegram.protocol import MAX_TEXT
from bot.channels.textparts import utf16_len
from bot.config import Config
from bot.run import Service

pytestmark = pytest.mark.e2e

# A chat that nothing fails for: its greeting is what every other chat must receive.
# (How many messages that is depends on how a turn's replies are joined for Telegram,
# bot.core.turns.merge_replies; the tests hold for any number.)
REFERENCE = 7000


async def greeting(service: Service, fake: FakeTelegram) -> list[str]:
    """The greeting as a chat that nothing fails for receives it."""
    await settle(service, fake, fake.send_start(REFERENCE))
    texts = fake.texts(REFERENCE)
    assert texts and len(texts) == len(set(texts))
    return texts


TRANSIENT = [
    (7001, "retry_after"),
    (7002, "server_error"),
    (7003, "bad_gateway"),
    (7004, "hang"),
    (7005, "no_message_id"),  # an answer the bot cannot read is not taken as delivered
]


async def test_rate_limits_server_errors_and_timeouts_are_waited_out_and_retried(
    fake: FakeTelegram, config: Config
) -> None:
    for chat, error in TRANSIENT:
        fake.fail("sendMessage", error, chat_id=chat, retry_after=1)
    async with running(config, dataclasses.replace(FAST, request_timeout=0.5)) as service:
        expected = await greeting(service, fake)
        for chat, _ in TRANSIENT:
            fake.send_start(chat)
        for chat, _ in TRANSIENT:
            await fake.wait_for(lambda c=chat: len(fake.texts(c)) >= len(expected))
        for chat, error in TRANSIENT:
            assert fake.texts(chat) == expected, f"{error}: a reply repeated, missing or reordered"
        await app_of(service).wait_idle()
        assert await app_of(service).store.outbox.count_pending() == 0

    # The 429 said "retry after 1 s": the retry waited that second out.
    refused, *later = [c for c in fake.calls_to("sendMessage") if c.params["chat_id"] == "7001"]
    retried = next(c for c in later if c.params["text"] == refused.params["text"])
    assert retried.at - refused.at >= 0.9


@pytest.mark.parametrize("error", ["blocked", "chat_not_found"])
async def test_a_person_who_blocked_the_bot_is_marked_unreachable_and_not_retried(
    fake: FakeTelegram, config: Config, error: str
) -> None:
    chat = 7100
    async with running(config) as service:
        expected = await greeting(service, fake)
        if error == "blocked":
            fake.block(chat)
        else:
            fake.fail("sendMessage", error, chat_id=chat, times=len(expected))
        await settle(service, fake, fake.send_start(chat))
        assert (await contact(service, chat)).unreachable
        assert await app_of(service).store.outbox.count_pending() == 0
        tries = [c for c in fake.calls_to("sendMessage") if c.params["chat_id"] == str(chat)]
        sent = [c for c in fake.calls_to("sendMessage") if c.params["chat_id"] == str(REFERENCE)]
        assert [c.params["text"] for c in tries] == [c.params["text"] for c in sent], (
            "each reply was tried once, none retried"
        )
        assert fake.texts(chat) == []

        # They unblock the bot and write again: reachable again, and answered.
        fake.block(chat, False)
        await settle(service, fake, fake.send_text(chat, "halo"))
        assert not (await contact(service, chat)).unreachable
        assert fake.texts(chat)


async def test_a_long_text_is_split_at_paragraphs_with_the_buttons_on_the_last_part(
    fake: FakeTelegram, config: Config
) -> None:
    paragraphs = [f"Paragraf {i}. " + "kata " * 700 for i in range(4)]  # ~3.5k each
    body = "\n\n".join(paragraphs)
    options = (("yes", "Ya"), ("no", "Tidak"))
    async with running(config) as service:
        ids = await channel_of(service).send(Outbound(1, "7200", body, options))
    messages = fake.messages(7200)
    assert ids == ",".join(str(m.message_id) for m in messages)
    assert len(messages) == 4
    assert all(utf16_len(m.text) <= MAX_TEXT for m in messages)
    assert [m.text.split(".")[0] for m in messages] == [f"Paragraf {i}" for i in range(4)]
    assert [bool(m.keyboard) for m in messages] == [False, False, False, True]
    assert messages[-1].buttons() == [("Ya", "yes"), ("Tidak", "no")]


async def test_a_text_without_breaks_is_cut_to_the_limit_counting_utf16(
    fake: FakeTelegram, config: Config
) -> None:
    body = "🙏" * 5000  # 10000 UTF-16 units
    async with running(config) as service:
        await channel_of(service).send(Outbound(1, "7201", body))
    texts = fake.texts(7201)
    assert [utf16_len(t) for t in texts] == [4096, 4096, 1808]
    assert "".join(texts) == body


async def test_a_retry_after_a_failed_part_sends_only_the_parts_still_missing(
    fake: FakeTelegram, config: Config
) -> None:
    body = "\n\n".join(f"Bagian {i}. " + "x " * 2000 for i in range(3))
    fake.fail("sendMessage", "retry_after", chat_id=7202, after=1)
    async with running(config) as service:
        channel = channel_of(service)
        with pytest.raises(RetryLater) as refused:
            await channel.send(Outbound(9, "7202", body))
        assert refused.value.retry_after == 1.0
        ids = await channel.send(Outbound(9, "7202", body))
    messages = fake.messages(7202)
    assert [m.text.split(".")[0] for m in messages] == ["Bagian 0", "Bagian 1", "Bagian 2"]
    assert ids == ",".join(str(m.message_id) for m in messages)


async def test_a_reply_telegram_refuses_as_formatted_goes_out_plain_with_numbered_choices(
    fake: FakeTelegram, config: Config
) -> None:
    fake.fail("sendMessage", "bad_request", chat_id=7203)
    async with running(config) as service:
        await channel_of(service).send(
            Outbound(1, "7203", "Pilih *satu*:", (("a", "Satu"), ("b", "Dua")))
        )
    [message] = fake.messages(7203)
    assert message.text == "Pilih *satu*:\n\n1. Satu\n2. Dua"
    assert message.keyboard == [] and message.entities == []


async def test_choice_values_too_long_for_a_button_are_carried_by_a_token(
    fake: FakeTelegram, config: Config
) -> None:
    long_value = "slot-2026-12-01T09:00+09:00-konselor-" + "x" * 40
    async with running(config) as service:
        await settle(service, fake, fake.send_start(7204))
        await channel_of(service).send(Outbound(50, "7204", "Kapan?", ((long_value, "Senin"),)))
        [(label, data)] = fake.latest_keyboard(7204).buttons()
        assert label == "Senin" and len(data.encode()) <= 64 and data != long_value
        live = await app_of(service).store.keyboards.live("telegram", "7204")
        assert live is not None and live.value_for(data) == long_value


async def test_messages_to_a_group_are_spaced_as_telegram_asks(
    fake: FakeTelegram, config: Config
) -> None:
    async with running(config) as service:
        for n in range(2):
            await channel_of(service).send(Outbound(n, "-100500", f"Pengumuman {n}"))
    first, second = fake.calls_to("sendMessage")
    assert second.at - first.at >= FAST.group_interval * 0.9


async def test_the_fake_enforces_a_sending_rate_when_asked(
    fake: FakeTelegram, config: Config
) -> None:
    fake.limit_rate(3)
    async with running(config) as service:
        channel = channel_of(service)
        for n in range(3):
            await channel.send(Outbound(n, "7300", f"pesan {n}"))
        with pytest.raises(RetryLater) as refused:
            await channel.send(Outbound(3, "7300", "pesan 3"))
    assert refused.value.retry_after == 1.0


@pytest.mark.parametrize(
    ("exc", "kind", "code", "retry_after"),
    [
        (tg_error.RetryAfter(7), RetryLater, "rate_limited", 7.0),
        (
            tg_error.Forbidden("Forbidden: bot was blocked by the user"),
            Unreachable,
            "blocked",
            None,
        ),
        (tg_error.Forbidden("Forbidden: user is deactivated"), Unreachable, "deactivated", None),
        (tg_error.Forbidden("Forbidden: bot was kicked"), Unreachable, "forbidden", None),
        (tg_error.BadRequest("Bad Request: chat not found"), Unreachable, "chat_not_found", None),
        (tg_error.ChatMigrated(-1001), Unreachable, "chat_migrated", None),
        (tg_error.BadRequest("Bad Request: message is too long"), RetryLater, "bad_request", None),
        (tg_error.TimedOut(), RetryLater, "timed_out", None),
        (tg_error.NetworkError("Bad Gateway"), RetryLater, "network", None),
        (tg_error.InvalidToken(), RetryLater, "token_refused", None),
        # How Bot.do_api_request (every reply) reports a refused token.
        (tg_error.EndPointNotFound("Endpoint 'sendMessage' not found"), RetryLater,
         "token_refused", None),
    ],
)
def test_each_bot_api_refusal_means_wait_or_give_up(
    exc: tg_error.TelegramError, kind: type[DeliveryError], code: str, retry_after: float | None
) -> None:
    mapped = delivery_error(exc)
    assert type(mapped) is kind
    assert (mapped.code, mapped.retry_after) == (code, retry_after)


async def test_a_quick_exit_deletes_both_sides_of_the_chat(
    fake: FakeTelegram, config: Config
) -> None:
    chat = 7400
    async with running(config) as service:
        start = fake.send_start(chat)
        hello = fake.send_text(chat, "halo")
        await settle(service, fake, start, hello)
        channel = channel_of(service)
        assert isinstance(channel, MessageDeleter)
        ours = [m.message_id for m in fake.messages(chat)]
        sent_ids = [f"{ours[0]},{ours[1]}", *(str(i) for i in ours[2:])]
        theirs = [start["message"]["message_id"], hello["message"]["message_id"]]
        received_ids = [f"{chat}:{theirs[0]}", f"{chat}:{theirs[1]}:caption", "cb:q9", "99:5"]
        count = await channel.delete_messages(str(chat), sent_ids, received_ids)
    assert fake.deleted[chat] == set(ours) | set(theirs)
    assert count == len(ours) + len(theirs)
    assert fake.texts(chat) == []
