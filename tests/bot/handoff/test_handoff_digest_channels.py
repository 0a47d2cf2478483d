"""Alert digests through the real transports: python-telegram-bot against the fake Bot API,
and the twilio library against the fake Twilio API (a counsellor linked on WhatsApp).

Escalation passes are run by hand after the families have written, so every case is
due in the same pass; the background pass is stopped for that.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import whatsapp_support as wa
from booking_support import T0
from support import Clock, free_port
from telegram_api import FakeTelegram, SentMessage
from telegram_support import app_of, channel_of, contact, running, settle, telegram_config, text
from twilio_api import FakeTwilio

from bot.app import App
from bot.channels.base import ButtonEditor
from bot.config import Web, WhatsAppTemplates
from bot.handoff.alerts import TAKE_PREFIX
from bot.run import Service
from storage.handoff.records import LiveCase

pytestmark = pytest.mark.e2e

FAMILIES = (7201, 7202, 7203)
SARI, BUDI = 9201, 9202
URGENT_WORDS = "nama saya Maria, suami saya memukuli saya sekarang"


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as server:
        yield server


@pytest.fixture
async def service(tmp_path: Path, fake: FakeTelegram) -> AsyncIterator[Service]:
    base = telegram_config(tmp_path / "data", fake)
    config = dataclasses.replace(base, web=Web(host="127.0.0.1", port=free_port()))
    async with running(config) as running_service:
        yield running_service


async def hand_escalation(app: App) -> None:
    """Stops the background pass: the test runs each pass itself."""
    assert app.escalation is not None
    await app.escalation.stop()


async def escalate(app: App) -> None:
    assert app.escalation is not None
    await app.escalation.run_once()
    await app.wait_idle()


def alerts(fake: FakeTelegram, chat: int) -> list[SentMessage]:
    return [m for m in fake.messages(chat) if "KASUS" in m.text]


async def link_on_telegram(service: Service, fake: FakeTelegram, chat: int, name: str) -> None:
    app = app_of(service)
    assert app.handoff is not None
    member = await app.store.staff.add(name.lower(), name, ["counsellor"], app.handoff.now())
    code = await app.store.staff.issue_link_code(member.id, app.handoff.now())
    await settle(service, fake, fake.send_text(chat, f"/link {code}"))


async def telegram_case(service: Service, chat: int) -> LiveCase:
    case = await app_of(service).store.handoff.live_for((await contact(service, chat)).id)
    assert case is not None
    return case


async def test_on_telegram_one_digest_per_counsellor_and_a_take_shows_in_the_others(
    service: Service, fake: FakeTelegram
) -> None:
    app = app_of(service)
    await link_on_telegram(service, fake, SARI, "Sari")
    await link_on_telegram(service, fake, BUDI, "Budi")
    await hand_escalation(app)
    for chat in FAMILIES:
        await settle(service, fake, fake.send_text(chat, URGENT_WORDS))
    first, second, third = [await telegram_case(service, chat) for chat in FAMILIES]
    await escalate(app)
    for chat in (SARI, BUDI):
        [digest] = alerts(fake, chat)
        assert [data for _, data in digest.buttons()] == [
            f"{TAKE_PREFIX}{case.id}" for case in (first, second, third)
        ]
        assert all(case.code in digest.text for case in (first, second, third))
        assert "Maria" not in digest.text and "memukuli" not in digest.text
        assert all(str(family) not in digest.text for family in FAMILIES)
    # Sari takes the second case with its button.
    [sari_digest] = alerts(fake, SARI)
    press = fake.press(SARI, f"{TAKE_PREFIX}{second.id}", message_id=sari_digest.message_id)
    await settle(service, fake, press)
    await app.wait_idle()
    [budi_digest] = alerts(fake, BUDI)
    taken = text("handoff.digest_taken", number="2", code=second.code, name="Sari")
    assert taken in budi_digest.text and taken in alerts(fake, SARI)[0].text
    assert first.code in budi_digest.text and third.code in budi_digest.text
    if isinstance(channel_of(service), ButtonEditor):
        assert [data for _, data in budi_digest.buttons()] == [
            f"{TAKE_PREFIX}{first.id}",
            f"{TAKE_PREFIX}{third.id}",
        ]
    else:
        assert text("handoff.digest_foot_typed") in budi_digest.text
    # Budi takes the first by command, then answers by replying to the digest itself.
    await settle(service, fake, fake.send_text(BUDI, f"/ambil {first.code}"))
    reply = fake.send_text(BUDI, "Ibu sekarang aman?", reply_to=budi_digest.message_id)
    await settle(service, fake, reply)
    await app.wait_idle()
    assert fake.texts(FAMILIES[0])[-1] == "Ibu sekarang aman?", "to the case Budi holds"
    assert "Ibu sekarang aman?" not in fake.texts(FAMILIES[2])
    events = [e.event for e in await app.store.handoff.events(second.id)]
    assert events.count("taken") == 1 and events.count("alerted") == 1
    # Holding two cases of that digest, a reply to it could be for either family:
    # the bot asks which case instead of guessing, and neither family gets it.
    await settle(service, fake, fake.send_text(BUDI, f"/ambil {third.code}"))
    unsure = fake.send_text(BUDI, "Apakah anak-anak aman?", reply_to=budi_digest.message_id)
    await settle(service, fake, unsure)
    await app.wait_idle()
    for family in (FAMILIES[0], FAMILIES[2]):
        assert "Apakah anak-anak aman?" not in fake.texts(family)


# --- a counsellor on WhatsApp ------------------------------------------------------------

SARI_WA = "+6281299990001"
FAMILIES_WA = ("+6281234567101", "+6281234567102")


@pytest.fixture
async def twilio() -> AsyncIterator[FakeTwilio]:
    async with FakeTwilio() as server:
        yield server


@pytest.mark.parametrize("templates", [wa.NO_TEMPLATES, wa.TEMPLATES], ids=["list", "buttons"])
async def test_a_counsellor_on_whatsapp_gets_one_digest_and_takes_a_case_from_it(
    tmp_path: Path, twilio: FakeTwilio, templates: WhatsAppTemplates
) -> None:
    config = wa.whatsapp_config(tmp_path / "data", twilio, templates=templates)
    async with wa.running(config, twilio, Clock(T0)) as service:
        app = wa.app_of(service)
        member = await app.store.staff.add("sari", "Sari", ["counsellor"], T0)
        code = await app.store.staff.issue_link_code(member.id, T0)
        await wa.say(service, twilio, f"/link {code}", SARI_WA)
        await hand_escalation(app)
        for number in FAMILIES_WA:
            await wa.say(service, twilio, URGENT_WORDS, number)
        cases = []
        for number in FAMILIES_WA:
            found = await app.store.handoff.live_for((await wa.contact(service, number)).id)
            assert found is not None
            cases.append(found)
        before = len(twilio.messages_to(SARI_WA))
        await escalate(app)
        [digest] = twilio.messages_to(SARI_WA)[before:]
        shown = digest.body + " ".join(digest.variables.values())
        assert all(case.code in shown for case in cases)
        assert "Maria" not in shown and "memukuli" not in shown
        assert all(number not in shown for number in FAMILIES_WA)
        assert bool(digest.content_sid) == (templates == wa.TEMPLATES)
        if digest.content_sid:
            # The office's quick-reply template: a press carries the take button's data.
            label = text("handoff.take_button", code=cases[1].code)
            [key] = [k for k, v in digest.variables.items() if v == label]
            data = digest.variables[str(int(key) + 1)]
            assert data == f"{TAKE_PREFIX}{cases[1].id}"
            answer = await twilio.press(SARI_WA, data, label)
            assert answer.status_code == 200
        else:
            await twilio.send_text(SARI_WA, f"/ambil {cases[1].code}")
        await wa.settle(service)
        held = await app.store.handoff.get(cases[1].id)
        assert held is not None and held.owner_staff_id == member.id
        # WhatsApp cannot edit a message: the change comes as a new one.
        assert text("handoff.alert_taken", code=cases[1].code, name="Sari") in (
            twilio.texts_to(SARI_WA)
        )
