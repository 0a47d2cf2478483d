"""Each office its own WhatsApp sender, end to end through the twilio library.

One Twilio account, two senders: `[whatsapp] from_number` (the default office's) and
`[offices.tual.whatsapp] from_number`. Twilio posts every message to one webhook;
the `To` number says whose it is. A family writing to tual's number is answered
from that number and belongs to tual; a signed message to a number that is no
office's sender is refused, as before.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from twilio_api import FakeTwilio
from whatsapp_support import FAMILY, app_of, running, settle, whatsapp_config

from bot.config import Config
from bot.officechannels import OfficeChannels
from bot.officeconfig import OfficeProfile
from storage.offices.repo import DEFAULT_OFFICE_ID

pytestmark = pytest.mark.e2e

TUAL = "whatsapp:+6291621000"


@pytest.fixture
async def fake() -> AsyncIterator[FakeTwilio]:
    async with FakeTwilio() as server:
        yield server


@pytest.fixture
def config(tmp_path: Path, fake: FakeTwilio) -> Config:
    fake.add_sender(TUAL)
    base = whatsapp_config(tmp_path / "data", fake)
    tual = OfficeProfile(
        code="tual",
        office=dataclasses.replace(base.office, name="LK3 Kota Tual"),
        hotlines=base.hotlines,
        channels=OfficeChannels(whatsapp_from=TUAL),
    )
    return dataclasses.replace(base, offices=(tual,))


async def test_a_family_writing_to_tuals_number_is_answered_from_it_and_belongs_to_tual(
    fake: FakeTwilio, config: Config
) -> None:
    async with running(config, fake) as service:
        assert [c.name for c in service.channels] == ["whatsapp", "whatsapp:tual"]
        answer = await fake.post_incoming(fake.incoming(FAMILY, Body="halo", To=TUAL))
        assert answer.status_code == 200
        await settle(service)
        replies = fake.messages_to(FAMILY)
        assert replies and {m.sender for m in replies} == {TUAL}
        store = app_of(service).store
        contact = await store.contacts.find("whatsapp:tual", FAMILY)
        assert contact is not None
        tual = await store.offices.by_code("tual")
        assert tual is not None
        assert await store.offices.office_of_contact(contact.id) == tual.id
        assert await store.contacts.find("whatsapp", FAMILY) is None

        # The same family writing to the default office's number: another conversation.
        answer = await fake.send_text(FAMILY, "halo")
        assert answer.status_code == 200
        await settle(service)
        later = fake.messages_to(FAMILY)[len(replies) :]
        assert later and {m.sender for m in later} == {fake.sender}
        other = await store.contacts.find("whatsapp", FAMILY)
        assert other is not None and other.id != contact.id
        assert await store.offices.office_of_contact(other.id) == DEFAULT_OFFICE_ID


async def test_a_crisis_to_tuals_number_opens_a_case_in_tuals_queue(
    fake: FakeTwilio, config: Config
) -> None:
    async with running(config, fake) as service:
        words = "suami saya memukuli saya sekarang"
        answer = await fake.post_incoming(fake.incoming(FAMILY, Body=words, To=TUAL))
        assert answer.status_code == 200
        await settle(service)
        store = app_of(service).store
        contact = await store.contacts.find("whatsapp:tual", FAMILY)
        tual = await store.offices.by_code("tual")
        assert contact is not None and tual is not None
        case = await store.handoff.live_for(contact.id)
        assert case is not None and case.office_id == tual.id
        assert {m.sender for m in fake.messages_to(FAMILY)} == {TUAL}, "the crisis reply too"


async def test_a_signed_message_to_a_number_that_is_no_offices_sender_is_refused(
    fake: FakeTwilio, config: Config
) -> None:
    async with running(config, fake) as service:
        params = fake.incoming(FAMILY, Body="halo", To="whatsapp:+6290000000")
        answer = await fake.post_incoming(params)  # signed correctly, for our URL
        assert answer.status_code == 403
        await settle(service)
        assert await app_of(service).store.contacts.find("whatsapp", FAMILY) is None
        assert await app_of(service).store.contacts.find("whatsapp:tual", FAMILY) is None
    assert fake.sent == []
