"""The channels' fixtures: the bot on the fake Bot API server, receiving by polling, and
the web chat's (tests/bot/webchat_support.py): `ticks`, `clock`, `site`, `chat`."""

from __future__ import annotations

from pathlib import Path

import pytest
from telegram_api import FakeTelegram
from telegram_support import telegram_config
from webchat_support import chat, clock, site, ticks

from bot.config import Config

__all__ = ["chat", "clock", "config", "site", "ticks"]


@pytest.fixture
def config(tmp_path: Path, fake: FakeTelegram) -> Config:
    return telegram_config(tmp_path / "data", fake)
