"""SIGKILL under load: `lk3 run` killed at random moments and restarted loses and repeats nothing.

Families write while the fake Bot API server misbehaves (429 with retry_after,
500, 502, a failing getUpdates); the bot is killed with SIGKILL several times at
random moments and started again. Afterwards the store is read: every message
is there once and processed, every reply is marked sent and reached the server,
and the replies sent twice are counted: only what was in flight when a kill
came may be sent again.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import socket
import sqlite3
import sys
from collections.abc import AsyncIterator
from contextlib import closing
from pathlib import Path

import pytest
from telegram_api import FakeTelegram

from bot.config import load_config

ROOT = Path(__file__).resolve().parents[2]
FAMILIES = 12
MESSAGES_EACH = 4
TEXTS = ("menu", "1", "2", "terima kasih", "aku pengen mati aja")
# The outbox sender has at most this many sends in flight; each kill may repeat those.
SENDER_CONCURRENCY = 8
# `make soak` sets many more kill cycles; `make test` runs three.
CYCLES = int(os.environ.get("LK3_SOAK_CYCLES", "3"))


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as server:
        yield server


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _config(tmp_path: Path, fake: FakeTelegram) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        'data_dir = "data"\n\n[telegram]\n'
        f'token = "{fake.token}"\napi_base_url = "{fake.api_base_url}"\n\n'
        f'[web]\nhost = "127.0.0.1"\nport = {_free_port()}\n',
        encoding="utf-8",
    )
    return path


async def _start(config: Path) -> asyncio.subprocess.Process:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LK3_")}
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        "--config",
        str(config),
        cwd=config.parent,
        env={**env, "PYTHONPATH": str(ROOT)},
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )


def _counts(database: Path) -> dict[str, int]:
    """Plain counts (no personal data) read straight from the file after the runs."""
    with closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as db:
        one = lambda sql: int(db.execute(sql).fetchone()[0])  # noqa: E731
        return {
            "inbox": one("SELECT count(*) FROM inbox"),
            "unprocessed": one("SELECT count(*) FROM inbox WHERE processed_at IS NULL"),
            "unanswered": one(
                "SELECT count(*) FROM inbox i WHERE NOT EXISTS "
                "(SELECT 1 FROM outbox o WHERE o.inbox_id = i.id)"
            ),
            "outbox": one("SELECT count(*) FROM outbox"),
            "pending": one("SELECT count(*) FROM outbox WHERE status = 'pending'"),
            "failed": one("SELECT count(*) FROM outbox WHERE status = 'failed'"),
        }


async def test_sigkill_at_random_moments_loses_nothing_and_repeats_only_what_was_in_flight(
    tmp_path: Path, fake: FakeTelegram
) -> None:
    rng = random.Random(2026)
    config = _config(tmp_path, fake)
    fake.fail("sendMessage", "retry_after", times=3, retry_after=1)
    fake.fail("sendMessage", "server_error", times=3, after=5)
    fake.fail("sendMessage", "bad_gateway", times=2, after=15)
    fake.fail("getUpdates", "server_error", times=1, after=3)
    chats = [880_000_000 + n for n in range(FAMILIES)]
    offered = 0
    kills = 0
    for chat in chats:
        fake.send_start(chat)
        offered += 1
    for _cycle in range(CYCLES):
        process = await _start(config)
        # Families keep writing while the bot runs; it dies at a random moment.
        for _ in range(rng.randint(2, 5)):
            chat = rng.choice(chats)
            fake.send_text(chat, rng.choice(TEXTS))
            offered += 1
            await asyncio.sleep(rng.uniform(0.05, 0.4))
        await asyncio.sleep(rng.uniform(0.3, 1.5))
        process.send_signal(signal.SIGKILL)
        await asyncio.wait_for(process.wait(), 30)
        kills += 1
    for chat in chats:
        for _ in range(MESSAGES_EACH - 1):
            fake.send_text(chat, rng.choice(TEXTS))
            offered += 1
    process = await _start(config)
    try:
        database = load_config(config, env={}).database_path

        def settled() -> bool:
            if fake.pending_updates or not database.exists():
                return False
            counts = _counts(database)
            return counts["inbox"] == offered and not counts["unprocessed"] and not (
                counts["pending"]
            )

        await fake.wait_for(settled, timeout=90 + CYCLES)
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), 30) == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    counts = _counts(database)
    delivered = sum(len(fake.messages(chat)) for chat in chats)
    assert counts["inbox"] == offered, "every message stored exactly once"
    assert counts["unprocessed"] == 0
    assert counts["unanswered"] == 0, "every message led to at least one reply"
    assert counts["pending"] == 0 and counts["failed"] == 0
    assert delivered >= counts["outbox"], "every reply reached Telegram at least once"
    duplicates = delivered - counts["outbox"]
    assert duplicates <= kills * SENDER_CONCURRENCY, f"{duplicates} replies sent twice"
