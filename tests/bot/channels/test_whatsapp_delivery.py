"""Sending on WhatsApp: Twilio's refusals, status callbacks, retries and long texts.

Twilio's errors map to what the outbox does next (429 and 5xx: later; an invalid
or opted-out number: the family is unreachable). Status callbacks, signed like
webhooks, record each message's progress; a message the handset could not take
is sent again a few times, then reported.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from booking_support import T0
from support import Clock
from twilio.base.exceptions import TwilioRestException
from twilio_api import FakeTwilio
from whatsapp_support import (
    FAMILY,
    FAST,
    TEMPLATES,
    app_of,
    contact,
    outbox_rows,
    raw_query,
    running,
    say,
    settle,
    sid,
    whatsapp_config,
)

from bot.channels.base import RetryLater, Unreachable
from bot.channels.whatsapp.errors import delivery_error
from bot.channels.whatsapp.protocol import MAX_TEXT, REDELIVERIES, Part, Tuning
from bot.channels.whatsapp.templates import session_parts
from bot.config import WhatsAppTemplates
from bot.run import Service
from storage.records import NewOutbound

pytestmark = pytest.mark.e2e

LONG = "\n\n".join(f"Paragraf {n}. " + " ".join(["kata"] * 150) for n in range(1, 6))


@pytest.fixture
async def fake() -> AsyncIterator[FakeTwilio]:
    async with FakeTwilio() as server:
        yield server


async def queue(service: Service, clock: Clock, words: str) -> int:
    family = await contact(service)
    [outbox_id] = await app_of(service).store.outbox.enqueue(
        [NewOutbound(family.id, "whatsapp", words, (), 5, clock.now)]
    )
    app_of(service).sender.wake()
    await settle(service)
    return outbox_id


def state(service: Service, outbox_id: int) -> tuple[object, ...]:
    [found] = [r for r in outbox_rows(service) if r[0] == outbox_id]
    return found[1:3]


def retry_in(service: Service, outbox_id: int, clock: Clock) -> float:
    [(at,)] = raw_query(
        app_of(service).config.database_path,
        "SELECT next_attempt_at FROM outbox WHERE id = ?",
        (outbox_id,),
    )
    return int(str(at)) / 1e6 - clock.now.timestamp()


async def test_status_callbacks_record_progress_which_never_goes_back(
    tmp_path: Path, fake: FakeTwilio
) -> None:
    clock = Clock(T0)
    async with running(whatsapp_config(tmp_path / "data", fake), fake, clock) as service:
        await say(service, fake, "halo")
        outbox_id = await queue(service, clock, "Terima kasih.")
        message = fake.last_to(FAMILY)
        assert message.status_callback.endswith(f"/twilio/status?o={outbox_id}")
        deliveries = app_of(service).store.deliveries
        for status in ("queued", "sent", "delivered", "read", "sent"):
            answer = await fake.post_status(message, status)
            assert answer.status_code == 200
        found = await deliveries.status_of(outbox_id)
        assert found is not None and found[0] == "read"
        assert state(service, outbox_id) == ("sent", None)


async def test_a_forged_status_callback_is_refused_and_changes_nothing(
    tmp_path: Path, fake: FakeTwilio
) -> None:
    clock = Clock(T0)
    async with running(whatsapp_config(tmp_path / "data", fake), fake, clock) as service:
        await say(service, fake, "halo")
        outbox_id = await queue(service, clock, "Terima kasih.")
        message = fake.last_to(FAMILY)
        fake.auth_token = "0" * 32  # someone who does not know the auth token
        answer = await fake.post_status(message, "failed", error_code="21610")
        assert answer.status_code == 403
        assert await app_of(service).store.deliveries.status_of(outbox_id) is None
        assert state(service, outbox_id) == ("sent", None)
        assert not (await contact(service)).unreachable


async def test_a_message_the_handset_could_not_take_is_sent_again_then_reported(
    tmp_path: Path, fake: FakeTwilio
) -> None:
    clock = Clock(T0)
    async with running(whatsapp_config(tmp_path / "data", fake), fake, clock) as service:
        await say(service, fake, "halo")
        outbox_id = await queue(service, clock, "Terima kasih.")
        delay = FAST.redelivery_delay
        for attempt in range(1, REDELIVERIES + 1):
            await fake.post_status(fake.last_to(FAMILY), "undelivered", error_code="30003")
            assert state(service, outbox_id) == ("pending", "twilio_30003")
            assert retry_in(service, outbox_id, clock) == pytest.approx(delay)
            clock.now += timedelta(seconds=delay + 1)
            await settle(service)
            assert len([m for m in fake.sent if m.body == "Terima kasih."]) == attempt + 1
            delay *= 2
        await fake.post_status(fake.last_to(FAMILY), "undelivered", error_code="30003")
        assert state(service, outbox_id) == ("failed", "twilio_30003")
        assert not (await contact(service)).unreachable


@pytest.mark.parametrize(
    ("code", "reason"), [("21610", "opted_out"), ("63024", "invalid_recipient")]
)
async def test_a_callback_saying_the_number_can_never_be_reached_marks_the_family_unreachable(
    tmp_path: Path, fake: FakeTwilio, code: str, reason: str
) -> None:
    clock = Clock(T0)
    async with running(whatsapp_config(tmp_path / "data", fake), fake, clock) as service:
        await say(service, fake, "halo")
        outbox_id = await queue(service, clock, "Terima kasih.")
        await fake.post_status(fake.last_to(FAMILY), "failed", error_code=code)
        assert state(service, outbox_id) == ("failed", reason)
        assert (await contact(service)).unreachable


async def test_a_failure_no_retry_can_help_is_reported_without_marking_the_family(
    tmp_path: Path, fake: FakeTwilio
) -> None:
    clock = Clock(T0)
    async with running(whatsapp_config(tmp_path / "data", fake), fake, clock) as service:
        await say(service, fake, "halo")
        outbox_id = await queue(service, clock, "Terima kasih.")
        await fake.post_status(fake.last_to(FAMILY), "failed", error_code="63032")
        assert state(service, outbox_id) == ("failed", "twilio_63032")
        assert not (await contact(service)).unreachable


async def test_a_late_63016_callback_sends_the_reply_the_way_a_closed_window_allows(
    tmp_path: Path, fake: FakeTwilio
) -> None:
    clock = Clock(T0)
    config = whatsapp_config(tmp_path / "data", fake, templates=TEMPLATES)
    async with running(config, fake, clock) as service:
        await say(service, fake, "halo")
        outbox_id = await queue(service, clock, "Terima kasih.")
        fake.close_window(FAMILY)
        await fake.post_status(fake.last_to(FAMILY), "failed", error_code="63016")
        await settle(service)
        assert fake.last_to(FAMILY).content_sid == sid("2"), "the new-message notice"
        assert state(service, outbox_id) == ("pending", "awaiting_window")
    assert fake.refused == []


async def test_an_opted_out_number_refused_at_once_marks_the_family_unreachable_until_they_write(
    tmp_path: Path, fake: FakeTwilio
) -> None:
    clock = Clock(T0)
    async with running(whatsapp_config(tmp_path / "data", fake), fake, clock) as service:
        await say(service, fake, "halo")
        fake.fail("opted_out", to=FAMILY)
        outbox_id = await queue(service, clock, "Terima kasih.")
        assert state(service, outbox_id) == ("failed", "opted_out")
        assert (await contact(service)).unreachable
        await say(service, fake, "halo lagi")
        assert not (await contact(service)).unreachable


async def test_a_rate_limit_is_waited_out_for_as_long_as_twilio_asks(
    tmp_path: Path, fake: FakeTwilio
) -> None:
    clock = Clock(T0)
    async with running(whatsapp_config(tmp_path / "data", fake), fake, clock) as service:
        await say(service, fake, "halo")
        fake.fail("rate_limited", retry_after=30)
        outbox_id = await queue(service, clock, "Terima kasih.")
        assert state(service, outbox_id) == ("pending", "rate_limited")
        assert retry_in(service, outbox_id, clock) == pytest.approx(30)


@pytest.mark.parametrize("error", ["server_error", "unavailable", "hang"])
async def test_a_failing_or_silent_twilio_is_tried_again_and_the_reply_arrives(
    tmp_path: Path, fake: FakeTwilio, error: str
) -> None:
    clock = Clock(T0)
    tuning = Tuning(per_chat_interval=0.0, max_per_second=1000.0, request_timeout=0.3)
    config = whatsapp_config(tmp_path / "data", fake)
    async with running(config, fake, clock, tuning) as service:
        await say(service, fake, "halo")
        fake.fail(error)
        outbox_id = await queue(service, clock, "Terima kasih.")
        assert state(service, outbox_id)[0] == "pending"
        clock.now += timedelta(minutes=1)
        await settle(service)
        assert state(service, outbox_id)[0] == "sent"
        assert fake.texts_to(FAMILY)[-1] == "Terima kasih."


async def test_a_long_text_goes_in_parts_of_at_most_1600_cut_between_paragraphs(
    tmp_path: Path, fake: FakeTwilio
) -> None:
    clock = Clock(T0)
    async with running(whatsapp_config(tmp_path / "data", fake), fake, clock) as service:
        await say(service, fake, "halo")
        before = len(fake.sent)
        outbox_id = await queue(service, clock, LONG)
        parts = fake.texts_to(FAMILY)[before:]
        assert len(parts) == 3 and all(len(p) <= MAX_TEXT for p in parts)
        assert all(p.startswith("Paragraf") for p in parts)
        assert "\n\n".join(parts) == LONG
        [(provider_id,)] = raw_query(
            app_of(service).config.database_path,
            "SELECT provider_id FROM outbox WHERE id = ?",
            (outbox_id,),
        )
        assert str(provider_id).split(",") == [m.sid for m in fake.sent[before:]]


async def test_when_a_later_part_fails_only_the_rest_is_sent_again(
    tmp_path: Path, fake: FakeTwilio
) -> None:
    clock = Clock(T0)
    async with running(whatsapp_config(tmp_path / "data", fake), fake, clock) as service:
        await say(service, fake, "halo")
        before = len(fake.sent)
        fake.fail("server_error", after=1)
        await queue(service, clock, LONG)
        assert len(fake.sent) == before + 1
        clock.now += timedelta(minutes=1)
        await settle(service)
        parts = fake.texts_to(FAMILY)[before:]
        assert len(parts) == 3 and "\n\n".join(parts) == LONG


OPTIONS = (("agree", "Setuju"), ("decline", "Tidak setuju"))
CHOICES = WhatsAppTemplates(choices=((2, sid("4")), (4, sid("6"))))


@pytest.mark.parametrize(
    ("text", "options", "templates", "expected"),
    [
        ("Halo", (), CHOICES, [Part(body="Halo")]),
        (
            "Setuju?",
            OPTIONS,
            WhatsAppTemplates(),
            [Part(body="Setuju?\n\n1. Setuju\n2. Tidak setuju")],
        ),
        (
            "Setuju?",
            OPTIONS,
            CHOICES,
            [
                Part(
                    content_sid=sid("4"),
                    variables=(
                        ("1", "Setuju?"),
                        ("2", "Setuju"),
                        ("3", "agree"),
                        ("4", "Tidak setuju"),
                        ("5", "decline"),
                        ("22", "Pilih"),
                    ),
                )
            ],
        ),
        # A quick-reply button shows at most 20 characters: the list is numbered instead.
        (
            "Pilih:",
            (("a", "Sebuah pilihan yang terlalu panjang"), ("b", "Lain")),
            CHOICES,
            [Part(body="Pilih:\n\n1. Sebuah pilihan yang terlalu panjang\n2. Lain")],
        ),
        # No template for three choices.
        (
            "Pilih:",
            (("a", "A"), ("b", "B"), ("c", "C")),
            CHOICES,
            [Part(body="Pilih:\n\n1. A\n2. B\n3. C")],
        ),
        ("", (), CHOICES, [Part(body="…")]),
    ],
)
def test_a_reply_in_the_window_becomes_these_twilio_messages(
    text: str,
    options: tuple[tuple[str, str], ...],
    templates: WhatsAppTemplates,
    expected: list[Part],
) -> None:
    assert session_parts(text, options, templates, "Pilih") == expected


def test_a_long_question_keeps_its_choices_under_its_last_part() -> None:
    parts = session_parts(LONG, OPTIONS, WhatsAppTemplates())
    assert all(part.body and len(part.body) <= MAX_TEXT for part in parts)
    assert parts[-1].body.endswith("\n\n1. Setuju\n2. Tidak setuju")
    templated = session_parts(LONG, OPTIONS, CHOICES, "Pilih")
    assert [bool(p.content_sid) for p in templated] == [False] * (len(templated) - 1) + [True]


@pytest.mark.parametrize(
    ("status", "code", "expected", "reason"),
    [
        (429, 20429, RetryLater, "rate_limited"),
        (500, 20500, RetryLater, "twilio_500"),
        (503, None, RetryLater, "twilio_503"),
        (400, 21211, Unreachable, "invalid_number"),
        (400, 21614, Unreachable, "not_a_mobile_number"),
        (400, 21610, Unreachable, "opted_out"),
        (400, 63016, RetryLater, "window_closed"),
        (401, 20003, RetryLater, "twilio_auth"),
        (400, 21617, RetryLater, "twilio_21617"),
    ],
)
def test_twilios_refusals_mean_try_later_or_give_up_on_the_number(
    status: int, code: int | None, expected: type, reason: str
) -> None:
    error = delivery_error(TwilioRestException(status, "/Messages.json", "refused", code, "POST"))
    assert type(error) is expected and error.code == reason
