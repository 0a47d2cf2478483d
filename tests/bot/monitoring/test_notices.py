"""The supervisors' second route: an urgent case that reached no counsellor for
`widen_after_minutes`, or Telegram unreachable, is told by email (a local SMTP
server here), with codes only, once per fault and again after the reminder
interval, and a restart neither repeats nor forgets it."""

from __future__ import annotations

import asyncio
import dataclasses
import signal
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from bot_support import ROOT, clean_env
from smtp_support import Mailbox, smtp_server
from support import Clock, free_port
from telegram_api import FakeTelegram
from telegram_support import FAST, app_of, running, settle, telegram_config

from bot.config import Config
from bot.monitorconfig import Alerts
from bot.run import Service
from storage.engine.db import Tx

pytestmark = pytest.mark.e2e

FAMILY = 5_520_001
CRISIS = "saya mau bunuh diri malam ini"
SUPERVISOR = "supervisor@lk3.test"


def with_alerts(config: Config, port: int) -> Config:
    return dataclasses.replace(
        config, alerts=Alerts(email_to=(SUPERVISOR,), smtp_port=port, remind_minutes=60)
    )


def close_case(case_id: int) -> Callable[[Tx], Awaitable[None]]:
    async def job(tx: Tx) -> None:
        await tx.execute("UPDATE cases SET status = 'closed' WHERE id = ?", (case_id,))

    return job


async def one_pass(service: Service) -> None:
    assert service.watch is not None and service.watch.notices is not None
    await service.watch.notices.run_once()


async def test_an_urgent_case_nobody_could_be_alerted_to_is_emailed_once_then_reminded(
    tmp_path: Path, fake: FakeTelegram
) -> None:
    clock = Clock(datetime(2026, 12, 7, 3, 0, tzinfo=UTC))
    with smtp_server() as (mailbox, port):
        config = with_alerts(telegram_config(tmp_path / "data", fake), port)
        async with running(config, FAST, clock=clock) as service:
            await settle(service, fake, fake.send_text(FAMILY, CRISIS))
            [case] = await app_of(service).store.handoff.queue()
            await one_pass(service)
            assert mailbox.messages == [], "not before widen_after_minutes"
            clock.advance(minutes=config.escalation.widen_after_minutes)
            await one_pass(service)
            await one_pass(service)
            assert len(mailbox.messages) == 1, "told once, not once per pass"
            [mail] = mailbox.messages
            assert mail["To"] == SUPERVISOR
            said = mailbox.bodies()[0]
            assert case.code in said and "case_undelivered" in said
            assert "bunuh" not in said and str(FAMILY) not in said, "codes only"
            clock.advance(minutes=59)
            await one_pass(service)
            assert len(mailbox.messages) == 1
            clock.advance(minutes=1)
            await one_pass(service)
            assert len(mailbox.messages) == 2, "reminded after remind_minutes"
        # A restart neither repeats the notice nor forgets the fault.
        async with running(config, FAST, clock=clock) as service:
            await one_pass(service)
            assert len(mailbox.messages) == 2
            clock.advance(minutes=60)
            await one_pass(service)
            assert len(mailbox.messages) == 3
            notices = await app_of(service).store.monitoring.notices()
            assert notices == [(f"case:{case.code}", 3, False)]
            # The case is closed (as the console does): the fault is resolved.
            await app_of(service).store._writer.run("close", close_case(case.id))
            clock.advance(minutes=60)
            await one_pass(service)
            assert len(mailbox.messages) == 3
            assert await app_of(service).store.monitoring.notices() == [
                (f"case:{case.code}", 3, True)
            ]


async def wait_for_mail(mailbox: Mailbox, within: float) -> None:
    deadline = time.monotonic() + within
    while not mailbox.messages:
        assert time.monotonic() < deadline, "no notice was emailed"
        await asyncio.sleep(0.2)


async def test_lk3_run_emails_supervisors_when_telegram_is_unreachable(
    tmp_path: Path, fake: FakeTelegram
) -> None:
    with smtp_server() as (mailbox, smtp_port):
        port = free_port()
        config = tmp_path / "config.toml"
        config.write_text(
            f'data_dir = "{tmp_path / "data"}"\n\n[telegram]\n'
            f'token = "{fake.token}"\napi_base_url = "{fake.api_base_url}"\n'
            f'\n[web]\nhost = "127.0.0.1"\nport = {port}\n'
            f'\n[alerts]\nemail_to = ["{SUPERVISOR}"]\nsmtp_port = {smtp_port}\n'
            "unreachable_seconds = 5\n\n[health]\nchannel_silence_seconds = 3\n",
            encoding="utf-8",
        )
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", "--config", str(config),
            cwd=ROOT, env=clean_env(), stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        try:
            async with httpx.AsyncClient() as client:
                deadline = time.monotonic() + 60
                while True:
                    try:
                        if (await client.get(f"http://127.0.0.1:{port}/readyz")).status_code == 200:
                            break
                    except httpx.TransportError:
                        pass
                    assert time.monotonic() < deadline, "lk3 run never became ready"
                    await asyncio.sleep(0.2)
                fake.fail("getUpdates", "server_error", times=1_000_000)
                # Telegram is unreachable from now: the long poll `lk3 run` began before
                # (25 s) answers now, so the failures start at once, not up to 25 s on; the
                # notice must still come from those failures lasting unreachable_seconds.
                fake.end_polls()
                await wait_for_mail(mailbox, within=40)
                ready = await client.get(f"http://127.0.0.1:{port}/readyz")
            said = mailbox.bodies()[0]
            assert "channel_unreachable" in said and "telegram" in said
            assert fake.token not in said
            await asyncio.sleep(6)
            assert len(mailbox.messages) == 1, "once per fault"
            assert ready.status_code == 503 and "telegram_silent" in ready.text
        finally:
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
                await asyncio.wait_for(process.wait(), 30)
        assert process.stderr is not None
        errors = (await process.stderr.read()).decode(errors="replace")
        assert process.returncode == 0, errors[-2000:]
        assert fake.token not in errors
