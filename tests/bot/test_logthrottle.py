"""Repeated log events: the first logged, then one line with a count a minute."""

from __future__ import annotations

import logging

import pytest

from bot.logthrottle import LogThrottle

FORGED = "webhook: a forged request was refused"


def test_three_hundred_forged_posts_are_a_handful_of_lines_and_a_count(
    caplog: pytest.LogCaptureFixture,
) -> None:
    now = [0.0]
    noise = LogThrottle(logging.getLogger("test.noise"), clock=lambda: now[0])
    with caplog.at_level(logging.INFO, "test.noise"):
        for _ in range(300):
            noise.warning(FORGED)
            now[0] += 0.2  # 300 posts over a minute
        noise.warning(FORGED)
    assert [r.getMessage() for r in caplog.records] == [
        FORGED,
        f"{FORGED}; 300 more in the last 60 s",
    ]


def test_after_a_quiet_window_the_next_event_is_logged_as_a_first() -> None:
    now = [0.0]
    noise = LogThrottle(logging.getLogger("test.quiet"), clock=lambda: now[0])
    noise.info("x")
    now[0] = 120.0
    tally = noise._tallies[(logging.INFO, "x")]
    assert tally.note() == (0, 0.0)
    assert tally.unreported == 0
