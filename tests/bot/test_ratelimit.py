"""Sending limits: overall rate, per-chat gap, and a transport's retry_after."""

from __future__ import annotations

import pytest

from bot.ratelimit import RateLimiter


def test_burst_then_waits_for_a_token() -> None:
    limiter = RateLimiter(per_second=30, per_chat_interval=0)
    for i in range(30):
        assert limiter.wait_time(f"chat{i}", 0.0) == 0
        limiter.take(f"chat{i}", 0.0)
    assert limiter.wait_time("chat-new", 0.0) == pytest.approx(1 / 30)
    assert limiter.wait_time("chat-new", 1 / 30) == 0


def test_same_chat_waits_its_interval() -> None:
    limiter = RateLimiter(per_second=30, per_chat_interval=1.0)
    limiter.take("a", 10.0)
    assert limiter.wait_time("a", 10.2) == pytest.approx(0.8)
    assert limiter.wait_time("b", 10.2) == 0
    assert limiter.wait_time("a", 11.0) == 0


def test_retry_after_blocks_the_whole_channel() -> None:
    limiter = RateLimiter(per_second=30, per_chat_interval=0)
    limiter.block(5.0, now=100.0)
    assert limiter.wait_time("anyone", 101.0) == pytest.approx(4.0)
    limiter.block(1.0, now=101.0)  # a shorter block never shortens a longer one
    assert limiter.wait_time("anyone", 104.0) == pytest.approx(1.0)
    assert limiter.wait_time("anyone", 105.0) == 0
