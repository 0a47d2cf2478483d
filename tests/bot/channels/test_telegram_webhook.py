"""Webhook mode: Telegram posts updates to our web server, which checks the secret token.

Through the real web server over HTTP: the fake posts updates the way Telegram
does, with or without the secret given in setWebhook.
"""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from bot_support import asks
from telegram_api import FakeTelegram
from telegram_support import SECRET, app_of, running, telegram_config

from bot.channels.telegram.protocol import ALLOWED_UPDATES, MAX_WEBHOOK_BODY
from bot.config import Config
from bot.run import Service

pytestmark = pytest.mark.e2e


@pytest.fixture
def config(tmp_path: Path, fake: FakeTelegram) -> Config:
    return telegram_config(tmp_path / "data", fake, mode="webhook")


async def stored(service: Service) -> int:
    return await app_of(service).store.contacts.count()


async def test_the_webhook_is_set_with_its_secret_polling_is_not_used_and_health_answers(
    fake: FakeTelegram, config: Config
) -> None:
    async with running(config) as service:
        assert fake.webhook is not None
        assert fake.webhook["url"] == config.telegram.webhook_url
        assert fake.webhook["secret_token"] == SECRET
        assert fake.webhook["allowed_updates"] == list(ALLOWED_UPDATES)
        assert service.web is not None
        async with httpx.AsyncClient() as client:
            health = await client.get(f"http://127.0.0.1:{service.web.port}/healthz")
        assert (health.status_code, health.text) == (200, "ok")
    assert fake.calls_to("getUpdates") == []
    assert fake.calls_to("deleteWebhook") == []


async def test_only_an_update_with_the_right_secret_is_stored_answered_200_and_processed(
    fake: FakeTelegram, config: Config
) -> None:
    async with running(config) as service:
        for secret in [None, "", "wrong-secret-0123456789", SECRET + "x", SECRET[:-1]]:
            fake.send_text(8002, "halo")
            response = await fake.post_webhook(fake.next_update(), secret=secret)
            assert response.status_code == 403, secret
        await app_of(service).wait_idle()
        assert await stored(service) == 0, "a refused update was stored"
        assert fake.texts(8002) == []

        fake.send_start(8001, "qr-puskesmas")
        response = await fake.post_webhook(fake.next_update())
        assert response.status_code == 200
        assert await stored(service) == 1, "stored before the 200"
        await app_of(service).wait_idle()
        assert "selamat datang" in fake.texts(8001)[0].lower()

        fake.press(8001, "agree")
        assert (await fake.post_webhook(fake.next_update())).status_code == 200
        await app_of(service).wait_idle()
        assert asks(fake.texts(8001)[-1], "Apa yang bisa kami bantu?")


async def test_an_oversized_body_is_refused_413_and_one_that_is_not_an_update_400(
    fake: FakeTelegram, config: Config
) -> None:
    async with running(config) as service:
        huge = fake.send_text(8003, "x" * MAX_WEBHOOK_BODY)
        assert (await fake.post_webhook(json.dumps(huge).encode())).status_code == 413
        for body in [b"{not json", b"[1, 2, 3]", b'{"update_id": "x"}', b""]:
            assert (await fake.post_webhook(body)).status_code == 400, body
        assert await stored(service) == 0
