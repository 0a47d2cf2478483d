"""Fixtures for the running bot: a real app on a temporary folder, a recording channel,
and the fake Bot API server for the tests that run the real python-telegram-bot."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from bot_support import Bot, make_config
from support import RecordingChannel
from telegram_api import FakeTelegram

from bot.app import App


@pytest.fixture
async def bot(tmp_path: Path) -> AsyncIterator[Bot]:
    channel = RecordingChannel()
    app = await App.open(make_config(tmp_path / "data"), [channel], env={})
    await app.start()
    try:
        yield Bot(app, channel)
    finally:
        await app.stop()


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as server:
        yield server
