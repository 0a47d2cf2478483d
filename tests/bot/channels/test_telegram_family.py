"""Families on Telegram, end to end: the real python-telegram-bot against the fake Bot API.

From a poster's deep link through consent and triage to the booking offer, with
buttons; stale buttons; everything that is not text; repeats; a restart.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from bot_support import asks, paragraphs
from telegram_api import FakeTelegram
from telegram_support import (
    FAST,
    app_of,
    contact,
    running,
    session,
    settle,
    text,
)

from bot.channels.telegram.protocol import CHOSEN, COMMANDS
from bot.config import Config
from bot.run import Service

pytestmark = pytest.mark.e2e

FAMILY = 4242
DANGER_QUESTION = "Sebelum lanjut, satu pertanyaan penting"
VIOLENCE_QUESTION = "Apakah ada anggota keluarga"


async def press(service: Service, fake: FakeTelegram, *values: str) -> None:
    for value in values:
        await settle(service, fake, fake.press(FAMILY, value))


async def note_for(fake: FakeTelegram, update: dict[str, Any]) -> str | None:
    """The note Telegram showed for a button press (None: answered silently)."""
    query = update["callback_query"]["id"]
    await fake.wait_for(lambda: fake.answered(query))
    calls = fake.calls_to("answerCallbackQuery")
    [call] = [c for c in calls if c.params["callback_query_id"] == query]
    note = call.params.get("text")
    return None if note is None else str(note)


async def test_a_family_goes_from_a_poster_link_through_consent_and_triage_to_the_booking_offer(
    fake: FakeTelegram, config: Config
) -> None:
    async with running(config) as service:
        await settle(service, fake, fake.send_start(FAMILY, "poster-pasar-mardika"))
        assert "selamat datang" in fake.texts(FAMILY)[0].lower()
        consent = fake.latest_keyboard(FAMILY)
        assert consent.buttons() == [("Setuju", "agree"), ("Tidak setuju", "decline")]
        assert (await session(service, FAMILY)).var("start_param") == "poster-pasar-mardika"

        for value in ["agree", "talk", "perkawinan", "no", "no", "partner", "months", "no"]:
            question = fake.latest_keyboard(FAMILY)
            update = fake.press(FAMILY, value)
            await settle(service, fake, update)
            assert await note_for(fake, update) is None
            # The question now shows only the chosen answer, and that answers nothing.
            await fake.wait_for(lambda m=question: [d for _, d in m.buttons()] == [CHOSEN])
            assert question.buttons()[0][0].startswith("✓ ")

        texts = fake.texts(FAMILY)
        said = paragraphs(texts)
        closing = [i for i, p in enumerate(said) if p.startswith("Terima kasih sudah bercerita.")]
        # After triage's last words comes the booking offer (its wording is the booking's).
        assert closing and closing[0] < len(said) - 1
        assert not any(p.startswith("Maaf, saya belum mengerti") for p in said[closing[0] :])
        case = await app_of(service).store.cases.open_for((await contact(service, FAMILY)).id)
        assert case is not None and case.category == "perkawinan"
        assert len(texts) == len(set(texts)), "a reply was sent twice"


async def test_emphasis_is_shown_bold_without_asterisks(fake: FakeTelegram, config: Config) -> None:
    async with running(config) as service:
        await settle(service, fake, fake.send_start(FAMILY))
    # However the greeting's replies are joined into messages, every word the texts
    # mark with asterisks shows bold, at the right place, and no asterisk shows.
    greeting = fake.messages(FAMILY)
    assert not any("*" in m.text for m in greeting)
    bold = [m.text[e["offset"] : e["offset"] + e["length"]] for m in greeting for e in m.entities]
    assert bold == ["language", "dataku", "hapus", "berhenti", "keluar"]


async def test_the_command_menu_is_registered_in_indonesian_and_english(
    fake: FakeTelegram, config: Config
) -> None:
    async with running(config):
        pass
    assert [c["command"] for c in fake.commands[""]] == list(COMMANDS)
    assert [c["command"] for c in fake.commands["en"]] == list(COMMANDS)
    assert fake.commands[""][2]["description"] == text("telegram.commands.menu")
    assert fake.commands["en"][2]["description"] == text("telegram.commands.menu", "en")


SLASH_COMMANDS = [
    ("/help", "Apa yang Anda butuhkan sekarang?"),
    ("/bahasa", "Pilih bahasa / Choose your language:"),
    ("/menu@lk3_test_bot", "Apa yang bisa kami bantu?"),
    ("/help", "Apa yang Anda butuhkan sekarang?"),
    ("/menu", "Apa yang bisa kami bantu?"),
]


async def test_slash_commands_reach_the_flows_global_commands(
    fake: FakeTelegram, config: Config
) -> None:
    async with running(config) as service:
        await settle(service, fake, fake.send_start(FAMILY))
        await press(service, fake, "agree")
        for command, expected in SLASH_COMMANDS:
            await settle(service, fake, fake.send_text(FAMILY, command))
            assert asks(fake.latest_keyboard(FAMILY).text, expected), command


async def test_a_button_pressed_on_an_older_question_is_not_taken_as_the_answer(
    fake: FakeTelegram, config: Config
) -> None:
    async with running(config) as service:
        await settle(service, fake, fake.send_start(FAMILY))
        await press(service, fake, "agree", "talk", "perkawinan")
        danger = fake.latest_keyboard(FAMILY)
        assert danger.text.startswith(DANGER_QUESTION)
        await press(service, fake, "no")
        assert fake.texts(FAMILY)[-1].startswith(VIOLENCE_QUESTION)
        sent = len(fake.messages(FAMILY))
        before = await session(service, FAMILY)

        # An old phone still shows the first question's buttons: "no" there is not
        # an answer to "is anyone hit at home?".
        stale = fake.press(FAMILY, "no", message_id=danger.message_id, force=True)
        await settle(service, fake, stale)
        assert await note_for(fake, stale) == text("telegram.stale_button")
        assert len(fake.messages(FAMILY)) == sent, "the stale press led somewhere"
        assert await session(service, FAMILY) == before

        await press(service, fake, "yes")
        assert any(t.startswith("Terima kasih sudah memberi tahu kami") for t in fake.texts(FAMILY))


async def test_a_typed_answer_retires_the_buttons_of_the_question_it_answered(
    fake: FakeTelegram, config: Config
) -> None:
    async with running(config) as service:
        await settle(service, fake, fake.send_start(FAMILY))
        consent = fake.latest_keyboard(FAMILY)
        await settle(service, fake, fake.send_text(FAMILY, "setuju"))
        await fake.wait_for(lambda: not consent.keyboard)
        menu = fake.latest_keyboard(FAMILY)
        assert asks(menu.text, "Apa yang bisa kami bantu?")

        late = fake.press(FAMILY, "decline", message_id=consent.message_id, force=True)
        await settle(service, fake, late)
        assert await note_for(fake, late) == text("telegram.stale_button")
        assert (await session(service, FAMILY)).var("consent") == "yes"
        # The menu's buttons still answer the menu.
        await press(service, fake, "info")


async def test_a_button_pressed_twice_counts_once(fake: FakeTelegram, config: Config) -> None:
    async with running(config) as service:
        await settle(service, fake, fake.send_start(FAMILY))
        consent = fake.latest_keyboard(FAMILY)
        first = fake.press(FAMILY, "agree")
        second = fake.press(FAMILY, "decline", message_id=consent.message_id, force=True)
        await settle(service, fake, first, second)
        assert await note_for(fake, first) is None
        assert await note_for(fake, second) == text("telegram.stale_button")
        assert (await session(service, FAMILY)).var("consent") == "yes"


async def test_button_data_the_question_never_showed_is_not_taken(
    fake: FakeTelegram, config: Config
) -> None:
    async with running(config) as service:
        await settle(service, fake, fake.send_start(FAMILY))
        before = await session(service, FAMILY)
        forged = fake.press(FAMILY, "urgent", force=True)  # a menu value, not a consent one
        await settle(service, fake, forged)
        assert await note_for(fake, forged) == text("telegram.stale_button")
        assert await session(service, FAMILY) == before
        await press(service, fake, "agree")  # the real buttons still work


async def test_english_speakers_get_the_stale_note_in_english(
    fake: FakeTelegram, config: Config
) -> None:
    async with running(config) as service:
        await settle(service, fake, fake.send_start(FAMILY))
        consent = fake.latest_keyboard(FAMILY)
        await press(service, fake, "agree")
        stale = fake.press(FAMILY, "agree", message_id=consent.message_id, force=True)
        stale["callback_query"]["from"]["language_code"] = "en-GB"
        await settle(service, fake, stale)
        assert await note_for(fake, stale) == text("telegram.stale_button", "en")


CONTENT_REPLIES = [
    ("photo", "unsupported.photo"),
    ("voice", "unsupported.voice"),
    ("audio", "unsupported.voice"),
    ("video", "unsupported.video"),
    ("video_note", "unsupported.video"),
    ("sticker", "unsupported.sticker"),
    ("location", "unsupported.location"),
    ("venue", "unsupported.location"),
    ("document", "unsupported.file"),
    ("contact", "unsupported.contact"),
    ("dice", "unsupported.other"),
]


async def test_every_kind_of_content_that_is_not_text_gets_its_kind_reply(
    fake: FakeTelegram, config: Config
) -> None:
    async with running(config) as service:
        updates = [fake.send_content(5000 + i, kind) for i, (kind, _) in enumerate(CONTENT_REPLIES)]
        await settle(service, fake, *updates)
        for i, (kind, key) in enumerate(CONTENT_REPLIES):
            # A first message: who we are, the kind's own words, and the numbers to call.
            [reply] = fake.texts(5000 + i)
            assert reply.startswith("Halo, selamat datang di layanan LK3"), kind
            assert text(key) in reply and "112" in reply and "119" in reply, kind
        await settle(service, fake, fake.send_content(5000, "photo"))
        assert fake.texts(5000)[-1] == text("unsupported.photo"), "only the first time"


async def test_the_words_sent_with_a_photo_are_read_first(
    fake: FakeTelegram, config: Config
) -> None:
    async with running(config) as service:
        await settle(service, fake, fake.send_content(FAMILY, "photo", caption="aku mau mati saja"))
        texts = fake.texts(FAMILY)
        assert texts[-1] == text("unsupported.photo")
        # The caption was crisis-checked: the urgent reply with the hotlines came first.
        assert any("112" in t for t in texts[:-1])
        case = await app_of(service).store.cases.open_for((await contact(service, FAMILY)).id)
        assert case is not None and case.urgency == "darurat"


async def test_group_chats_are_not_listened_to(fake: FakeTelegram, config: Config) -> None:
    async with running(config) as service:
        update = fake.send_text(-100123, "halo semua")
        await settle(service, fake, update)
        assert await app_of(service).store.contacts.count() == 0
    assert fake.calls_to("sendMessage") == []


async def test_an_update_delivered_twice_is_processed_once(
    fake: FakeTelegram, config: Config
) -> None:
    async with running(config) as service:
        start = fake.send_start(FAMILY)
        await settle(service, fake, start)
        greeting = fake.texts(FAMILY)
        await settle(service, fake, fake.redeliver(start))
        assert fake.texts(FAMILY) == greeting

        agree = fake.press(FAMILY, "agree")
        await settle(service, fake, agree)
        after_agree = fake.texts(FAMILY)
        await settle(service, fake, fake.redeliver(agree))
        assert fake.texts(FAMILY) == after_agree
        assert await app_of(service).store.inbox.count_pending() == 0


async def test_after_a_restart_the_conversation_goes_on_and_nothing_is_lost_or_repeated(
    fake: FakeTelegram, config: Config
) -> None:
    async with running(config) as service:
        await settle(service, fake, fake.send_start(FAMILY))
        await press(service, fake, "agree")
    # While the bot is down the family presses "talk" on the menu and writes again.
    fake.press(FAMILY, "talk")
    waiting = fake.send_text(FAMILY, "cerai")
    async with running(config) as service:
        await settle(service, fake, waiting)
        texts = fake.texts(FAMILY)
        assert texts[-1].startswith(DANGER_QUESTION), "both waiting updates were processed"
        assert len(texts) == len(set(texts)), "a reply was sent twice"
        await press(service, fake, "no")
        assert fake.texts(FAMILY)[-1].startswith(VIOLENCE_QUESTION)
    greetings = [t for t in fake.texts(FAMILY) if "selamat datang" in t.lower()]
    assert len(greetings) == 1


async def test_typing_is_shown_when_a_reply_is_slow_to_come(
    fake: FakeTelegram, config: Config
) -> None:
    tuning = dataclasses.replace(FAST, typing_delay=0.0)
    async with running(config, tuning) as service:
        await settle(service, fake, fake.send_start(FAMILY))
        await fake.wait_for(lambda: fake.calls_to("sendChatAction"))
    [call] = fake.calls_to("sendChatAction")
    assert call.params == {"chat_id": str(FAMILY), "action": "typing"}


async def test_a_failing_typing_action_never_holds_up_a_reply(
    fake: FakeTelegram, config: Config
) -> None:
    tuning = dataclasses.replace(FAST, typing_delay=0.0)
    fake.fail("sendChatAction", "server_error", times=5)
    async with running(config, tuning) as service:
        await settle(service, fake, fake.send_start(FAMILY))
        assert "selamat datang" in fake.texts(FAMILY)[0].lower()


async def test_a_message_with_a_nul_is_kept_and_answered(
    fake: FakeTelegram, config: Config
) -> None:
    """PostgreSQL's text cannot hold U+0000 (bot.storable): the words are kept with U+FFFD."""
    async with running(config) as service:
        await settle(service, fake, fake.send_text(FAMILY, "halo\x00"))
        assert "selamat datang" in fake.texts(FAMILY)[0].lower()
        row = await app_of(service).store.inbox.get(1)
        assert row is not None and row.text == "halo\ufffd"
