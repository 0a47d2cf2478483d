"""WhatsApp's 24-hour window: a reply that may not go as free text is held, never refused.

A counsellor's message after the window closed: the family gets the neutral "new
message" template once, and the message itself as soon as they write again,
before the bot's answer. With no such template, or held too long, the reply
fails with a clear code. When Twilio knows better than our clock (63016), the
same path is taken.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from booking_support import T0
from support import Clock
from twilio_api import FakeTwilio
from whatsapp_support import (
    FAMILY,
    TEMPLATES,
    TEXTS,
    app_of,
    contact,
    outbox_rows,
    running,
    say,
    settle,
    sid,
    whatsapp_config,
)

from bot.channels.whatsapp.protocol import HOLD, HOLD_EXPIRED, NO_TEMPLATE
from bot.channels.whatsapp.window import MARGIN, WINDOW, describe, is_open, remaining
from bot.run import Service
from storage.channels.whatsapp import AWAITING_WINDOW
from storage.records import NewOutbound

pytestmark = pytest.mark.e2e

COUNSELLOR = ("Halo Ibu, ini Sari dari LK3.", "Kapan Ibu bisa ditelepon?")


@pytest.fixture
async def fake() -> AsyncIterator[FakeTwilio]:
    async with FakeTwilio() as server:
        yield server


async def from_counsellor(service: Service, clock: Clock, *words: str) -> list[int]:
    """Replies queued for the family outside any turn, as the counsellor relay queues them."""
    family = await contact(service)
    rows = [NewOutbound(family.id, "whatsapp", w, (), 5, clock.now) for w in words]
    ids = await app_of(service).store.outbox.enqueue(rows)
    app_of(service).sender.wake()
    await settle(service)
    return ids


def row(service: Service, outbox_id: int) -> tuple[object, ...]:
    [found] = [r for r in outbox_rows(service) if r[0] == outbox_id]
    return found[1:3]


async def a_day_later(service: Service, fake: FakeTwilio, clock: Clock) -> None:
    """The family wrote at T0; now it is 25 hours later and WhatsApp's window has closed."""
    await say(service, fake, "halo")
    clock.now = T0 + timedelta(hours=25)
    fake.close_window(FAMILY)


async def test_a_counsellors_message_after_the_window_waits_for_the_family_behind_one_notice(
    tmp_path: Path, fake: FakeTwilio
) -> None:
    clock = Clock(T0)
    config = whatsapp_config(tmp_path / "data", fake, templates=TEMPLATES)
    async with running(config, fake, clock) as service:
        await a_day_later(service, fake, clock)
        before = len(fake.sent)
        first, second = await from_counsellor(service, clock, *COUNSELLOR)

        [notice] = fake.sent[before:]
        assert (notice.content_sid, notice.body, notice.variables) == (sid("2"), "", {})
        assert row(service, first) == ("pending", AWAITING_WINDOW)
        assert row(service, second) == ("pending", AWAITING_WINDOW)
        held = await app_of(service).store.whatsapp.held((await contact(service)).id)
        assert held == [first, second]

        clock.now += timedelta(hours=2)
        await say(service, fake, "iya, ada apa?")
        after = fake.texts_to(FAMILY)[before + 1 :]
        assert after[:2] == list(COUNSELLOR), "the held messages come first, in order"
        assert len(after) > 2, "then the bot's own answer"
        assert row(service, first)[0] == row(service, second)[0] == "sent"
    assert fake.refused == []


async def test_each_closed_window_gets_its_own_notice_but_only_one(
    tmp_path: Path, fake: FakeTwilio
) -> None:
    clock = Clock(T0)
    config = whatsapp_config(tmp_path / "data", fake, templates=TEMPLATES)
    async with running(config, fake, clock) as service:
        await a_day_later(service, fake, clock)
        await from_counsellor(service, clock, COUNSELLOR[0])
        await from_counsellor(service, clock, COUNSELLOR[1])
        await say(service, fake, "ya")
        clock.now += timedelta(days=2)
        fake.close_window(FAMILY)
        await from_counsellor(service, clock, "Ibu, kami tunggu kabarnya.")
    notices = [m for m in fake.sent if m.content_sid == sid("2")]
    assert len(notices) == 2
    assert fake.refused == []


