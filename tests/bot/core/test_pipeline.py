"""The message path, end to end in one process: inbox, crisis check, flows, outbox."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from pathlib import Path

import pytest
from bot_support import Bot, drain, eventually, paragraphs, soon
from support.rawdb import raw_update

from bot.channels.base import Inbound, RetryLater, Unreachable
from bot.core.outbox import OutboxSender
from bot.core.turns import PRIORITY_URGENT


async def test_first_contact_is_greeted_in_indonesian_with_the_consent_question(bot: Bot) -> None:
    await bot.start("chat-1")
    sent = bot.channel.sent
    assert sent, "the bot said nothing"
    assert "selamat datang" in sent[0].text.lower()
    assert [v for v, _ in sent[-1].options] == ["agree", "decline"]


async def test_a_pressed_button_moves_the_conversation_on(bot: Bot) -> None:
    await bot.start("chat-1")
    before = len(bot.channel.sent)
    await bot.send("chat-1", "agree", kind="choice")
    replies = bot.channel.sent[before:]
    assert any("Terima kasih" in m.text for m in replies)
    assert any(m.options for m in replies), "the main menu should follow consent"


async def test_a_repeated_transport_id_is_stored_and_answered_once(bot: Bot) -> None:
    await bot.start("chat-1")
    first = Inbound("test", "dup-1", "chat-1", "text", "1")
    assert await bot.app.receive(first) is True
    assert await bot.app.receive(first) is False
    await bot.app.wait_idle()
    replies_after_dup = len(bot.channel.sent)
    assert await bot.app.receive(first) is False
    await bot.app.wait_idle()
    assert len(bot.channel.sent) == replies_after_dup
    assert await bot.app.store.inbox.count_pending() == 0


async def test_one_contacts_messages_are_processed_in_the_order_they_arrived(bot: Bot) -> None:
    await bot.start("chat-1")
    await bot.send("chat-1", "agree", kind="choice")
    # Two quick answers: "bahasa" opens the language question, "2" answers it (English).
    await bot.app.receive(Inbound("test", "q1", "chat-1", "text", "bahasa"))
    await bot.app.receive(Inbound("test", "q2", "chat-1", "text", "2"))
    await bot.app.wait_idle()
    said = paragraphs(m.text for m in bot.channel.sent)
    assert said[-2:] == [
        "All right, we will continue in English.",
        "How can we help? Please choose:",
    ]
    raw = await bot.app.store.sessions.get(1)
    assert raw is not None and '"en"' in raw


async def test_many_contacts_at_once_all_get_their_greeting(bot: Bot) -> None:
    await asyncio.gather(
        *(bot.app.receive(Inbound("test", f"s{i}", f"chat-{i}", "start", "")) for i in range(40))
    )
    await bot.app.wait_idle()
    greeted = {m.address for m in bot.channel.sent if "selamat datang" in m.text.lower()}
    assert greeted == {f"chat-{i}" for i in range(40)}


async def test_content_the_bot_cannot_read_gets_a_kind_reply_and_is_kept(bot: Bot) -> None:
    await bot.start("chat-1")
    expectations = {
        "photo": "foto",
        "voice": "pesan suara",
        "sticker": "stiker",
        "location": "lokasi",
        "file": "berkas",
        "video": "video",
        "contact": "kontak",
        "unsupported": "pesan teks",
    }
    for kind, word in expectations.items():
        before = len(bot.channel.sent)
        assert await bot.send("chat-1", "", kind=kind)
        replies = bot.channel.sent[before:]
        assert len(replies) == 1 and word in replies[0].text.lower(), kind
    # Still waiting on the consent question: the conversation was not disturbed.
    before = len(bot.channel.sent)
    await bot.send("chat-1", "1")
    assert any("Terima kasih" in m.text for m in bot.channel.sent[before:])


async def test_a_very_long_message_is_read_in_part_with_a_note(bot: Bot) -> None:
    await bot.start("chat-1")
    before = len(bot.channel.sent)
    await bot.send("chat-1", "cerita " * 1000)
    replies = bot.channel.sent[before:]
    assert "panjang sekali" in replies[0].text
    assert "2000" in replies[0].text


async def test_odd_unicode_is_answered_not_crashed_on(bot: Bot) -> None:
    await bot.start("chat-1")
    for text in ["\u200b\u200b", "🙏🙏🙏", "ｍｅｎｕ", "\x00\x01", "ᴍᴇɴᴜ", "مرحبا", "\ud7ff" * 3]:
        before = len(bot.channel.sent)
        await bot.send("chat-1", text)
        assert len(bot.channel.sent) > before, repr(text)


async def test_an_urgent_message_interrupts_any_flow_with_help_and_an_urgent_case(
    bot: Bot,
) -> None:
    await bot.start("chat-1")
    await bot.send("chat-1", "agree", kind="choice")
    before = len(bot.channel.sent)
    await bot.send("chat-1", "suami saya memukuli saya sekarang, tolong")
    replies = bot.channel.sent[before:]
    joined = "\n".join(m.text for m in replies)
    assert "112" in joined and "129" in joined
    case = await bot.app.store.cases.open_for(1)
    assert case is not None and case.urgency == "darurat"


async def test_the_log_never_ties_a_crisis_to_a_contact_or_a_message(
    bot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    """A log is kept in plain text for days: it may say that a message was urgent, never
    whose, nor the health category the check found."""
    await bot.start("chat-7")
    await bot.send("chat-7", "agree", kind="choice")
    contact = await bot.app.store.contacts.get(1)
    assert contact is not None
    with caplog.at_level(logging.DEBUG):
        await bot.send("chat-7", "aku mau bunuh diri malam ini")
    case = await bot.app.store.cases.open_for(contact.id)
    assert case is not None and case.urgency == "darurat"
    said = [r.getMessage() for r in caplog.records]
    assert "crisis check: a message assessed urgent" in said
    for line in said:
        assert "suicide" not in line and "bunuh" not in line, line
        assert f"contact {contact.id}" not in line or "assessed" not in line, line


async def test_a_worrying_message_gets_one_gentle_question_then_resumes(bot: Bot) -> None:
    await bot.start("chat-1")
    before = len(bot.channel.sent)
    await bot.send("chat-1", "aku capek hidup")
    question = bot.channel.sent[before:][-1]
    assert [v for v, _ in question.options] == ["yes", "no"]
    before = len(bot.channel.sent)
    await bot.send("chat-1", "no", kind="choice")
    resumed = bot.channel.sent[before:]
    assert [v for v, _ in resumed[-1].options] == ["agree", "decline"], "back to consent"
    assert await bot.app.store.cases.open_for(1) is None


async def test_urgent_replies_jump_the_queue_of_routine_replies(bot: Bot) -> None:
    # Routine replies for many people are waiting; a crisis reply is taken first.
    await bot.app.sender.stop()
    for i in range(20):
        await bot.app.receive(Inbound("test", f"s{i}", f"chat-{i}", "start", ""))
    await bot.app.receive(Inbound("test", "crisis", "chat-x", "text", "aku mau bunuh diri"))
    await bot.app.pipeline.wait_idle()
    due = await bot.app.store.outbox.due(soon(), limit=5)
    assert due[0].address == "chat-x" and due[0].priority == PRIORITY_URGENT


async def test_a_transport_asking_to_wait_is_waited_out_and_retried(bot: Bot) -> None:
    bot.channel.failures.append(RetryLater("429", retry_after=0.05))
    await bot.app.receive(Inbound("test", "s", "chat-1", "start", ""))
    await eventually(lambda: len(bot.channel.sent) >= 2)
    assert "selamat datang" in bot.channel.sent[0].text.lower()


async def test_a_person_who_blocked_the_bot_is_marked_unreachable_not_retried(bot: Bot) -> None:
    bot.channel.failures.extend([Unreachable("403")] * 10)
    await bot.app.receive(Inbound("test", "s", "chat-1", "start", ""))
    await bot.app.wait_idle()

    async def unreachable() -> bool:
        contact = await bot.app.store.contacts.get(1)
        return contact is not None and contact.unreachable

    for _ in range(200):
        if await unreachable():
            break
        await asyncio.sleep(0.01)
    assert await unreachable()
    assert await bot.app.store.outbox.count_pending() == 0


async def test_a_family_that_declines_consent_still_gets_help_but_their_words_are_not_kept(
    bot: Bot,
) -> None:
    await bot.start("chat-1")
    await bot.send("chat-1", "decline", kind="choice")
    before = len(bot.channel.sent)
    await bot.send("chat-1", "1")  # information, from the limited menu
    assert len(bot.channel.sent) > before
    await bot.send("chat-1", "rahasia keluarga saya")
    stored = [await bot.app.store.inbox.get(i) for i in range(1, 5)]
    assert all(row is not None and row.text == "" for row in stored[1:])
    consent = await bot.app.store.consents.latest(1)
    assert consent is not None and consent.given is False


async def test_a_declining_family_in_danger_is_still_helped_and_their_words_kept(bot: Bot) -> None:
    await bot.start("chat-1")
    await bot.send("chat-1", "decline", kind="choice")
    await bot.send("chat-1", "tolong suami saya mau bunuh saya")
    row = await bot.app.store.inbox.get(3)
    assert row is not None and "bunuh" in row.text
    case = await bot.app.store.cases.open_for(1)
    assert case is not None and case.urgency == "darurat"


async def corrupt(db: Path, sql: str) -> None:
    """Damages the database file directly, as a disk fault or a bad restore would.

    In a thread: the bot's own writes (a background pass may be committing) finish on this
    event loop, so a blocking connection here would wait for a lock it itself holds up.
    """

    await asyncio.to_thread(raw_update, db, sql)


async def test_a_message_that_keeps_failing_gets_a_kind_reply_and_a_case(bot: Bot) -> None:
    bot.app.pipeline.retry_delay = 0.01
    await bot.start("chat-1")
    await bot.send("chat-1", "agree", kind="choice")
    # The stored session can no longer be decrypted: every attempt to process fails.
    await corrupt(bot.app.store.path, "UPDATE sessions SET state_enc = x'00'")
    before = len(bot.channel.sent)
    await bot.send("chat-1", "1")
    replies = bot.channel.sent[before:]
    assert len(replies) == 1 and "tersimpan" in replies[0].text
    assert "112" in replies[0].text
    case = await bot.app.store.cases.open_for(1)
    assert case is not None and case.urgency == "segera"
    # The conversation goes on afterwards.
    before = len(bot.channel.sent)
    await bot.send("chat-1", "menu")
    assert len(bot.channel.sent) > before


async def test_a_reply_that_cannot_be_decrypted_does_not_silence_anyone_else(bot: Bot) -> None:
    await bot.app.sender.stop()
    await bot.app.receive(Inbound("test", "s1", "chat-1", "start", ""))
    await bot.app.receive(Inbound("test", "s2", "chat-2", "start", ""))
    await bot.app.pipeline.wait_idle()
    await corrupt(bot.app.store.path, "UPDATE outbox SET body_enc = x'00' WHERE contact_id = 1")
    await drain(OutboxSender(bot.app.store, {"test": bot.channel}, clock=lambda: datetime.now(UTC)))
    assert {m.address for m in bot.channel.sent} == {"chat-2"}
    assert await bot.app.store.outbox.count_pending() == 0


async def test_a_crisis_at_the_end_of_a_very_long_message_is_still_caught(bot: Bot) -> None:
    await bot.start("chat-1")
    await bot.send("chat-1", "agree", kind="choice")
    long_story = "hari ini saya ke pasar dan bertemu banyak orang. " * 300
    await bot.send("chat-1", long_story + " aku sudah tidak kuat, aku mau bunuh diri malam ini")
    case = await bot.app.store.cases.open_for(1)
    assert case is not None and case.urgency == "darurat"


async def test_text_that_is_not_valid_unicode_is_stored_not_refused(bot: Bot) -> None:
    await bot.start("chat-1")
    assert await bot.send("chat-1", "tolong \ud800 saya")
    row = await bot.app.store.inbox.get(2)
    assert row is not None and "\ud800" not in row.text
