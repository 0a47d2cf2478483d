"""`make bench`: measures the store, the crisis check, the message path and the whole bot.

`telegram` is the figure that matters: `lk3 run` in its own process against the
fake Bot API server, with the echo-bot floor and the flood (bench/telegram.py).
Its `bot` runs on SQLite and `bot_postgresql` the same loads on a throwaway
PostgreSQL (bench/postgres.py; skipped, and said so, when PostgreSQL is not
installed). `whatsapp` is the same bot on WhatsApp: signed Twilio webhooks in, the fake
Twilio API out, forged posts mixed in (bench/whatsapp.py). `two_processes` offers one
WhatsApp load to one `lk3 run` process and to two sharing a PostgreSQL database, the
webhooks sent to each in turn, and gives the ratio two/one (bench/scale.py; skipped,
and said so, without PostgreSQL).

Prints one JSON object (`python -m bench SECTION...` runs only those sections).
Figures depend on the machine; they are for comparing changes, and no test asserts
them.
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.metrics import measure as measure_metrics
from bench.pipeline import measure as measure_pipeline
from bench.postgres import DurablePg, unavailable
from bench.scale import two_processes
from bench.telegram import measure as measure_telegram
from bench.whatsapp import measure as measure_whatsapp
from bot.safety.bench import measure as measure_safety
from storage.bench import measure as measure_storage


def _telegram(folder: Path) -> dict[str, Any]:
    """The Telegram bench on SQLite, and on a throwaway PostgreSQL when one can start."""
    why_not = unavailable()
    if why_not is not None:
        print(f"bench: PostgreSQL runs skipped: {why_not}", file=sys.stderr)
        result = asyncio.run(measure_telegram(folder))
        result["bot_postgresql"] = {"skipped": why_not}
        return result
    with DurablePg() as server:
        return asyncio.run(measure_telegram(folder, postgres_url=server.fresh("lk3_bench")))


SECTIONS: dict[str, Callable[[Path], Any]] = {
    "storage": lambda folder: asyncio.run(measure_storage(folder)),
    "safety": lambda folder: measure_safety(),
    "pipeline": lambda folder: asyncio.run(measure_pipeline(folder, contacts=500)),
    "telegram": _telegram,
    "whatsapp": lambda folder: asyncio.run(measure_whatsapp(folder)),
    "two_processes": two_processes,
    "metrics": lambda folder: asyncio.run(measure_metrics(folder)),
}


def main(argv: list[str]) -> int:
    """Every section, or those named (`python -m bench telegram two_processes`).

    A section that fails is reported in the output as `{"failed": ...}` with its
    traceback on stderr, and the others still run and print: twenty minutes of
    figures are not lost to one section's crash; the exit status says it failed.
    """
    names = argv or list(SECTIONS)
    unknown = [name for name in names if name not in SECTIONS]
    if unknown:
        print(
            f"bench: no section {', '.join(unknown)}; known: {', '.join(SECTIONS)}", file=sys.stderr
        )
        return 2
    result: dict[str, Any] = {}
    failed = False
    with tempfile.TemporaryDirectory(prefix="lk3-bench-") as tmp:
        for name in names:
            try:
                result[name] = SECTIONS[name](Path(tmp) / name)
            except Exception as exc:
                failed = True
                traceback.print_exc()
                result[name] = {"failed": f"{type(exc).__name__}: {exc}"}
    json.dump(result, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
