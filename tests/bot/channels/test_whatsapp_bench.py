"""The WhatsApp benchmark runs end to end, small, and reports every figure (no timing assertions).

It spawns the bot process (bench.whatsapp_bot) and drives it with signed and
forged webhooks, so it also holds the bench to what it promises: forged posts
are refused, none is stored, and the bot stops cleanly.
"""

from __future__ import annotations

from pathlib import Path

from bench.whatsapp import measure

LATENCY_FIGURES = {
    "offered_per_second",
    "offered_per_second_achieved",
    "messages",
    "p50_ms",
    "p95_ms",
    "p99_ms",
    "webhook_answer_p50_ms",
    "webhook_answer_p99_ms",
    "cpu_ms_per_inbound",
}


async def test_measure_reports_throughput_latency_memory_and_refused_forgeries(
    tmp_path: Path,
) -> None:
    figures = await measure(
        tmp_path,
        families=6,
        turns=1,
        fast_messages=12,
        steady_messages=6,
        steady_rate=20.0,
        forged_every=4,
    )
    assert figures["inbound_messages"] == 6 * 3  # "halo", "setuju", one scripted turn
    assert figures["genuine_posts"] == 6 * 3 + 12 + 6
    # One after every fourth genuine post: in each of the 3 rounds of 6, then in each phase.
    assert figures["forged_posts"] == 3 * (6 // 4) + 12 // 4 + 6 // 4
    assert figures["forged_refused"] == figures["forged_posts"]
    assert figures["forged_stored"] == 0
    assert figures["bot_exit_code"] == 0
    assert figures["replies_per_inbound"] > 1  # a first contact gets several
    for phase in ("latency_at_100_per_second", "latency_at_20_per_second"):
        assert set(figures[phase]) == LATENCY_FIGURES
        assert figures[phase]["p50_ms"] > 0
    for name in ("inbound_per_second", "cpu_ms_per_inbound", "peak_rss_mb", "startup_seconds"):
        assert figures[name] > 0, name
