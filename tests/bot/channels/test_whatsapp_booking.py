"""A family on WhatsApp, from the first message to a booked consultation, and its reminders.

The family types the numbers it is shown. A reminder due after WhatsApp's 24-hour
window has closed goes as the office's approved template (Twilio would refuse
free text), or fails with a clear code when there is none; inside the window it
is plain text. The fake Twilio refuses free text to a closed window, so
`fake.refused == []` says nothing was sent that WhatsApp would reject.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from booking_support import T0, wit
from support import Clock
from twilio_api import FakeTwilio
from whatsapp_support import (
    FAMILY,
    TEMPLATES,
    app_of,
    book_monday_at_ten,
    contact,
    counsellor,
    outbox_rows,
    running,
    say,
    settle,
    sid,
    text,
    whatsapp_config,
)

from bot.channels.whatsapp.protocol import NO_TEMPLATE
from bot.run import Service

pytestmark = pytest.mark.e2e


@pytest.fixture
async def fake() -> AsyncIterator[FakeTwilio]:
    async with FakeTwilio() as server:
        yield server


def reminders(service: Service) -> list[tuple[object, ...]]:
    return [row for row in outbox_rows(service) if str(row[3]).endswith(":day_before")]


async def test_a_family_books_a_consultation_on_whatsapp_from_their_first_message(
    tmp_path: Path, fake: FakeTwilio
) -> None:
    config = whatsapp_config(tmp_path / "data", fake)
    async with running(config, fake, Clock(T0)) as service:
        await counsellor(service)
        confirmation = await book_monday_at_ten(service, fake)
        assert confirmation.startswith("Janji Anda sudah tercatat.")
        assert "Senin, 7 Desember, pukul 10.00 WIT" in confirmation
        family = await contact(service)
        [booking] = await app_of(service).store.bookings.for_contact(family.id)
        assert (booking.mode, booking.starts_at, booking.status) == (
            "kantor",
            wit(7, 10),
            "confirmed",
        )
        assert [r[1] for r in reminders(service)] == ["pending"]
    assert fake.refused == []
    assert all(m.body and not m.content_sid for m in fake.sent), "all free text, in the window"
    assert all(len(m.body) <= 1600 for m in fake.sent)


async def test_a_reminder_after_the_window_closed_goes_as_the_approved_template(
    tmp_path: Path, fake: FakeTwilio
) -> None:
    clock = Clock(T0)
    config = whatsapp_config(tmp_path / "data", fake, templates=TEMPLATES)
    async with running(config, fake, clock) as service:
        await counsellor(service)
        await book_monday_at_ten(service, fake)
        clock.now = wit(6, 10)  # Sunday: two days after the family last wrote
        fake.close_window(FAMILY)
        await settle(service)
        reminder = fake.last_to(FAMILY)
        assert (reminder.content_sid, reminder.body) == (sid("1"), "")
        assert reminder.variables == {"1": "besok pukul 10.00 WIT"}
        assert [r[1] for r in reminders(service)] == ["sent"]

        # The family taps the template's "Konfirmasi" button (its id is "1").
        await fake.press(FAMILY, "1", "Konfirmasi")
        await settle(service)
        assert fake.texts_to(FAMILY)[-1].startswith("Terima kasih atas konfirmasinya.")
        [booking] = await app_of(service).store.bookings.for_contact((await contact(service)).id)
        assert booking.family_confirmed
    assert fake.refused == []


async def test_without_a_reminder_template_a_late_reminder_fails_with_a_clear_code(
    tmp_path: Path, fake: FakeTwilio
) -> None:
    clock = Clock(T0)
    config = whatsapp_config(tmp_path / "data", fake)
    async with running(config, fake, clock) as service:
        await counsellor(service)
        await book_monday_at_ten(service, fake)
        sent = len(fake.sent)
        clock.now = wit(6, 10)
        fake.close_window(FAMILY)
        await settle(service)
        assert [r[1:3] for r in reminders(service)] == [("failed", NO_TEMPLATE)]
        family = await contact(service)
        assert not family.unreachable, "the family can still write and be answered"
    assert len(fake.sent) == sent and fake.refused == []


async def test_a_reminder_inside_the_window_is_plain_text_with_numbered_answers(
    tmp_path: Path, fake: FakeTwilio
) -> None:
    clock = Clock(T0)
    config = whatsapp_config(tmp_path / "data", fake)
    async with running(config, fake, clock) as service:
        await counsellor(service)
        await book_monday_at_ten(service, fake)
        clock.now = wit(6, 9, 30)
        fake.close_window(FAMILY)
        await say(service, fake, "menu")  # writing opens the window again
        clock.now = wit(6, 10)
        await settle(service)
        reminder = fake.last_to(FAMILY)
        expected = text("booking.reminder.discreet.day_before", time="10.00 WIT")
        assert reminder.content_sid == ""
        assert reminder.body == f"{expected}\n\n1. Konfirmasi\n2. Ganti waktu"
        answer = await say(service, fake, "2")  # "change the time"
        assert "Bagaimana Anda ingin bertemu konselor?" in answer
    assert fake.refused == []
