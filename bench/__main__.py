"""`make bench`: measures the store, the crisis check and the whole message path.

Prints one JSON object. Figures depend on the machine; they are for comparing
changes, and no test asserts them.
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
from pathlib import Path

from bench.pipeline import measure as measure_pipeline
from bot.safety.bench import measure as measure_safety
from storage.bench import measure as measure_storage


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="lk3-bench-") as tmp:
        base = Path(tmp)
        result = {
            "storage": asyncio.run(measure_storage(base / "storage")),
            "safety": measure_safety(),
            "pipeline": asyncio.run(measure_pipeline(base / "pipeline")),
        }
    json.dump(result, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
