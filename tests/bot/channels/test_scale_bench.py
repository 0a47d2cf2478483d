"""The two-process benchmark runs end to end, small, and reports every figure (no timing
assertions): one `lk3 run` process, then two on one PostgreSQL database, the same
signed WhatsApp webhooks sent to each in turn (bench/scale.py, in `make bench`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.postgres import unavailable
from bench.scale import two_processes

pytestmark = pytest.mark.e2e

SETUP_FIGURES = {
    "processes",
    "inbound_messages",
    "inbound_per_second",
    "cpu_ms_per_inbound",
    "replies_per_inbound",
    "posted_per_process",
    "peak_rss_mb_largest",
    "bot_exit_codes",
    "postgres_cpu_ms_per_inbound",
}


def test_one_and_two_processes_answer_the_same_load_and_the_ratio_is_given(
    tmp_path: Path,
) -> None:
    reason = unavailable()
    if reason is not None:
        pytest.skip(reason)
    figures = two_processes(tmp_path, families=6, turns=1)
    one, two = figures["one_process"], figures["two_processes"]
    for setup in (one, two):
        assert set(setup) == SETUP_FIGURES
        assert setup["inbound_messages"] == 6 * 3  # "halo", "setuju", one scripted turn
        assert setup["replies_per_inbound"] > 1  # a first contact gets several
        assert all(code == 0 for code in setup["bot_exit_codes"])
        for name in ("inbound_per_second", "cpu_ms_per_inbound", "peak_rss_mb_largest"):
            assert setup[name] > 0, name
    assert one["posted_per_process"] == [18.0]
    assert two["posted_per_process"] == [9.0, 9.0]  # in turn: the work is offered to both
    assert figures["throughput_ratio"] == pytest.approx(
        two["inbound_per_second"] / one["inbound_per_second"]
    )
    assert figures["cpu_ratio"] > 0
