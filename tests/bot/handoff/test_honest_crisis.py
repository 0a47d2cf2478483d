"""A family in crisis on Telegram is told the truth, and the conversation goes on from safety.

Played from the family's side through the real python-telegram-bot and the fake Bot
API: what they send, what they see. Who the bot says was told must be who the
escalation alerts (both read `bot/handoff/reach.py`): nobody linked, a counsellor on
duty, out of hours with linked staff. After the safety question the family is never
sent back to the question the crisis cut into (consent, triage): they may keep
writing for the counsellor, see the numbers again, or go to the menu.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from support import Clock
from telegram_api import FakeTelegram
from telegram_support import app_of, contact, running, session, settle, telegram_config, text

from bot.config import Config
from bot.run import Service

pytestmark = pytest.mark.e2e

FAMILY = 7301
SARI = 9301  # counsellor
BUDI = 9302  # counsellor
MAYA = 9303  # supervisor
URGENT_WORDS = "suami saya memukuli saya sekarang"
MONDAY_10 = datetime(2026, 12, 7, 1, 0, tzinfo=UTC)  # Monday 10:00 WIT (Asia/Jayapura)
MONDAY_22 = datetime(2026, 12, 7, 13, 0, tzinfo=UTC)  # Monday 22:00 WIT
SAFETY_QUESTION = "Apakah Anda sekarang berada di tempat yang aman?"
AFTER_SAFETY = [("Tunggu konselor di sini", "wait"), ("Nomor darurat", "numbers")]
CONSENT_QUESTION = "Apakah Anda setuju data Anda kami simpan"
TOLD_SOMEONE = "sudah kami beri tahu"


@pytest.fixture
def clock() -> Clock:
    return Clock(MONDAY_10)


@pytest.fixture
def config(tmp_path: Path, fake: FakeTelegram) -> Config:
    return telegram_config(tmp_path / "data", fake)


@pytest.fixture
async def service(config: Config, clock: Clock) -> AsyncIterator[Service]:
    async with running(config, clock=clock) as running_service:
        yield running_service


def told(config: Config, situation: str, language: str = "id") -> str:
    return text(f"handoff.told.{situation}", language, **config.context_values(language))


async def link(service: Service, fake: FakeTelegram, chat: int, name: str, role: str) -> int:
    app = app_of(service)
    member = await app.store.staff.add(name.lower(), name, [role], MONDAY_10)
    code = await app.store.staff.issue_link_code(member.id, MONDAY_10)
    await settle(service, fake, fake.send_text(chat, f"/link {code}"))
    return member.id


async def on_duty_monday_office_hours(service: Service, staff_id: int) -> None:
    await app_of(service).store.roster.add(staff_id, 0, 8 * 60, 16 * 60, MONDAY_10)


async def escalate(service: Service) -> None:
    app = app_of(service)
    assert app.escalation is not None
    await app.escalation.run_once()
    await app.wait_idle()


def alerted(fake: FakeTelegram, chat: int) -> bool:
    return any("KASUS" in m.text for m in fake.messages(chat))


async def say(service: Service, fake: FakeTelegram, words: str) -> str:
    """Sends the family's words; all the bot answered to them (Telegram may group replies)."""
    before = len(fake.texts(FAMILY))
    await settle(service, fake, fake.send_text(FAMILY, words))
    return "\n\n".join(fake.texts(FAMILY)[before:])


async def press(service: Service, fake: FakeTelegram, value: str) -> str:
    before = len(fake.texts(FAMILY))
    await settle(service, fake, fake.press(FAMILY, value))
    return "\n\n".join(fake.texts(FAMILY)[before:])


def buttons(fake: FakeTelegram) -> list[tuple[str, str]]:
    return fake.latest_keyboard(FAMILY).buttons()


# --- who is told ----------------------------------------------------------------------


async def test_with_no_counsellor_linked_the_family_is_told_nobody_could_be_reached(
    service: Service, fake: FakeTelegram, config: Config
) -> None:
    replies = await say(service, fake, URGENT_WORDS)
    assert "112" in replies, "the hotlines at once"
    assert told(config, "nobody") in replies
    assert "Senin–Jumat, 08.00–16.00 WIT" in told(config, "nobody"), "when an answer may come"
    assert TOLD_SOMEONE not in replies and "diberi tahu" not in replies, "no false promise"
    await escalate(service)
    case = await app_of(service).store.handoff.live_for((await contact(service, FAMILY)).id)
    assert case is not None and case.urgency == "darurat", "the case waits in the queue"
    assert case.alerted_at is None, "and indeed nobody was alerted"

    await say(service, fake, "ya")
    replies = await press(service, fake, "wait")
    assert told(config, "nobody") in replies, "said again while they wait"


async def test_with_a_counsellor_on_duty_the_family_hears_that_the_counsellor_on_duty_was_told(
    service: Service, fake: FakeTelegram, config: Config
) -> None:
    sari = await link(service, fake, SARI, "Sari", "counsellor")
    await link(service, fake, BUDI, "Budi", "counsellor")
    await on_duty_monday_office_hours(service, sari)
    replies = await say(service, fake, URGENT_WORDS)
    assert told(config, "on_duty") in replies
    await escalate(service)
    assert alerted(fake, SARI) and not alerted(fake, BUDI), "the words match who is alerted"