async def test_without_a_new_message_template_a_late_reply_fails_with_a_clear_code(
    tmp_path: Path, fake: FakeTwilio
) -> None:
    clock = Clock(T0)
    config = whatsapp_config(tmp_path / "data", fake)
    async with running(config, fake, clock) as service:
        await a_day_later(service, fake, clock)
        before = len(fake.sent)
        [late] = await from_counsellor(service, clock, COUNSELLOR[0])
        assert row(service, late) == ("failed", NO_TEMPLATE)
        assert not (await contact(service)).unreachable
    assert len(fake.sent) == before and fake.refused == []


async def test_a_reply_held_longer_than_a_week_fails_instead_of_waiting_forever(
    tmp_path: Path, fake: FakeTwilio
) -> None:
    clock = Clock(T0)
    config = whatsapp_config(tmp_path / "data", fake, templates=TEMPLATES)
    async with running(config, fake, clock) as service:
        await a_day_later(service, fake, clock)
        [late] = await from_counsellor(service, clock, COUNSELLOR[0])
        sent = len(fake.sent)
        clock.now += HOLD + timedelta(minutes=1)
        await settle(service)
        assert row(service, late) == ("failed", HOLD_EXPIRED)
    assert len(fake.sent) == sent and fake.refused == []


async def test_when_twilio_says_the_window_closed_early_the_reply_is_held_all_the_same(
    tmp_path: Path, fake: FakeTwilio
) -> None:
    clock = Clock(T0)
    config = whatsapp_config(tmp_path / "data", fake, templates=TEMPLATES)
    async with running(config, fake, clock) as service:
        await say(service, fake, "halo")
        fake.close_window(FAMILY)  # WhatsApp's clock runs ahead of ours
        [reply] = await from_counsellor(service, clock, COUNSELLOR[0])
        assert len(fake.refused) == 1, "the one free text WhatsApp refused (63016)"
        assert fake.last_to(FAMILY).content_sid == sid("2")
        assert row(service, reply) == ("pending", AWAITING_WINDOW)
        window = await app_of(service).store.whatsapp.for_contact((await contact(service)).id)
        assert window is not None and not is_open(window.last_inbound_at, clock.now)


async def test_every_message_from_the_family_opens_the_window_at_its_arrival(
    tmp_path: Path, fake: FakeTwilio
) -> None:
    clock = Clock(T0)
    config = whatsapp_config(tmp_path / "data", fake)
    async with running(config, fake, clock) as service:
        await say(service, fake, "halo")
        clock.now = T0 + timedelta(hours=3)
        await say(service, fake, "menu")
        window = await app_of(service).store.whatsapp.for_contact((await contact(service)).id)
        assert window is not None and window.last_inbound_at == clock.now
        assert remaining(window.last_inbound_at, clock.now) == WINDOW - MARGIN


NOW = datetime(2026, 12, 4, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("last", "left"),
    [
        (None, timedelta(0)),
        (NOW, timedelta(hours=23, minutes=50)),
        (NOW - timedelta(hours=20), timedelta(hours=3, minutes=50)),
        (NOW - timedelta(hours=23, minutes=50), timedelta(0)),
        (NOW - timedelta(hours=23, minutes=55), timedelta(0)),
        (NOW - timedelta(days=3), timedelta(0)),
    ],
)
def test_the_window_is_24_hours_less_a_safety_margin(
    last: datetime | None, left: timedelta
) -> None:
    assert remaining(last, NOW) == left
    assert is_open(last, NOW) == (left > timedelta(0))


@pytest.mark.parametrize(
    ("left", "language", "shown"),
    [
        (timedelta(hours=3, minutes=20, seconds=59), "id", "sisa 3 jam 20 menit"),
        (timedelta(minutes=5), "en", "0 h 5 min left"),
        (timedelta(0), "id", "sudah tertutup"),
        (timedelta(0), "en", "has closed"),
    ],
)
def test_a_counsellor_is_told_how_long_the_window_has_left(
    left: timedelta, language: str, shown: str
) -> None:
    assert shown in describe(left, language, TEXTS)
