"""A family's rights on WhatsApp, from their side: declining keeps nothing, deleting
cancels a booking still to come and says so, and "dataku" reads as words.

Through the real twilio client, the fake Twilio API and signed webhooks, as every
WhatsApp test here; the family types the numbers it is shown.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from booking_support import T0
from support import Clock
from twilio_api import FakeTwilio
from whatsapp_support import (
    FAMILY,
    app_of,
    book_monday_at_ten,
    contact,
    counsellor,
    pick,
    running,
    say,
    whatsapp_config,
)

from bot.run import Service

pytestmark = pytest.mark.e2e

SECRET_FIRST = "suami saya sering pergi RAHASIA-WA-1"
SECRET_LATER = "anak saya sakit RAHASIA-WA-2"


@pytest.fixture
async def fake() -> AsyncIterator[FakeTwilio]:
    async with FakeTwilio() as server:
        yield server


async def kept_words(service: Service) -> list[str]:
    family = await contact(service)
    data = await app_of(service).store.privacy.subject(family.id)
    assert data is not None
    return [m.text for m in data.messages if m.text]


async def said_since(service: Service, fake: FakeTwilio, text: str) -> str:
    """Everything the bot answers to `text`, joined."""
    before = len(fake.texts_to(FAMILY))
    await say(service, fake, text)
    return "\n".join(fake.texts_to(FAMILY)[before:])


async def test_declining_on_whatsapp_keeps_none_of_the_familys_words(
    tmp_path: Path, fake: FakeTwilio
) -> None:
    async with running(whatsapp_config(tmp_path / "data", fake), fake) as service:
        asked = await say(service, fake, SECRET_FIRST)
        assert "Apakah Anda setuju" in asked
        await pick(service, fake, "Tidak setuju")
        await say(service, fake, SECRET_LATER)
        assert await kept_words(service) == []
        export = await said_since(service, fake, "dataku")
        assert "RAHASIA" not in export and "tidak setuju" in export


async def test_deleting_on_whatsapp_cancels_the_booking_to_come_and_says_so(
    tmp_path: Path, fake: FakeTwilio
) -> None:
    async with running(whatsapp_config(tmp_path / "data", fake), fake, Clock(T0)) as service:
        await counsellor(service)
        await book_monday_at_ten(service, fake)
        family = await contact(service)
        [booking] = await app_of(service).store.bookings.for_contact(family.id)
        export = await said_since(service, fake, "dataku")
        assert booking.code in export, "my data lists the booking"
        await say(service, fake, "hapus")
        before = len(fake.texts_to(FAMILY))
        await pick(service, fake, "Ya")
        statement = "\n".join(fake.texts_to(FAMILY)[before:])
        assert "Data Anda sudah kami hapus" in statement and booking.code in statement
        after = await app_of(service).store.bookings.get(booking.id)
        assert after is not None and after.status == "cancelled"
