"""End-to-end throughput of the message path, in process, on a fresh data folder.

Many simulated families send a realistic mix (greeting, consent, menu choices,
free text, 2% crisis messages) through the real pipeline, store and outbox
sender; a channel at the network edge takes replies as fast as it can. Reports
inbound messages per second, reply latency percentiles and database bytes per
1,000 messages.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import random
import resource
import time
from pathlib import Path

from bot.app import App
from bot.channels.base import Inbound, Outbound
from bot.config import load_config

__all__ = ["measure"]

_CRISIS = ["aku pengen mati aja", "suami saya memukuli saya sekarang", "beta mau bunuh diri"]
_ROUTINE = ["1", "2", "menu", "3", "bagaimana cara daftar bansos?", "terima kasih", "bahasa"]


class _SinkChannel:
    """Takes replies instantly and records when each arrived."""

    name = "bench"
    buttons = True
    max_per_second = 1_000_000.0
    per_chat_interval = 0.0

    def __init__(self) -> None:
        self.arrivals: dict[str, list[float]] = {}

    async def send(self, message: Outbound) -> str | None:
        self.arrivals.setdefault(message.address, []).append(time.perf_counter())
        return None


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def measure(data_dir: Path, contacts: int = 2000, turns: int = 3) -> dict[str, float]:
    rng = random.Random(7)
    config = dataclasses.replace(load_config(None, env={}), data_dir=data_dir)
    channel = _SinkChannel()
    started = time.perf_counter()
    app = await App.open(config, [channel], env={})
    await app.start()
    startup = time.perf_counter() - started
    sent_at: list[tuple[str, float]] = []
    try:
        begin = time.perf_counter()
        cpu_begin = time.process_time()
        total = 0
        for turn in range(turns + 1):
            batch = []
            for c in range(contacts):
                if turn == 0:
                    inbound = Inbound("bench", f"s{c}", f"fam{c}", "start", "")
                elif turn == 1:
                    inbound = Inbound("bench", f"t{turn}-{c}", f"fam{c}", "choice", "agree")
                else:
                    text = rng.choice(_CRISIS) if rng.random() < 0.02 else rng.choice(_ROUTINE)
                    inbound = Inbound("bench", f"t{turn}-{c}", f"fam{c}", "text", text)
                batch.append(inbound)
            stamp = time.perf_counter()
            await asyncio.gather(*(app.receive(i) for i in batch))
            sent_at.extend((i.address, stamp) for i in batch)
            total += len(batch)
            await app.wait_idle()
        elapsed = time.perf_counter() - begin
        cpu = time.process_time() - cpu_begin
    finally:
        await app.stop()
    db = data_dir / "lk3.db"
    size = sum(p.stat().st_size for p in data_dir.glob("lk3.db*"))
    first_reply = [min(channel.arrivals.get(a, [s])) - s for a, s in sent_at[:contacts]]
    return {
        "contacts": float(contacts),
        "inbound_messages": float(total),
        "inbound_per_second": total / elapsed,
        "cpu_ms_per_inbound": cpu * 1000 / total,
        "greeting_latency_p50_ms": _percentile(first_reply, 0.50) * 1000,
        "greeting_latency_p99_ms": _percentile(first_reply, 0.99) * 1000,
        "database_bytes_per_1000_messages": size / total * 1000 if db.exists() else 0.0,
        "startup_seconds": startup,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "pid": float(os.getpid()),
    }