async def test_out_of_hours_the_family_is_told_so_with_the_office_hours(
    service: Service, fake: FakeTelegram, config: Config, clock: Clock
) -> None:
    sari = await link(service, fake, SARI, "Sari", "counsellor")
    await link(service, fake, MAYA, "Maya", "supervisor")
    await on_duty_monday_office_hours(service, sari)
    clock.now = MONDAY_22
    replies = await say(service, fake, URGENT_WORDS)
    out_of_hours = told(config, "off_hours")
    assert "di luar jam tugas" in out_of_hours and "08.00–16.00" in out_of_hours
    assert out_of_hours in replies
    await escalate(service)
    assert alerted(fake, SARI) and alerted(fake, MAYA), "out of hours every linked one is told"


async def test_the_reminder_after_a_wait_says_who_was_told_without_pretending(
    service: Service, fake: FakeTelegram, config: Config, clock: Clock
) -> None:
    await say(service, fake, URGENT_WORDS)
    clock.advance(minutes=config.escalation.remind_family_minutes)
    before = len(fake.texts(FAMILY))
    await escalate(service)
    [reminder] = fake.texts(FAMILY)[before:]
    assert "belum ada konselor yang membalas" in reminder
    assert told(config, "nobody") in reminder and "112" in reminder
    assert "masih berusaha" not in reminder


# --- the conversation after a crisis ----------------------------------------------------


async def test_after_a_crisis_at_the_consent_question_the_conversation_goes_on_from_safety(
    service: Service, fake: FakeTelegram, config: Config
) -> None:
    await say(service, fake, "halo")
    assert CONSENT_QUESTION in fake.texts(FAMILY)[-1]
    replies = await say(service, fake, URGENT_WORDS)
    assert replies.endswith(SAFETY_QUESTION + " (ya / tidak)")

    replies = await say(service, fake, "ya, saya di rumah tetangga")
    assert CONSENT_QUESTION not in replies, "the consent question is not resumed"
    assert "boleh terus menulis di sini" in replies
    assert buttons(fake) == [*AFTER_SAFETY, ("Menu utama", "menu")]

    replies = await say(service, fake, "setuju")  # an answer to the old question: a message now
    assert replies.startswith("Terima kasih, pesan Anda sudah tersimpan untuk konselor")
    assert CONSENT_QUESTION not in replies

    replies = await say(service, fake, "dia masih di luar, aku takut dia pukul lagi")
    assert "pesan Anda sudah tersimpan untuk konselor" in replies, "acknowledged kindly"
    assert "belum mengerti" not in replies, "never 'not understood'"
    case = await app_of(service).store.handoff.live_for((await contact(service, FAMILY)).id)
    assert case is not None and case.urgency == "darurat"

    replies = await press(service, fake, "numbers")
    assert "112" in replies and "129" in replies
    replies = await press(service, fake, "menu")
    assert CONSENT_QUESTION in replies, "consent again only when the family chose the menu"


async def test_after_a_crisis_in_the_middle_of_triage_the_triage_question_is_left(
    service: Service, fake: FakeTelegram, config: Config
) -> None:
    await say(service, fake, "halo")
    await press(service, fake, "agree")
    await press(service, fake, "talk")
    replies = await press(service, fake, "ekonomi")
    assert "Sebelum lanjut, satu pertanyaan penting" in replies

    await say(service, fake, URGENT_WORDS)
    replies = await say(service, fake, "tidak, dia masih di rumah")
    assert "pergilah sekarang ke tempat yang lebih aman" in replies
    assert buttons(fake) == [*AFTER_SAFETY, ("Menu utama", "menu")]
    assert (await session(service, FAMILY)).stack[0].flow == "crisis", "triage is left"

    replies = await say(service, fake, "tidak")  # the triage question's answer, typed late
    assert "pesan Anda sudah tersimpan untuk konselor" in replies
    assert "Siapa yang paling terdampak" not in replies and "Apakah ada anggota" not in replies

    assert buttons(fake) == [("Nomor darurat", "numbers"), ("Menu utama", "menu")]
    replies = await press(service, fake, "numbers")
    assert "112" in replies and "boleh terus menulis di sini" in replies
    replies = await press(service, fake, "wait")
    assert told(config, "nobody") in replies and "Tulis saja" in replies
    replies = await say(service, fake, "terima kasih ya")
    assert replies, "every message is answered"
    assert (await session(service, FAMILY)).current_flow == "crisis", "still waiting"


async def test_the_after_crisis_choices_in_english(
    fake: FakeTelegram, tmp_path: Path, clock: Clock
) -> None:
    base = telegram_config(tmp_path / "data", fake)
    config = dataclasses.replace(base, languages=("id", "en"))
    async with running(config, clock=clock) as service:
        await settle(service, fake, fake.send_start(FAMILY, "lang-en"))
        replies = await say(service, fake, "my husband is beating me right now")
        assert told(config, "nobody", "en") in replies
        await say(service, fake, "yes")
        assert buttons(fake) == [
            ("Wait here for a counsellor", "wait"),
            ("Emergency numbers", "numbers"),
            ("Main menu", "menu"),
        ]
