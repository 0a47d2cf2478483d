"""`make bench-memory-postgres`: the bot's memory on PostgreSQL with 10,000 and 100,000
contacts, apart from `make bench` because adding 100,000 families through the bot takes
a quarter of an hour on the 2-core machine (`make bench` reads PostgreSQL at 10,000).

The bot process is `bench.botproc` against the fake Bot API, as in `make bench`'s
Telegram memory phase (bench/telegram.py `measure_bot`), with the overhead and latency
phases kept small; the database is a throwaway PostgreSQL server with its default
durability (bench/postgres.py). Prints one JSON object: resident memory now (VmRSS) and
its peak so far (VmHWM) at each number of contacts, and how long reaching it took.
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
from pathlib import Path

from bench.postgres import DurablePg, unavailable
from bench.telegram import MEMORY_CHECKPOINTS, measure_bot


def main() -> int:
    why_not = unavailable()
    if why_not is not None:
        print(f"bench: skipped: {why_not}", file=sys.stderr)
        return 0
    with tempfile.TemporaryDirectory(prefix="lk3-bench-") as tmp, DurablePg() as server:
        result = asyncio.run(
            measure_bot(
                Path(tmp),
                storage_url=server.fresh("lk3_memory"),
                families=200,
                turns=1,
                latency_messages=200,
                memory_checkpoints=MEMORY_CHECKPOINTS,
            )
        )
    figures = {"storage": result["storage"], "memory_at_contacts": result["memory_at_contacts"]}
    json.dump(figures, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
