"""Telegram outages: the bot hears again within seconds of Telegram answering.

A back-off that doubled to 60 s once left the bot deaf for about five minutes
after a ten-failure outage, crisis messages included. Waits are now capped at a
few seconds (bot.backoff); the schedule is checked on the default tuning over
an outage of more than a minute, and the whole bot against the fake Bot API
on a time-scaled tuning (so the test runs in about two seconds).
"""

from __future__ import annotations

import dataclasses
import logging
import time

import pytest
from telegram_api import FakeTelegram
from telegram_support import FAST, running, settle

from bot.backoff import Backoff
from bot.channels.telegram.protocol import Tuning
from bot.config import Config


def test_over_an_outage_of_more_than_a_minute_no_wait_exceeds_five_seconds() -> None:
    defaults = Tuning()
    for draw in (0.0, 0.5, 1.0):  # no jitter, half, the most
        backoff = Backoff(
            first=defaults.poll_retry_first, cap=defaults.poll_retry_cap, uniform=lambda d=draw: d
        )
        waited = 0.0
        waits = []
        while waited <= 90.0:
            waits.append(backoff.next_wait())
            waited += waits[-1]
        assert max(waits) <= 5.0  # Telegram answering again is heard within 5 s
        assert min(waits) >= 0.4  # and a dead upstream is not hammered
        backoff.reset()
        assert backoff.next_wait() <= defaults.poll_retry_first


def test_jitter_only_shortens_a_wait() -> None:
    backoff = Backoff(first=1.0, cap=4.0, jitter=0.25, uniform=lambda: 1.0)
    assert [backoff.next_wait() for _ in range(4)] == [0.75, 1.5, 3.0, 3.0]


@pytest.mark.e2e
async def test_a_message_sent_when_telegram_recovers_is_answered_promptly(
    fake: FakeTelegram, config: Config, caplog: pytest.LogCaptureFixture
) -> None:
    # Time scaled by 1/50: a 1.5 s outage stands for 75 s, the 0.1 s cap for 5 s.
    tuning = dataclasses.replace(FAST, poll_retry_first=0.01, poll_retry_cap=0.1)
    async with running(config, tuning) as service:
        await settle(service, fake, fake.send_start(8100))  # the bot is up and polling
        fake.fail("getUpdates", "server_error", times=100_000)
        outage_began = time.monotonic()
        await fake.wait_for(lambda: time.monotonic() - outage_began > 1.5, timeout=5.0)
        failed = len(fake.calls_to("getUpdates"))
        fake.recover("getUpdates")
        recovered = time.monotonic()
        update = fake.send_text(8100, "tolong")
        await settle(service, fake, update)
        answered_after = time.monotonic() - recovered
    assert failed > 10  # the outage was a long run of failures
    polls = [call.at for call in fake.calls_to("getUpdates")]
    gaps = [b - a for a, b in zip(polls, polls[1:], strict=False) if a > outage_began]
    assert max(gaps) < 1.0  # every wait stayed near its 0.1 s cap (slack for a busy host)
    assert answered_after < 5.0
    lines = [r for r in caplog.records if "getUpdates failed" in r.getMessage()]
    assert 1 <= len(lines) <= failed // 20 + 1  # a long outage is a few lines
    assert all(r.exc_info is None for r in lines)
    assert any("answers again" in r.getMessage() for r in caplog.records)


@pytest.mark.e2e
async def test_an_answer_that_is_not_json_is_one_line_without_a_traceback(
    fake: FakeTelegram, config: Config, caplog: pytest.LogCaptureFixture
) -> None:
    tuning = dataclasses.replace(FAST, poll_retry_first=0.01, poll_retry_cap=0.1)
    async with running(config, tuning) as service:
        await settle(service, fake, fake.send_start(8200))
        caplog.clear()
        polls = len(fake.calls_to("getUpdates"))
        fake.fail("getUpdates", "malformed")
        # The broken answer was served and a later poll made: the bot has read it.
        await fake.wait_for(lambda: len(fake.calls_to("getUpdates")) >= polls + 3)
        await settle(service, fake, fake.send_text(8200, "halo"))  # and the bot goes on
    lines = [r for r in caplog.records if r.levelno >= logging.WARNING]
    said = [r.getMessage() for r in lines]
    assert said[0].startswith("telegram: getUpdates failed (TelegramError, 1 in a row)"), said
    assert len(said) <= 2, said
    assert all(r.exc_info is None for r in caplog.records)
    assert "<html>" not in caplog.text
