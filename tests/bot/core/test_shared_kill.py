"""Two `lk3 run` processes on one PostgreSQL database; one is killed under load.

Families write through the fake Bot API while two real processes share the
work (LK3_STORAGE_URL: the same database; each its own data folder, both the
same keys folder). Only the leader polls getUpdates (Telegram allows one
consumer per token); both process messages and send replies. The leader is
killed with SIGKILL in the middle of the load: the survivor takes over the
polling, the messages the dead one had stored but not processed, and the replies
it had not sent. Afterwards: every message stored once, processed once (one
commit per message: its replies share one creation time), answered; every reply
reached Telegram, and only the sends in flight at the kill may have gone twice.
The time from the kill to the survivor's answer to a family writing just then is
printed (`make soak` reports it).
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from support import free_port
from support.lk3proc import ROOT, listening, report
from support.pgshared import SharedDatabase, shared_database
from telegram_api import FakeTelegram

pytestmark = pytest.mark.kill

FAMILIES = 16
TEXTS = ("menu", "1", "2", "terima kasih", "halo")
IN_FLIGHT_SECONDS = 1.0  # a send answered this long before the kill may not be marked yet


@pytest.fixture
def database(tmp_path: Path) -> AsyncIterator[SharedDatabase]:
    db = shared_database(tmp_path)
    yield db
    db.drop()


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as server:
        yield server


def _config(folder: Path, keys: Path, fake: FakeTelegram, port: int) -> Path:
    folder.mkdir()
    path = folder / "config.toml"
    path.write_text(
        f'data_dir = "data"\nkeys_dir = "{keys}"\n\n[telegram]\n'
        f'token = "{fake.token}"\napi_base_url = "{fake.api_base_url}"\n\n'
        f'[web]\nhost = "127.0.0.1"\nport = {port}\n',
        encoding="utf-8",
    )
    return path


async def _start(config: Path, url: str) -> asyncio.subprocess.Process:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LK3_", "TWILIO_"))}
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        "--config",
        str(config),
        cwd=config.parent,
        env={**env, "PYTHONPATH": str(ROOT), "LK3_STORAGE_URL": url},
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )


async def test_two_processes_one_killed_under_load_lose_nothing_and_repeat_nothing(
    tmp_path: Path, fake: FakeTelegram, database: SharedDatabase
) -> None:
    rng = random.Random(2028)
    keys = tmp_path / "keys"
    ports = (free_port(), free_port())
    first_config = _config(tmp_path / "a", keys, fake, ports[0])
    second_config = _config(tmp_path / "b", keys, fake, ports[1])
    chats = [881_000_000 + n for n in range(FAMILIES)]
    offered = 0
    # The first creates the keys; it leads (it is first to ask), and polls.
    first = await _start(first_config, database.url)
    second: asyncio.subprocess.Process | None = None
    try:
        await listening(ports[0], first)
        second = await _start(second_config, database.url)
        await listening(ports[1], second)
        for chat in chats:
            fake.send_start(chat)
            offered += 1
        # Families write while both run; the leader dies in the middle of it.
        for _ in range(30):
            fake.send_text(rng.choice(chats), rng.choice(TEXTS))
            offered += 1
            await asyncio.sleep(rng.uniform(0.02, 0.12))
        first.send_signal(signal.SIGKILL)
        killed = time.monotonic()
        await asyncio.wait_for(first.wait(), 30)
        # A family writes just as it dies: the survivor must take over and answer it.
        newcomer = 881_999_999
        fake.send_text(newcomer, "halo")
        offered += 1
        for _ in range(20):
            fake.send_text(rng.choice(chats), rng.choice(TEXTS))
            offered += 1
            await asyncio.sleep(rng.uniform(0.02, 0.12))
        await fake.wait_for(lambda: fake.messages(newcomer), timeout=30)
        answered = time.monotonic() - killed

        def settled() -> bool:
            if fake.pending_updates:
                return False
            counts = database.counts()
            return counts["inbox"] == offered and not counts["unprocessed"] and not counts["pending"]

        await fake.wait_for(settled, timeout=60)
        second.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(second.wait(), 30) == 0
    finally:
        for process in (first, second):
            if process is not None and process.returncode is None:
                process.kill()
                await process.wait()
    counts = database.counts()
    delivered = sum(len(fake.messages(chat)) for chat in [*chats, newcomer])
    twice_processed = database.one(
        "SELECT count(*) FROM (SELECT inbox_id FROM outbox WHERE inbox_id IS NOT NULL"
        " GROUP BY inbox_id HAVING count(DISTINCT created_at) > 1) AS t"
    )
    sends = [call.at for call in fake.calls_to("sendMessage")]
    in_flight = sum(1 for at in sends if killed - IN_FLIGHT_SECONDS <= at <= killed)
    duplicates = delivered - counts["outbox"]
    report(
        "two processes, one SIGKILLed",
        messages=offered,
        replies=counts["outbox"],
        lost=offered - counts["inbox"],
        twice=duplicates,
        fallbacks=0,
        resume=answered,
        extra=f"processed twice {twice_processed}, {in_flight} sends in flight at the kill",
    )
    assert counts["inbox"] == offered, "every message stored exactly once"
    assert counts["unprocessed"] == 0
    assert twice_processed == 0, "no message processed twice"
    assert counts["unanswered"] == 0, "every message led to at least one reply"
    assert counts["pending"] == 0 and counts["failed"] == 0
    assert delivered >= counts["outbox"], "every reply reached Telegram at least once"
    assert duplicates <= in_flight, f"{duplicates} replies sent twice, {in_flight} in flight"
