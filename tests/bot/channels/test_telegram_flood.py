"""Many families at once on Telegram: every one is answered, and the bot spares the Bot API."""

from __future__ import annotations

import dataclasses

import pytest
from telegram_api import FakeTelegram
from telegram_support import FAST, app_of, running, settle

from bot.config import Config

pytestmark = pytest.mark.e2e

FAMILIES = range(7000, 7020)


async def test_typing_hints_are_rationed_when_many_families_wait_at_once(
    fake: FakeTelegram, config: Config
) -> None:
    # Hints at once, but a budget of one: twenty families waiting get one hint between
    # them, and every one of them gets the reply itself.
    tuning = dataclasses.replace(FAST, typing_delay=0.0, typing_per_second=0.001)
    async with running(config, tuning) as service:
        updates = [fake.send_text(chat, "halo") for chat in FAMILIES]
        await settle(service, fake, *updates)
        await fake.wait_for(lambda: fake.calls_to("sendChatAction"))
        await settle(service, fake)
    assert len(fake.calls_to("sendChatAction")) == 1
    assert all(fake.texts(chat) for chat in FAMILIES), "a family went unanswered"


@pytest.mark.parametrize(("waiting", "backlogs"), [(150, 1), (60, 0)])
async def test_a_full_batch_from_telegram_is_reported_as_a_backlog_and_all_are_answered(
    fake: FakeTelegram, config: Config, waiting: int, backlogs: int
) -> None:
    # Queued before the bot starts: its first getUpdates returns a full batch of 100
    # when more than 100 wait (routine turns then hold back; bot.core.scheduling), else all.
    chats = range(8000, 8000 + waiting)
    updates = [fake.send_text(chat, "halo") for chat in chats]
    async with running(config, FAST) as service:
        await settle(service, fake, *updates)
        assert app_of(service).pipeline.backlogs_seen == backlogs
    assert all(fake.texts(chat) for chat in chats), "a family went unanswered"
