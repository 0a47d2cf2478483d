"""Throughput of the write path, for `make bench`: receives and turns per second.

Work is offered concurrently (as many messages from many people would be), so
the figures include the writer's grouping of jobs into shared transactions.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from storage.crypto.keys import KeyRing
from storage.records import NewInbound, NewOutbound, TurnWrite
from storage.store import Store

__all__ = ["measure"]

CONCURRENCY = 64
CONTACTS = 200
_START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


async def _run_concurrently(count: int, work: Callable[[int], Awaitable[object]]) -> float:
    """Runs work(0..count-1) with CONCURRENCY in flight; returns the seconds taken."""
    queue = iter(range(count))

    async def worker() -> None:
        for index in queue:
            await work(index)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    return time.perf_counter() - started


async def measure(path: Path, n: int = 2000) -> dict[str, float]:
    """Measures n receives then n turns against a new database.

    `path` is a directory (the database is created inside it as bench.db) or a
    database file path that must not exist yet. Keys are generated in memory.
    """
    db_path = path / "bench.db" if path.is_dir() else path
    if db_path.exists():
        raise FileExistsError(f"benchmark database {db_path} already exists")
    store = await Store.open(db_path, KeyRing.generate())
    try:
        received: list[tuple[int, int]] = [(0, 0)] * n

        async def receive(index: int) -> None:
            item = NewInbound(
                "telegram",
                f"bench-{index}",
                "text",
                f"pesan nomor {index} tentang keluarga kami",
                _START + timedelta(seconds=index),
            )
            contact, inbox_id = await store.turns.receive(
                "telegram", str(100000 + index % CONTACTS), item
            )
            if inbox_id is None:
                raise RuntimeError("benchmark message was treated as a duplicate")
            received[index] = (contact.id, inbox_id)

        receive_seconds = await _run_concurrently(n, receive)

        async def turn(index: int) -> None:
            contact_id, inbox_id = received[index]
            at = _START + timedelta(seconds=n + index)
            reply = NewOutbound(
                contact_id, "telegram", "Terima kasih, kami mendengarkan.", (("1", "Ya"),), 5, at
            )
            state = '{"flow":"intake","node":"ask_need","vars":{}}'
            await store.turns.commit_turn(TurnWrite(inbox_id, contact_id, state, (reply,), at))

        turn_seconds = await _run_concurrently(n, turn)

        due_started = time.perf_counter()
        due = await store.outbox.due(_START + timedelta(seconds=3 * n), limit=n)
        due_seconds = time.perf_counter() - due_started
        stats = store.write_stats
    finally:
        await store.close()
    return {
        "receives_per_s": n / receive_seconds,
        "commit_turns_per_s": n / turn_seconds,
        "due_rows_decrypted_per_s": len(due) / due_seconds if due_seconds > 0 else 0.0,
        "mean_jobs_per_transaction": stats.jobs / stats.batches if stats.batches else 0.0,
        "largest_transaction_jobs": float(stats.largest_batch),
    }
