"""Sending limits: overall rate, per-chat gap, and a transport's retry_after."""

from __future__ import annotations

import pytest

from bot.core.ratelimit import RateLimiter


def test_a_small_burst_then_an_even_pace() -> None:
    limiter = RateLimiter(per_second=30, per_chat_interval=0)
    for i in range(3):
        assert limiter.wait_time(f"chat{i}", 0.0) == 0
        limiter.take(f"chat{i}", 0.0)
    assert limiter.wait_time("chat-new", 0.0) == pytest.approx(1 / 27)
    assert limiter.wait_time("chat-new", 1 / 27) == 0


@pytest.mark.parametrize("per_second", [1, 5, 30, 80])
@pytest.mark.parametrize("start", [0.0, 0.37])
def test_no_second_ever_holds_more_sends_than_the_stated_rate(
    per_second: float, start: float
) -> None:
    """Sending as fast as allowed for ten seconds: every one-second window is within
    the limit (Telegram answers 429 and blocks everything beyond it)."""
    limiter = RateLimiter(per_second=per_second, per_chat_interval=0)
    now = start
    sent: list[float] = []
    while now < start + 10:
        wait = limiter.wait_time(f"chat{len(sent)}", now)
        if wait == 0:
            limiter.take(f"chat{len(sent)}", now)
            sent.append(now)
        else:
            now += wait
    for first in sent:
        assert sum(1 for t in sent if first <= t < first + 1.0) <= per_second
    assert len(sent) >= per_second * 0.9 * 9, "the pace stays close to the limit"


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


@pytest.mark.parametrize("processes", [2, 3])
def test_processes_sharing_one_token_together_never_pass_the_stated_rate(processes: int) -> None:
    """Several processes on one database send for one bot token: each at its share
    (bot.core.outbox counts them), so every one-second window of all of them together
    stays within the limit, and each keeps close to its share."""
    limiters = [RateLimiter(per_second=30, per_chat_interval=0) for _ in range(processes)]
    for limiter in limiters:
        limiter.share(processes)
    sent: list[float] = []
    for n, limiter in enumerate(limiters):
        now = n * 0.013
        mine = 0
        while now < 10:
            wait = limiter.wait_time(f"chat{len(sent)}", now)
            if wait == 0:
                limiter.take(f"chat{len(sent)}", now)
                sent.append(now)
                mine += 1
            else:
                now += wait
        assert mine >= 30 / processes * 0.9 * 9
    for first in sent:
        assert sum(1 for t in sent if first <= t < first + 1.0) <= 30
