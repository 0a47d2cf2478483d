"""The channels' fixtures: the bot on the fake Bot API server, receiving by polling."""

from __future__ import annotations

from pathlib import Path

import pytest
from telegram_api import FakeTelegram
from telegram_support import telegram_config

from bot.config import Config


@pytest.fixture
def config(tmp_path: Path, fake: FakeTelegram) -> Config:
    return telegram_config(tmp_path / "data", fake)
