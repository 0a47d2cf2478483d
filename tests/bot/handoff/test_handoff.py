"""The safety hand-off end to end: alerts, escalation, take races, relays, silence, close.

Through the real python-telegram-bot and the fake Bot API. The app's clock is
injected, and escalation passes are run by hand (`run_once`) at chosen times,
so nothing here waits for a timer.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path

import pytest
from support import Clock, free_port
from telegram_api import FakeTelegram
from telegram_support import app_of, contact, running, settle, telegram_config, text

from bot.app import App
from bot.config import Config, Web
from bot.handoff.alerts import TAKE_PREFIX
from bot.run import Service
from flows.state import SessionState
from storage.handoff.records import LiveCase

pytestmark = pytest.mark.e2e

FAMILY = 7001
SARI = 9101  # counsellor
BUDI = 9102  # counsellor
MAYA = 9103  # supervisor
STRANGER = 9104
URGENT_WORDS = "suami saya memukuli saya sekarang"


@pytest.fixture
def config(tmp_path: Path, fake: FakeTelegram) -> Config:
    base = telegram_config(tmp_path / "data", fake)
    return dataclasses.replace(base, web=Web(host="127.0.0.1", port=free_port()))


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def service(config: Config, clock: Clock) -> AsyncIterator[Service]:
    async with running(config, clock=clock) as running_service:
        yield running_service


async def link(service: Service, fake: FakeTelegram, chat: int, name: str, role: str) -> int:
    app = app_of(service)
    member = await app.store.staff.add(name.lower(), name, [role], app_clock(app))
    code = await app.store.staff.issue_link_code(member.id, app_clock(app))
    await settle(service, fake, fake.send_text(chat, f"/link {code}"))
    return member.id


def app_clock(app: App) -> datetime:
    assert app.handoff is not None
    return app.handoff.now()


async def staff(service: Service, fake: FakeTelegram) -> None:
    await link(service, fake, SARI, "Sari", "counsellor")
    await link(service, fake, BUDI, "Budi", "counsellor")
    await link(service, fake, MAYA, "Maya", "supervisor")


async def escalate(service: Service) -> None:
    app = app_of(service)
    assert app.escalation is not None
    await app.escalation.run_once()
    await app.wait_idle()


async def live_case(service: Service) -> LiveCase:
    app = app_of(service)
    case = await app.store.handoff.live_for((await contact(service, FAMILY)).id)
    assert case is not None
    return case


def alerts(fake: FakeTelegram, chat: int) -> list[str]:
    return [m.text for m in fake.messages(chat) if m.keyboard or "KASUS" in m.text]


def take_button(fake: FakeTelegram, chat: int) -> int:
    for message in reversed(fake.messages(chat)):
        if any(data.startswith(TAKE_PREFIX) for _, data in message.buttons()):
            return message.message_id
    raise AssertionError(f"chat {chat} shows no take button")


async def urgent_case(service: Service, fake: FakeTelegram) -> LiveCase:
    await settle(service, fake, fake.send_text(FAMILY, URGENT_WORDS))
    await escalate(service)
    return await live_case(service)


async def take(service: Service, fake: FakeTelegram, chat: int, case: LiveCase) -> None:
    message_id = take_button(fake, chat)
    await settle(service, fake, fake.press(chat, f"{TAKE_PREFIX}{case.id}", message_id=message_id))
    await app_of(service).wait_idle()


# --- alerts and escalation ---------------------------------------------------------


async def test_urgent_message_gets_safety_reply_and_alerts_every_counsellor_when_none_on_duty(
    service: Service, fake: FakeTelegram
) -> None:
    await staff(service, fake)
    case = await urgent_case(service, fake)
    assert any("112" in t or "129" in t for t in fake.texts(FAMILY)), "the hotlines at once"
    assert case.urgency == "darurat" and case.status == "open"
    for chat in (SARI, BUDI, MAYA):
        [alert] = alerts(fake, chat)
        assert case.code in alert and "DARURAT" in alert
        assert "memukuli" not in alert and str(FAMILY) not in alert, "nothing identifying"
        # The category and the kind of danger by name, as the console shows them.
        assert "Kategori: Krisis (Kekerasan sedang terjadi)" in alert, alert


async def test_urgent_alert_goes_to_the_on_duty_counsellor_repeats_then_widens(
    service: Service, fake: FakeTelegram, clock: Clock, config: Config
) -> None:
    await staff(service, fake)
    app = app_of(service)
    sari = await app.store.staff.by_username("sari")
    assert sari is not None
    await app.store.roster.add(sari.id, 0, 0, 1440, clock())
    for day in range(1, 7):
        await app.store.roster.add(sari.id, day, 0, 1440, clock())
    case = await urgent_case(service, fake)
    assert len(alerts(fake, SARI)) == 1
    assert alerts(fake, BUDI) == [] and alerts(fake, MAYA) == []
    await escalate(service)
    assert len(alerts(fake, SARI)) == 1, "no repeat before the interval"
    clock.advance(minutes=config.escalation.realert_minutes)
    await escalate(service)
    assert len(alerts(fake, SARI)) == 2, "repeated until someone takes it"
    assert alerts(fake, MAYA) == []
    clock.advance(minutes=config.escalation.widen_after_minutes)
    await escalate(service)
    assert len(alerts(fake, SARI)) == 3
    assert len(alerts(fake, MAYA)) == 1, "widened to the supervisors"
    events = [e.event for e in await app.store.handoff.events(case.id)]
    assert events[:2] == ["opened", "alerted"]
    assert "realerted" in events and "widened" in events and "family_reminded" in events
    assert any("belum ada konselor yang membalas" in t for t in fake.texts(FAMILY)), "reminder"


async def test_a_case_nobody_can_be_alerted_to_is_logged_once_per_interval_not_every_pass(
    service: Service,
    fake: FakeTelegram,
    clock: Clock,
    config: Config,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.ERROR, logger="bot.handoff.escalation")
    case = await urgent_case(service, fake)  # no staff member has a linked chat
    for _ in range(5):  # a pass runs after every turn, so there are many
        await escalate(service)

    def said() -> list[str]:
        return [r.getMessage() for r in caplog.records if "no staff member" in r.getMessage()]

    assert said() == [f"case {case.id}: urgent, but no staff member has a linked chat to alert"]
    clock.advance(minutes=config.escalation.realert_minutes)
    await escalate(service)
    assert len(said()) == 2, "said again once the re-alert interval has passed"
    assert URGENT_WORDS not in caplog.text and str(FAMILY) not in caplog.text


async def test_two_counsellors_pressing_take_at_once_make_exactly_one_owner(
    service: Service, fake: FakeTelegram
) -> None:
    await staff(service, fake)
    case = await urgent_case(service, fake)
    sari_alert, budi_alert = take_button(fake, SARI), take_button(fake, BUDI)
    presses = [
        fake.press(SARI, f"{TAKE_PREFIX}{case.id}", message_id=sari_alert),
        fake.press(BUDI, f"{TAKE_PREFIX}{case.id}", message_id=budi_alert),
    ]
    await settle(service, fake, *presses)
    await app_of(service).wait_idle()
    taken = await live_case(service)
    assert taken.status == "taken" and taken.owner_staff_id is not None
    owner_name = "Sari" if taken.owner_staff_id == 1 else "Budi"
    edited = text("handoff.alert_taken", code=case.code, name=owner_name)
    for chat in (SARI, BUDI, MAYA):
        assert [m.text for m in fake.messages(chat)].count(edited) == 1, "every alert edited"
        assert not any(m.keyboard for m in fake.messages(chat)), "no take button left"
    loser = BUDI if owner_name == "Sari" else SARI
    assert text("handoff.held_by_other", code=case.code, name=owner_name) in fake.texts(loser)
    takes = [e for e in await app_of(service).store.handoff.events(case.id) if e.event == "taken"]
    assert len(takes) == 1


async def test_an_unlinked_account_pressing_take_learns_nothing(
    service: Service, fake: FakeTelegram
) -> None:
    await staff(service, fake)
    case = await urgent_case(service, fake)
    await settle(service, fake, fake.send_text(STRANGER, "halo"))
    before = len(fake.texts(STRANGER))
    last = fake.messages(STRANGER)[-1].message_id
    press = fake.press(STRANGER, f"{TAKE_PREFIX}{case.id}", force=True, message_id=last)
    await settle(service, fake, press)
    replies = fake.texts(STRANGER)[before:]
    assert replies == [text("handoff.take_refused")]
    assert (await live_case(service)).status == "open"


# --- relay, silence, close -------------------------------------------------------------


async def test_relay_both_ways_hides_identities_and_the_bot_stays_silent(
    service: Service, fake: FakeTelegram, clock: Clock, config: Config
) -> None:
    await staff(service, fake)
    case = await urgent_case(service, fake)
    await take(service, fake, SARI, case)
    assert text("handoff.family_connected") in fake.texts(FAMILY)
    family_before = len(fake.texts(FAMILY))
    await settle(service, fake, fake.send_text(FAMILY, "menu"))
    await settle(service, fake, fake.send_text(FAMILY, "saya takut dia pulang"))
    assert fake.texts(FAMILY)[family_before:] == [], "no flow reply during the hand-off"
    relayed = fake.texts(SARI)[-2:]
    assert relayed == [
        text("handoff.relayed_in", code=case.code, text="menu"),
        text("handoff.relayed_in", code=case.code, text="saya takut dia pulang"),
    ]
    # The counsellor answers by replying to the relayed message.
    last = fake.messages(SARI)[-1].message_id
    await settle(service, fake, fake.send_text(SARI, "Ibu aman sekarang?", reply_to=last))
    await app_of(service).wait_idle()
    assert fake.texts(FAMILY)[-1] == "Ibu aman sekarang?"
    # A voice note reaches the counsellor by copy, nothing stored.
    await settle(service, fake, fake.send_content(FAMILY, "voice"))
    await app_of(service).wait_idle()
    assert fake.copies and fake.copies[-1][0] == FAMILY and fake.copies[-1][2] == SARI
    for call in fake.calls:
        chat = str(call.params.get("chat_id", ""))
        words = str(call.params.get("text", "")) + str(call.params.get("caption", ""))
        if chat == str(SARI):
            assert str(FAMILY) not in words, "the family's chat id never reaches the counsellor"
        if chat == str(FAMILY):
            assert str(SARI) not in words and "Sari" not in words
    # An urgent message during the hand-off: hotlines to the family, a marked relay.
    await settle(service, fake, fake.send_text(FAMILY, "dia bawa pisau mau bunuh saya"))
    await app_of(service).wait_idle()
    assert fake.texts(SARI)[-1].startswith("‼️")
    assert fake.texts(FAMILY)[-1].startswith(text("handoff.family_urgent").split(".")[0])
    clock.advance(minutes=config.escalation.realert_minutes)
    await escalate(service)
    assert text(
        "handoff.owner_ping", code=case.code, waiting=str(config.escalation.realert_minutes)
    ) in fake.texts(SARI)


async def test_no_booking_reminder_or_flow_reply_reaches_a_family_in_a_hand_off(
    service: Service, fake: FakeTelegram
) -> None:
    await staff(service, fake)
    case = await urgent_case(service, fake)
    await take(service, fake, SARI, case)
    before = len(fake.texts(FAMILY))
    await settle(service, fake, fake.send_start(FAMILY))
    await settle(service, fake, fake.send_text(FAMILY, "info"))
    assert fake.texts(FAMILY)[before:] == []


async def test_close_offers_feedback_and_the_flows_resume(
    service: Service, fake: FakeTelegram
) -> None:
    await staff(service, fake)
    case = await urgent_case(service, fake)
    await take(service, fake, SARI, case)
    await settle(service, fake, fake.send_text(SARI, "/catatan ibu sudah di rumah saudara"))
    await settle(service, fake, fake.send_text(SARI, "/rujuk uptd_ppa"))
    await settle(service, fake, fake.send_text(SARI, "/tutup aman nilai"))
    await app_of(service).wait_idle()
    closed = await app_of(service).store.handoff.get(case.id)
    assert closed is not None and closed.status == "closed" and closed.outcome == "aman"
    assert text("handoff.family_closed") in fake.texts(FAMILY)
    assert fake.latest_keyboard(FAMILY).buttons()[0][1] == "1", "the feedback question"
    notes = await app_of(service).store.handoff.notes(case.id)
    assert [n.text for n in notes] == ["ibu sudah di rumah saudara"]
    [referral] = await app_of(service).store.handoff.referrals(case.id)
    assert referral.service == "uptd_ppa"
    before = len(fake.texts(FAMILY))
    await settle(service, fake, fake.press(FAMILY, "5"))
    assert len(fake.texts(FAMILY)) > before, "the bot answers the family again"
    events = [e.event for e in await app_of(service).store.handoff.events(case.id)]
    assert events == ["opened", "alerted", "taken", "noted", "referred", "closed"]


async def test_queue_lists_the_longest_waiting_first_not_the_latest_active(
    service: Service, fake: FakeTelegram, clock: Clock
) -> None:
    await staff(service, fake)
    await settle(service, fake, fake.send_text(FAMILY, URGENT_WORDS))
    clock.advance(minutes=3)
    await settle(service, fake, fake.send_text(7101, "saya mau bunuh diri malam ini"))
    clock.advance(minutes=1)
    await settle(service, fake, fake.send_text(7101, "tolong"))  # later activity changes nothing
    queue = await app_of(service).store.handoff.queue()
    first = await live_case(service)
    assert [c.urgency for c in queue] == ["darurat", "darurat"]
    assert queue[0].id == first.id
    await settle(service, fake, fake.send_text(SARI, "/antrian"))
    listing = fake.texts(SARI)[-1]
    assert listing.index(queue[0].code) < listing.index(queue[1].code)
    assert "4 menit" in listing


# --- a crisis anywhere -------------------------------------------------------------

BEFORE_CRISIS = {
    "the consent question": ["/start"],
    "the main menu": ["/start", "1"],
    "the information topics": ["/start", "1", "1"],
    "triage, the kind of problem": ["/start", "1", "2"],
    "triage, who is affected": ["/start", "1", "2", "1", "2"],
    "booking, the choice of mode": ["/start", "1", "3"],
    "the language question": ["/start", "1", "bahasa"],
}
CRISIS_WORDS = [
    "aku pengen mati aja",
    "beta su seng kuat lai, beta mau bunuh diri",
    "my husband is beating me right now",
    "anak saya dipukuli bapaknya sekarang",
]


@pytest.mark.parametrize("where", sorted(BEFORE_CRISIS))
async def test_a_crisis_message_at_any_point_of_any_flow_gets_help_and_an_alert(
    service: Service, fake: FakeTelegram, where: str
) -> None:
    await link(service, fake, SARI, "Sari", "counsellor")
    for words in BEFORE_CRISIS[where]:
        await settle(service, fake, fake.send_text(FAMILY, words))
    before = len(fake.texts(FAMILY))
    crisis = CRISIS_WORDS[sorted(BEFORE_CRISIS).index(where) % len(CRISIS_WORDS)]
    await settle(service, fake, fake.send_text(FAMILY, crisis))
    await escalate(service)
    replies = fake.texts(FAMILY)[before:]
    assert any("112" in t for t in replies), f"no hotlines after a crisis at {where}"
    case = await live_case(service)
    assert case.urgency == "darurat"
    [alert] = alerts(fake, SARI)
    assert case.code in alert


# --- a family who left in a hurry ------------------------------------------------------


async def test_after_a_quick_exit_nothing_reaches_the_family_until_they_write_again(
    service: Service, fake: FakeTelegram, clock: Clock, config: Config
) -> None:
    """The report: after `keluar`, a counsellor pressing Ambil made the bot notify the
    family's phone that a counsellor was reading. Now nothing is sent, the counsellor is
    told what happened and what to do, and the family's next message opens the way."""
    await staff(service, fake)
    case = await urgent_case(service, fake)
    await settle(service, fake, fake.send_text(FAMILY, "keluar"))
    await app_of(service).wait_idle()
    after_exit = len(fake.texts(FAMILY))

    await take(service, fake, SARI, case)
    warning = fake.texts(SARI)[-1]
    assert "keluar" in warning and "jangan menelepon" in warning.lower()
    await settle(service, fake, fake.send_text(SARI, "Ibu, apakah aman?"))
    await app_of(service).wait_idle()
    assert fake.texts(SARI)[-1] == text("handoff.family_left_not_sent", code=case.code)
    clock.advance(minutes=config.escalation.remind_family_minutes + 1)
    await escalate(service)
    assert len(fake.texts(FAMILY)) == after_exit, "no notice, reply or reminder"

    await settle(service, fake, fake.send_text(FAMILY, "sekarang sudah aman, bisa bicara"))
    await app_of(service).wait_idle()
    assert fake.texts(SARI)[-1] == text(
        "handoff.relayed_in", code=case.code, text="sekarang sudah aman, bisa bicara"
    )
    await settle(service, fake, fake.send_text(SARI, "Baik Ibu, saya di sini."))
    await app_of(service).wait_idle()
    assert fake.texts(FAMILY)[-1] == "Baik Ibu, saya di sini."


