"""Running the real bot (python-telegram-bot included) against the fake Bot API server."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from bot_support import make_config
from support import free_port
from telegram_api import FakeTelegram

from bot.app import App
from bot.channels.telegram.channel import TelegramChannel
from bot.channels.telegram.protocol import Tuning
from bot.channels.textparts import bold_spans
from bot.config import Config, Telegram, Web
from bot.core.texts import BotTexts
from bot.run import Service
from flows.state import SessionState
from storage.records import Contact

# Telegram's pacing would make a conversation take seconds per turn; the tests
# that are about pacing set their own.
FAST = Tuning(
    per_chat_interval=0.0,
    group_interval=0.3,
    typing_delay=60.0,
    poll_timeout=1,
    request_timeout=1.0,
)
SECRET = "webhook-secret-0123456789"
TEXTS = BotTexts.bundled()


def telegram_config(data_dir: Path, fake: FakeTelegram, *, mode: str = "polling") -> Config:
    # A free port in both modes: the web server (console, calendar feeds) runs in polling
    # mode too, and suites running side by side must not fight over one port.
    port = free_port()
    url = f"http://127.0.0.1:{port}/telegram/webhook" if mode == "webhook" else ""
    return dataclasses.replace(
        make_config(data_dir),
        telegram=Telegram(
            enabled=True,
            token=fake.token,
            mode=mode,
            webhook_url=url,
            webhook_secret=SECRET if mode == "webhook" else "",
            api_base_url=fake.api_base_url,
        ),
        web=Web(host="127.0.0.1", port=port),
    )


@asynccontextmanager
async def running(
    config: Config, tuning: Tuning = FAST, clock: Callable[[], datetime] | None = None
) -> AsyncIterator[Service]:
    service = (
        Service(config, options={"telegram": tuning}, env={})
        if clock is None
        else Service(config, options={"telegram": tuning}, env={}, clock=clock)
    )
    await service.start()
    try:
        yield service
    finally:
        await service.stop()


def app_of(service: Service) -> App:
    assert service.app is not None
    return service.app


def channel_of(service: Service) -> TelegramChannel:
    channel = service.channels.named("telegram")
    assert isinstance(channel, TelegramChannel)
    return channel


async def settle(service: Service, fake: FakeTelegram, *updates: dict[str, Any]) -> None:
    """Waits until the updates are stored, processed, and their replies sent."""
    for update in updates:
        await fake.wait_for(lambda u=update: fake.confirmed(u))
    await app_of(service).wait_idle()


async def contact(service: Service, chat_id: int) -> Contact:
    found = await app_of(service).store.contacts.find("telegram", str(chat_id))
    assert found is not None, "no contact for this chat"
    return found


async def session(service: Service, chat_id: int) -> SessionState:
    raw = await app_of(service).store.sessions.get((await contact(service, chat_id)).id)
    assert raw is not None
    return SessionState.from_json(raw)


def text(key: str, language: str = "id", **values: str) -> str:
    """A bot text as Telegram shows it (emphasis asterisks become bold)."""
    return bold_spans(TEXTS.get(key, language, **values))[0]
