"""The cost of serving `/metrics` and `/readyz` on a data folder with a history: a few
thousand messages answered, urgent cases waiting with nobody to alert, replies due.

Reports milliseconds per scrape (the three indexed queries and the exposition text)
and per readiness check, so a Prometheus scraping every 15 s is seen to cost nothing.
"""

from __future__ import annotations

import dataclasses
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.pipeline import _SinkChannel
from bot.app import App
from bot.channels.base import Inbound
from bot.config import load_config
from bot.monitoring.metrics import render_metrics
from bot.monitoring.readiness import not_ready
from bot.monitoring.sources import Sources

__all__ = ["measure"]

_CRISIS = "beta mau bunuh diri"


async def measure(data_dir: Path, contacts: int = 1000, scrapes: int = 200) -> dict[str, float]:
    config = dataclasses.replace(load_config(None, env={}), data_dir=data_dir)
    channel = _SinkChannel()
    app = await App.open(config, [channel], env={})
    await app.start()
    try:
        for c in range(contacts):
            await app.receive(Inbound("bench", f"s{c}", f"fam{c}", "start", ""))
            text = _CRISIS if c % 20 == 0 else "halo"
            await app.receive(Inbound("bench", f"t{c}", f"fam{c}", "text", text))
        await app.wait_idle()
        sources = Sources(
            config=config,
            store=app.store,
            writes=app.health,
            tally=app.pipeline.tally,
            pulses={},
            channels=("bench",),
            clock=lambda: datetime.now(UTC),
        )
        body = await render_metrics(sources, True)
        begin = time.perf_counter()
        for _ in range(scrapes):
            await render_metrics(sources, True)
        per_scrape = (time.perf_counter() - begin) / scrapes
        begin = time.perf_counter()
        for _ in range(scrapes):
            await not_ready(sources)
        per_check = (time.perf_counter() - begin) / scrapes
        waiting = sum(w.count for w in await app.store.monitoring.waiting())
    finally:
        await app.stop()
    return {
        "contacts": float(contacts),
        "cases_waiting": float(waiting),
        "metrics_ms_per_scrape": per_scrape * 1000,
        "readyz_ms_per_check": per_check * 1000,
        "metrics_bytes": float(len(body)),
    }