async def test_a_quick_exit_during_a_hand_off_is_carried_out_and_the_owner_warned(
    service: Service, fake: FakeTelegram
) -> None:
    await staff(service, fake)
    case = await urgent_case(service, fake)
    await take(service, fake, SARI, case)
    await settle(service, fake, fake.send_text(FAMILY, "keluar"))
    await app_of(service).wait_idle()
    assert fake.texts(FAMILY)[-1] == "Oke, terima kasih.", "the neutral reply, not a relay"
    assert not any("keluar" == t.split(": ")[-1] for t in fake.texts(SARI)), "not relayed"
    assert "jangan menelepon" in fake.texts(SARI)[-1].lower()
    held = await app_of(service).store.handoff.get(case.id)
    assert held is not None and held.status == "taken", "the case stays with its owner"
    await settle(service, fake, fake.send_text(SARI, "/tutup aman"))
    await app_of(service).wait_idle()
    assert fake.texts(FAMILY)[-1] == "Oke, terima kasih.", "no closing note or survey either"
    family = await contact(service, FAMILY)
    session = await app_of(service).store.sessions.get(family.id)
    assert session is None or SessionState.from_json(session).current_flow != "feedback"


# --- a family who asked for a person -------------------------------------------------


async def test_asking_for_a_person_holds_the_conversation_for_them(
    service: Service, fake: FakeTelegram
) -> None:
    """The report: after "Bicara dengan petugas" the family's next message was answered
    with a "welcome back" menu. Now it is kept for the person, with when they answer."""
    await staff(service, fake)
    await settle(service, fake, fake.send_start(FAMILY))
    await settle(service, fake, fake.press_label(FAMILY, "Setuju"))
    await settle(service, fake, fake.send_text(FAMILY, "zzz"))
    await settle(service, fake, fake.send_text(FAMILY, "qqq"))
    await settle(service, fake, fake.press_label(FAMILY, "Bicara dengan petugas"))
    assert "Sambil menunggu" in fake.texts(FAMILY)[-1]
    await settle(service, fake, fake.send_text(FAMILY, "anak saya belum pulang dari kemarin"))
    held = fake.texts(FAMILY)[-1]
    assert "tersimpan untuk petugas kami" in held and "selamat datang kembali" not in held
    case = await live_case(service)
    await settle(service, fake, fake.send_text(SARI, f"/ambil {case.code}"))
    await app_of(service).wait_idle()
    await settle(service, fake, fake.send_text(FAMILY, "halo kak"))
    assert fake.texts(SARI)[-1] == text("handoff.relayed_in", code=case.code, text="halo kak")


async def test_an_urgent_case_closed_without_nilai_asks_the_family_no_rating(
    service: Service, fake: FakeTelegram
) -> None:
    await staff(service, fake)
    case = await urgent_case(service, fake)
    await take(service, fake, SARI, case)
    await settle(service, fake, fake.send_text(SARI, "/tutup aman"))
    await app_of(service).wait_idle()
    closed = await app_of(service).store.handoff.get(case.id)
    assert closed is not None and closed.status == "closed"
    assert fake.texts(FAMILY)[-1] == text("handoff.family_closed"), "thanked, not asked to rate"
