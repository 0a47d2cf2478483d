"""The two-process benchmark runs end to end, small, and reports every figure (no timing
assertions): one `lk3 run` process, then two on one PostgreSQL database, the same
signed WhatsApp webhooks sent to each in turn (bench/scale.py, in `make bench`); then
the same with each process capped at a share of a core where a cgroup can be made."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.cpucap import CpuCap
from bench.cpucap import available as cap_unavailable
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
    "posts_sent_again",
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
    why_not = cap_unavailable()
    if why_not is not None:
        assert figures["capped"] == figures["capped_by_family"] == {"skipped": why_not}
        return
    for capped in (figures["capped"], figures["capped_by_family"]):
        for setup in (capped["one_process"], capped["two_processes"]):
            assert set(setup) == SETUP_FIGURES | {"cpu_share_per_process", "throttled_seconds"}
            assert setup["cpu_share_per_process"] == 0.25
            assert setup["inbound_messages"] == 6 * 3
            assert all(code == 0 for code in setup["bot_exit_codes"])
        assert capped["throughput_ratio"] > 0
    # A family's three messages go to one process: three whole families each.
    assert figures["capped_by_family"]["two_processes"]["posted_per_process"] == [9.0, 9.0]


def test_a_capped_process_gets_no_more_than_its_share_of_a_core() -> None:
    """What the capped phase rests on: a busy loop under a 0.2 cap gets at most about a
    fifth of the wall time as CPU (a loaded machine gives it less, never more), and the
    cap's folder goes when it is closed."""
    import subprocess
    import sys

    why_not = cap_unavailable()
    if why_not is not None:
        pytest.skip(why_not)
    spin = (
        "import sys, time\n"
        "sys.stdin.readline()\n"  # waits until it is under the cap
        "cpu, wall = time.process_time(), time.monotonic()\n"
        "while time.monotonic() < wall + 1.0: pass\n"
        "print(time.process_time() - cpu, time.monotonic() - wall)"
    )
    with CpuCap(0.2) as cap:
        child = subprocess.Popen(
            [sys.executable, "-c", spin], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        cap.add(child.pid)
        out, _ = child.communicate("go\n", timeout=60)
        folder = cap.folder
    cpu, wall = (float(n) for n in out.split())
    assert cpu <= 0.2 * wall + 0.15, (cpu, wall)  # uncapped it would be about 1.0
    assert not folder.exists()
