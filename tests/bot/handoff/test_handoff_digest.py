"""Counsellor alerts as digests, in one process: every case due goes to every on-duty
counsellor in as few messages as fit, a take shows everywhere, and a stop at any moment
of escalation neither loses an alert nor sends one twice.

The app runs on a temporary folder with an injected clock and a chat channel at the
network edge that keeps each chat as a phone shows it (edits applied). Escalation
passes are run by hand (`run_once`) where a test needs several cases due in one pass.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from bot_support import eventually, make_config
from support import Clock
from telegram_support import text

import bot.core.outbox
import bot.handoff.escalation
from bot.app import App
from bot.channels.base import ButtonEditor, Inbound, MessageEditor, Outbound, numbered_list
from bot.channels.telegram.protocol import MAX_TEXT
from bot.channels.textparts import split_text, utf16_len
from bot.core.turns import PRIORITY_ALERT, PRIORITY_URGENT
from bot.handoff.alerts import TAKE_PREFIX, AlertRenderer
from storage.handoff.digests import DIGEST_CASES, DIGEST_CASES_BY_CHANNEL
from storage.handoff.records import DigestLine, LiveCase
from storage.records import OutboxRef, OutboxRow, StaffMember

CRISIS = "nama saya Maria, suami saya memukuli saya sekarang"
SARI, BUDI, MAYA = "chat-sari", "chat-budi", "chat-maya"


START = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


@dataclasses.dataclass
class Shown:
    """A message as the chat shows it now."""

    id: str
    text: str
    options: tuple[tuple[str, str], ...]
    alert: bool  # it came with "take" buttons


class Phone:
    """Counsellors' and families' chats as their phones show them; edits words only
    (like Telegram's editMessageText as the bot uses it today)."""

    name = "test"
    buttons = True
    max_per_second = 1000.0
    per_chat_interval = 0.0

    def __init__(self) -> None:
        self.chats: dict[str, list[Shown]] = defaultdict(list)
        self._ids = itertools.count(1)

    async def send(self, message: Outbound) -> str:
        alert = any(value.startswith(TAKE_PREFIX) for value, _ in message.options)
        shown = Shown(str(next(self._ids)), message.text, message.options, alert)
        self.chats[message.address].append(shown)
        return shown.id

    async def edit_message(self, address: str, message_id: str, text: str) -> None:
        shown = self._find(address, message_id)
        shown.text, shown.options = text, ()

    def alerts(self, address: str) -> list[Shown]:
        return [shown for shown in self.chats[address] if shown.alert]

    def texts(self, address: str) -> list[str]:
        return [shown.text for shown in self.chats[address]]

    def _find(self, address: str, message_id: str) -> Shown:
        for shown in self.chats[address]:
            if shown.id == message_id:
                return shown
        raise AssertionError(f"no message {message_id} in {address}")


class ButtonPhone(Phone):
    """A chat channel that can also replace a message's buttons when it edits it."""

    async def edit_message_buttons(
        self, address: str, message_id: str, text: str, options: tuple[tuple[str, str], ...]
    ) -> None:
        shown = self._find(address, message_id)
        shown.text, shown.options = text, options


class Office:
    """The app with its people: counsellors linked from their chats, families writing."""

    def __init__(self, app: App, phone: Phone, clock: Clock) -> None:
        self.app = app
        self.phone = phone
        self.clock = clock
        self._count = itertools.count(1)

    async def say(self, address: str, words: str, kind: str = "text") -> None:
        number = next(self._count)
        await self.app.receive(Inbound("test", f"{address}:{number}", address, kind, words))
        await self.app.pipeline.wait_idle()

    async def link(self, address: str, name: str, role: str = "counsellor") -> StaffMember:
        store = self.app.store
        member = await store.staff.add(name.lower(), name, [role], self.clock())
        code = await store.staff.issue_link_code(member.id, self.clock())
        await self.say(address, f"/link {code}")
        return member

    async def on_duty(self, member: StaffMember) -> None:
        for day in range(7):
            await self.app.store.roster.add(member.id, day, 0, 1440, self.clock())

    async def crisis(self, address: str) -> LiveCase:
        await self.say(address, CRISIS)
        contact = await self.app.store.contacts.find("test", address)
        assert contact is not None
        case = await self.app.store.handoff.live_for(contact.id)
        assert case is not None and case.urgency == "darurat"
        return case

    async def escalate(self) -> None:
        assert self.app.escalation is not None
        await self.app.escalation.run_once()

    async def take_by_button(self, address: str, case: LiveCase) -> None:
        await self.say(address, f"{TAKE_PREFIX}{case.id}", kind="choice")
        await self.app.wait_idle()


@asynccontextmanager
async def office(
    folder: Path, phone: Phone, clock: Clock, *, start: bool = True
) -> AsyncIterator[Office]:
    app = await App.open(make_config(folder), [phone], clock=clock, env={})
    try:
        if start:
            await app.start()
        yield Office(app, phone, clock)
    finally:
        await app.stop()


async def families_in_crisis(place: Office, count: int) -> list[LiveCase]:
    """`count` families write a crisis message 15 s apart (so the oldest waits longest)."""
    opened = []
    for n in range(count):
        opened.append(await place.crisis(f"family-{n}"))
        place.clock.advance(minutes=0.25)
    return opened


def buttons(shown: Shown) -> list[tuple[str, str]]:
    return list(shown.options)


def take_buttons_for(cases: list[LiveCase]) -> list[tuple[str, str]]:
    return [(f"{TAKE_PREFIX}{c.id}", text("handoff.take_button", code=c.code)) for c in cases]


def assert_nothing_personal(shown: Shown, families: int) -> None:
    words = shown.text + " ".join(label for _, label in shown.options)
    assert "Maria" not in words and "memukuli" not in words, "never the family's words"
    for n in range(families):
        assert f"family-{n}" not in words, "never the family's address"


# --- digests -------------------------------------------------------------------------


@pytest.mark.parametrize("count", [1, 2, 9, 20])
async def test_cases_due_together_reach_every_on_duty_counsellor_in_as_few_messages_as_fit(
    tmp_path: Path, count: int
) -> None:
    phone, clock = Phone(), Clock(START)
    async with office(tmp_path / "data", phone, clock, start=False) as place:
        sari = await place.link(SARI, "Sari")
        budi = await place.link(BUDI, "Budi")
        await place.link(MAYA, "Maya", "supervisor")
        await place.on_duty(sari)
        await place.on_duty(budi)
        opened = await families_in_crisis(place, count)
        await place.escalate()
        await place.app.start()
        await place.app.wait_idle()
    for chat in (SARI, BUDI):
        alerts = phone.alerts(chat)
        assert len(alerts) == math.ceil(count / DIGEST_CASES)
        listed = [pair for shown in alerts for pair in buttons(shown)]
        assert listed == take_buttons_for(opened), "every case once, longest waiting first"
        for shown in alerts:
            assert len(buttons(shown)) <= DIGEST_CASES
            assert_nothing_personal(shown, count)
            for case in opened:
                if (f"{TAKE_PREFIX}{case.id}", f"Ambil kasus {case.code}") in shown.options:
                    assert case.code in shown.text and "DARURAT" in shown.text
        for shown in alerts:
            # One case reads as the single alert; several as a digest with a heading.
            if len(shown.options) == 1:
                assert shown.text.startswith("🔴 KASUS DARURAT: ")
            else:
                assert shown.text.startswith(text("handoff.digest_head"))
    assert phone.alerts(MAYA) == [], "the supervisor is not on duty and nothing has widened"


async def test_taking_a_case_from_a_digest_shows_it_taken_everywhere_and_the_rest_stay_takeable(
    tmp_path: Path,
) -> None:
    phone, clock = ButtonPhone(), Clock(START)
    assert isinstance(phone, ButtonEditor)
    async with office(tmp_path / "data", phone, clock, start=False) as place:
        sari = await place.link(SARI, "Sari")
        budi = await place.link(BUDI, "Budi")
        await place.on_duty(sari)
        await place.on_duty(budi)
        first, second, third = await families_in_crisis(place, 3)
        await place.escalate()
        await place.app.start()
        await place.app.wait_idle()
        await place.take_by_button(SARI, second)
        for chat in (SARI, BUDI):
            [digest] = phone.alerts(chat)
            assert text("handoff.digest_taken", number="2", code=second.code, name="Sari") in (
                digest.text
            )
            assert buttons(digest) == take_buttons_for([first, third]), "the rest still takeable"
        await place.take_by_button(BUDI, first)
        held = await place.app.store.handoff.get(first.id)
        assert held is not None and held.owner_staff_id == budi.id
        [digest] = phone.alerts(SARI)
        assert text("handoff.digest_taken", number="1", code=first.code, name="Budi") in (
            digest.text
        )
        assert buttons(digest) == take_buttons_for([third])


async def test_where_an_edit_cannot_keep_buttons_the_rest_are_taken_by_command(
    tmp_path: Path,
) -> None:
    phone, clock = Phone(), Clock(START)
    assert isinstance(phone, MessageEditor) and not isinstance(phone, ButtonEditor)
    async with office(tmp_path / "data", phone, clock, start=False) as place:
        sari = await place.link(SARI, "Sari")
        budi = await place.link(BUDI, "Budi")
        await place.on_duty(sari)
        await place.on_duty(budi)
        first, second = await families_in_crisis(place, 2)
        await place.escalate()
        await place.app.start()
        await place.app.wait_idle()
        await place.take_by_button(SARI, second)
        [digest] = phone.alerts(BUDI)
        assert text("handoff.digest_taken", number="2", code=second.code, name="Sari") in (
            digest.text
        )
        assert first.code in digest.text and text("handoff.digest_foot_typed") in digest.text
        await place.say(BUDI, f"/ambil {first.code}")
        await place.app.wait_idle()
        held = await place.app.store.handoff.get(first.id)
        assert held is not None and held.owner_staff_id == budi.id


async def test_a_case_closed_or_taken_before_its_digest_goes_out_is_not_in_it(
    tmp_path: Path,
) -> None:
    phone, clock = Phone(), Clock(START)
    async with office(tmp_path / "data", phone, clock, start=False) as place:
        sari = await place.link(SARI, "Sari")
        budi = await place.link(BUDI, "Budi")
        maya = await place.link(MAYA, "Maya", "supervisor")
        await place.on_duty(sari)
        kept, closed, taken = await families_in_crisis(place, 3)
        await place.escalate()
        handoff = place.app.handoff
        assert handoff is not None
        assert (await handoff.close(maya.id, closed.id, "aman", supervisor=True)).done
        assert (await handoff.take(budi.id, taken.id)).done
        await place.app.start()
        await place.app.wait_idle()
    [alert] = phone.alerts(SARI)
    assert buttons(alert) == take_buttons_for([kept])
    assert closed.code not in alert.text and taken.code not in alert.text


async def test_the_counsellor_alert_goes_before_the_families_crisis_replies(
    tmp_path: Path,
) -> None:
    """In a flood every send waits its turn; one alert brings help to all the families."""
    phone, clock = Phone(), Clock(START)
    async with office(tmp_path / "data", phone, clock, start=False) as place:
        await place.link(SARI, "Sari")
        for n in range(5):
            await place.crisis(f"family-{n}")
        await place.escalate()
        sari = await place.app.store.contacts.find("test", SARI)
        assert sari is not None
        due = await place.app.store.outbox.due(clock(), limit=100)
        assert due[0].contact_id == sari.id and due[0].priority == PRIORITY_ALERT
        assert [row.priority for row in due[1:6]] == [PRIORITY_URGENT] * 5, "then the families"
        assert all(row.priority > PRIORITY_URGENT for row in due[6:]), "then the rest"


async def test_while_a_flood_is_read_a_new_alert_waits_a_moment_to_list_more_cases(
    tmp_path: Path,
) -> None:
    phone, clock = Phone(), Clock(START)
    async with office(tmp_path / "data", phone, clock, start=False) as place:
        await place.link(SARI, "Sari")

        async def alerts_by(when: datetime) -> list[OutboxRow]:
            rows = await place.app.store.outbox.due(when)
            return [r for r in rows if r.ref is not None and r.ref.kind == "alerts"]

        await place.crisis("family-0")
        place.app.pipeline.defer_routine()  # as the channel does on a full batch
        await place.escalate()
        assert await alerts_by(clock()) == [], "not at once"
        [alert] = await alerts_by(clock() + timedelta(seconds=5))
        assert alert.due_at == clock() + bot.handoff.escalation.ALERT_GATHER
        await place.crisis("family-1")
        await place.escalate()
        [alert] = await alerts_by(clock() + timedelta(seconds=5))
        assert alert.due_at == clock() + bot.handoff.escalation.ALERT_GATHER, "joined, not re-timed"
        assert len(alert.options) == 2
    # With no flood, an alert goes at once (every other test here).


async def test_a_case_opening_while_an_alert_waits_to_go_joins_that_alert(
    tmp_path: Path,
) -> None:
    phone, clock = Phone(), Clock(START)
    async with office(tmp_path / "data", phone, clock, start=False) as place:
        await place.link(SARI, "Sari")
        first = await place.crisis("family-0")
        await place.escalate()
        clock.advance(minutes=1)
        second = await place.crisis("family-1")
        await place.escalate()
        sari = await place.app.store.contacts.find("test", SARI)
        assert sari is not None
        pending = [
            row
            for row in await place.app.store.outbox.due(clock(), limit=100)
            if row.contact_id == sari.id and row.priority == PRIORITY_ALERT
        ]
        assert len(pending) == 1, "one message to Sari, not one per case"
        await place.app.start()
        await place.app.wait_idle()
    [alert] = phone.alerts(SARI)
    assert buttons(alert) == take_buttons_for([first, second])


async def test_an_alert_is_the_counsellors_next_message_ahead_of_routine_replies(
    tmp_path: Path,
) -> None:
    phone, clock = Phone(), Clock(START)
    async with office(tmp_path / "data", phone, clock, start=False) as place:
        await place.link(SARI, "Sari")
        await place.say(SARI, "/bantuan")
        await place.say(SARI, "/antrian")
        case = await place.crisis("family-0")
        await place.escalate()
        await place.app.start()
        await place.app.wait_idle()
    first, *routine = phone.chats[SARI]
    assert first.alert and case.code in first.text, "queued last, sent first"
    assert routine and not any(shown.alert for shown in routine), "the routine replies follow"


async def test_alerts_go_out_without_waiting_for_any_timer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Neither the escalation pass nor the sender may rely on its poll to notice a case.
    monkeypatch.setattr(bot.handoff.escalation, "ESCALATION_POLL_SECONDS", 3600.0)
    monkeypatch.setattr(bot.core.outbox, "POLL_SECONDS", 3600.0)
    phone, clock = Phone(), Clock(START)
    async with office(tmp_path / "data", phone, clock) as place:
        await place.link(SARI, "Sari")
        await place.app.wait_idle()
        case = await place.crisis("family-0")
        # The turn that opened the case woke the escalation pass.
        await eventually(lambda: any(case.code in s.text for s in phone.alerts(SARI)))
        await place.app.wait_idle()
        clock.advance(minutes=place.app.config.escalation.realert_minutes)
        # A re-alert filed while the sender sleeps wakes it.
        await place.escalate()
        await eventually(lambda: len(phone.alerts(SARI)) == 2)


# --- a stop at any moment of escalation ----------------------------------------------------

Step = Callable[[Office], Awaitable[None]]


async def nothing_more(place: Office) -> None:
    return None


async def queue_the_alert(place: Office) -> None:
    await place.escalate()


async def seal_the_alert(place: Office) -> None:
    """As the sender does when it takes the alert, just before the stop cut the send."""
    await place.escalate()
    due = await place.app.store.outbox.due(place.clock())
    [row] = [r for r in due if r.ref == OutboxRef("alerts", 1)]
    handoff = place.app.handoff
    assert handoff is not None
    render = AlertRenderer(handoff)
    assert await place.app.store.handoff.seal_digest(row.id, place.clock(), render) is not None


@pytest.mark.parametrize(
    "stopped_after",
    [nothing_more, queue_the_alert, seal_the_alert],
    ids=["case opened", "alert queued", "alert taken by the sender"],
)
async def test_a_stop_during_escalation_loses_no_alert_and_realerts_keep_their_schedule(
    tmp_path: Path, stopped_after: Step
) -> None:
    phone, clock = Phone(), Clock(START)
    folder = tmp_path / "data"
    async with office(folder, phone, clock, start=False) as place:
        await place.link(SARI, "Sari")
        case = await place.crisis("family-0")
        await stopped_after(place)
    assert phone.alerts(SARI) == [], "nothing had reached the counsellor"
    async with office(folder, phone, clock) as place:
        await place.app.wait_idle()
        await place.escalate()
        await place.app.wait_idle()
        [alert] = phone.alerts(SARI)
        assert case.code in alert.text and "ke-1" in alert.text
        assert any("112" in t for t in phone.texts("family-0")), "the hotlines reached the family"
    realert = make_config(folder).escalation.realert_minutes
    clock.advance(minutes=realert - 1)
    async with office(folder, phone, clock) as place:
        await place.app.wait_idle()
        await place.escalate()
        await place.app.wait_idle()
        assert len(phone.alerts(SARI)) == 1, "no repeat before the interval"
    clock.advance(minutes=1)
    async with office(folder, phone, clock) as place:
        await place.app.wait_idle()
        await place.escalate()
        await place.app.wait_idle()
        events = [e.event for e in await place.app.store.handoff.events(case.id)]
    first, again = phone.alerts(SARI)
    assert case.code in again.text and "ke-2" in again.text, "re-alerted on schedule"
    assert events.count("alerted") == 1 and events.count("realerted") == 1


async def test_a_full_telegram_digest_at_its_longest_still_fits_one_message(
    tmp_path: Path,
) -> None:
    phone, clock = Phone(), Clock(START)
    async with office(tmp_path / "data", phone, clock, start=False) as place:
        handoff = place.app.handoff
        assert handoff is not None
        long_ago = clock() - timedelta(minutes=99_999)
        lines = [
            DigestLine(
                LiveCase(
                    id=10_000 + n,
                    code=f"ZZ{n:04d}",
                    contact_id=n,
                    category="k" * 32,  # the longest category code a flow may give
                    urgency="darurat",
                    status="open",
                    opened_at=long_ago,
                    waiting_since=long_ago,
                ),
                round=99,
            )
            for n in range(DIGEST_CASES_BY_CHANNEL["telegram"])
        ]
        text, options = AlertRenderer(handoff)(lines)
        # Edited once half are taken, by counsellors with very long display names.
        taken = [
            DigestLine(dataclasses.replace(line.case, status="taken"), 99, "Nama Panjang " * 20)
            if n % 2
            else line
            for n, line in enumerate(lines)
        ]
        edited, edited_options = AlertRenderer(handoff)(taken)
    assert len(options) == len(lines)
    # As the Telegram channel sends it: room kept for the numbered plain-text fallback.
    for words, buttons_shown in ((text, options), (edited, edited_options)):
        reserve = utf16_len(numbered_list("", buttons_shown))
        parts = split_text(words, MAX_TEXT - reserve, utf16_len)
        assert len(parts) == 1, utf16_len(words) + reserve
