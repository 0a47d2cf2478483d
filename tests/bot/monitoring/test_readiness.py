"""`/readyz` and `/metrics` under the fault tests' faults: a database that refuses writes,
Telegram failing (polls and sends), an urgent case with no counsellor linked. The
real service (python-telegram-bot included) runs against the fake Bot API server."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest
from bot_support import eventually
from monitoring_support import get, metric, ready_again, readyz, readyz_says, samples, with_health
from support.fulldb import FILLS_SQLITE, fill_database, give_room
from telegram_api import FakeTelegram
from telegram_support import FAST, app_of, running, settle, telegram_config

pytestmark = pytest.mark.e2e

TUNING = dataclasses.replace(FAST, request_timeout=2.0, poll_retry_first=0.2, poll_retry_cap=0.5)
FAMILY = 5_510_001
CRISIS = "saya mau bunuh diri malam ini"


@pytest.mark.sqlite_only(FILLS_SQLITE)
async def test_ready_until_the_database_refuses_writes_then_ready_again(
    tmp_path, fake: FakeTelegram
) -> None:
    config = telegram_config(tmp_path / "data", fake)
    async with running(config, TUNING) as service:
        app = app_of(service)
        await settle(service, fake, fake.send_start(FAMILY))
        assert await readyz(service) == (200, "ready")
        assert await metric(service, "lk3_storage_writable") == 1
        await fill_database(app.store)
        assert await readyz(service) == (503, "not ready: storage_unwritable")
        assert await metric(service, "lk3_storage_writable") == 0
        assert await metric(service, "lk3_ready") == 0
        assert (await get(service, "/healthz")).status_code == 503, "liveness says so too"
        await give_room(app.store)
        await eventually(lambda: app.health.ok, within=5)
        assert await readyz(service) == (200, "ready")


async def test_telegram_failing_makes_the_outbox_stale_then_the_channel_silent(
    tmp_path, fake: FakeTelegram
) -> None:
    config = with_health(
        telegram_config(tmp_path / "data", fake),
        channel_silence_seconds=2,
        outbox_max_age_seconds=2,
    )
    async with running(config, TUNING) as service:
        await settle(service, fake, fake.send_start(FAMILY))
        assert await readyz(service) == (200, "ready")
        # Sends fail: the family's message is taken, its reply waits in the outbox.
        fake.fail("sendMessage", "bad_gateway", times=10_000)
        update = fake.send_text(FAMILY, "halo")
        await fake.wait_for(lambda: fake.confirmed(update))
        await asyncio.sleep(2.5)
        assert await readyz(service) == (503, "not ready: outbox_stale")
        found = samples((await get(service, "/metrics")).text)
        assert found[("lk3_outbox_due", ())] >= 1
        assert found[("lk3_outbox_oldest_due_age_seconds", ())] > 2
        failures = {k[1]: v for k, v in found.items() if k[0] == "lk3_send_failures_total"}
        assert failures.get((("channel", "telegram"), ("reason", "network")), 0) >= 1, failures
        # Then polls fail too: Telegram is unreachable.
        fake.fail("getUpdates", "server_error", times=10_000)
        silent = (503, "not ready: telegram_silent, outbox_stale")
        assert await readyz_says(service, silent, within=15) == silent
        assert await metric(service, "lk3_channel_failing_seconds", channel="telegram") > 1
        fake.recover("getUpdates")
        fake.recover("sendMessage")
        await fake.wait_for(lambda: len(fake.texts(FAMILY)) >= 2, timeout=15)
        await app_of(service).wait_idle()
        assert await ready_again(service) == (200, "ready")  # at its next successful poll
        assert await metric(service, "lk3_channel_failing_seconds", channel="telegram") == 0


async def test_an_urgent_case_with_no_counsellor_linked_is_counted_waiting_and_unalerted(
    tmp_path, fake: FakeTelegram
) -> None:
    config = telegram_config(tmp_path / "data", fake)
    async with running(config, TUNING) as service:
        await settle(service, fake, fake.send_start(FAMILY))
        assert await metric(service, "lk3_urgent_cases_unalerted") == 0
        await settle(service, fake, fake.send_text(FAMILY, CRISIS))
        text = (await get(service, "/metrics")).text
        found = samples(text)
        assert found[("lk3_cases_waiting", (("urgency", "darurat"),))] == 1
        assert found[("lk3_urgent_cases_unalerted", ())] == 1
        assert found[("lk3_crisis_assessments_total", (("level", "urgent"),))] >= 1
        assert found[("lk3_messages_received_total", (("channel", "telegram"),))] == 2
        assert found[("lk3_messages_sent_total", (("channel", "telegram"),))] >= 2
        # Counts only: not the words, not the chat, not the case's code.
        case = (await app_of(service).store.handoff.queue())[0]
        for secret in ("bunuh", str(FAMILY), case.code):
            assert secret not in text
        assert await readyz(service) == (200, "ready"), "waiting cases are not a fault of the bot"
