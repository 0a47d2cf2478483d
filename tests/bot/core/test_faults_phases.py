"""The soak's outage, double-start and deleted-WAL phases: `lk3 run` against the fake Bot API.

Each phase prints one line of figures (messages, replies, lost, sent twice,
fallback replies, time to resume); `make soak` runs more episodes of each
(LK3_SOAK_CYCLES, one episode per 50 cycles), `make test` one.

- outage: Telegram answers every call with 5xx for a while (replies fail, nothing
  is received), then answers again: the replies waiting go within 5 s.
- double start: a second `lk3 run` on the folder is refused in one line while the
  first goes on; nothing is sent twice.
- deleted WAL: after a SIGKILL the write-ahead log is deleted; the start is refused
  in one line; with the log put back the bot starts and loses nothing.
"""

from __future__ import annotations

import asyncio
import os
import random
import shutil
import signal
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from support import free_port
from support.lk3proc import counts, lk3_config, report, start_lk3, stored_inbox, until
from support.rawdb import database_exists
from telegram_api import FakeTelegram

pytestmark = pytest.mark.e2e

EPISODES = max(1, int(os.environ.get("LK3_SOAK_CYCLES", "3")) // 50)
TEXTS = ("menu", "1", "2", "terima kasih", "aku pengen mati aja")
FALLBACK = "akan kami tindak lanjuti"  # bot/core/texts.toml [internal_error]
OUTAGE_SECONDS = 20.0  # long enough for waiting replies to back off past 15 s


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as server:
        yield server


def _delivered(fake: FakeTelegram, chats: list[int]) -> int:
    return sum(len(fake.messages(chat)) for chat in chats)


def _fallbacks(fake: FakeTelegram, chats: list[int]) -> int:
    return sum(FALLBACK in text for chat in chats for text in fake.texts(chat))


async def _stop(process: asyncio.subprocess.Process) -> int:
    if process.returncode is None:
        process.send_signal(signal.SIGTERM)
        try:
            return await asyncio.wait_for(process.wait(), 30)
        except TimeoutError:
            process.kill()
            return await process.wait()
    return process.returncode


def _caught_up(fake: FakeTelegram, database: Path, offered: int) -> bool:
    if fake.pending_updates or not database_exists(database):
        return False
    found = counts(database)
    return found["inbox"] == offered and not (found["unprocessed"] or found["pending"])


async def test_soak_outage_replies_resume_within_5s_of_telegram_answering(
    tmp_path: Path, fake: FakeTelegram
) -> None:
    rng = random.Random(2029)
    chats = [5_510_000 + n for n in range(12)]
    config = lk3_config(tmp_path, port=free_port(), telegram=(fake.token, fake.api_base_url))
    database = tmp_path / "data" / "lk3.db"
    process = await start_lk3(config)
    offered = 0
    resumes: list[float] = []
    try:
        for chat in chats:
            fake.send_start(chat)
            offered += 1
        await fake.wait_for(lambda n=offered: _caught_up(fake, database, n), timeout=60)
        for _ in range(EPISODES):
            # Families write; Telegram goes down while their replies are on their way.
            for chat in chats:
                fake.send_text(chat, rng.choice(TEXTS))
                offered += 1
            await fake.wait_for(lambda n=offered: counts(database)["inbox"] == n, timeout=30)
            fake.down("server_error")
            for chat in chats[:4]:
                fake.send_text(chat, rng.choice(TEXTS))  # written during the outage
                offered += 1
            await asyncio.sleep(OUTAGE_SECONDS)
            waiting = counts(database)["pending"]
            fake.up()
            ended = time.monotonic()
            await until(lambda: counts(database)["pending"] == 0, 30, "replies out")
            resumes.append(time.monotonic() - ended)
            assert waiting > 0, "replies were waiting when the outage ended"
            await until(lambda n=offered: _caught_up(fake, database, n), 30, "caught up")
        assert await _stop(process) == 0
    finally:
        await _stop(process)
    found = counts(database)
    replies = _delivered(fake, chats)
    fallbacks = _fallbacks(fake, chats)
    report(
        "outage",
        messages=offered,
        replies=found["outbox"],
        lost=offered - found["inbox"],
        twice=replies - found["outbox"],
        fallbacks=fallbacks,
        resume=max(resumes),
        extra=f"{EPISODES} outages of {OUTAGE_SECONDS:.0f}s",
    )
    assert found["inbox"] == offered and found["unprocessed"] == 0
    assert found["failed"] == 0 and replies == found["outbox"]
    assert fallbacks == 0
    assert max(resumes) < 5.0, resumes


async def test_soak_double_start_is_refused_and_nothing_is_sent_twice(
    tmp_path: Path, fake: FakeTelegram
) -> None:
    rng = random.Random(2030)
    chats = [5_520_000 + n for n in range(8)]
    config = lk3_config(tmp_path, port=free_port(), telegram=(fake.token, fake.api_base_url))
    database = tmp_path / "data" / "lk3.db"
    first = await start_lk3(config)
    offered = 0
    try:
        for chat in chats:
            fake.send_start(chat)
            offered += 1
        await fake.wait_for(lambda n=offered: _caught_up(fake, database, n), timeout=60)
        for _ in range(EPISODES):
            for chat in chats:
                fake.send_text(chat, rng.choice(TEXTS))
                offered += 1
            second = await start_lk3(config, stderr=True)
            _, said = await asyncio.wait_for(second.communicate(), 60)
            lines = said.decode(errors="replace").strip().splitlines()
            assert second.returncode == 2, lines
            assert len(lines) == 1 and lines[0].startswith("lk3: cannot start:"), lines
            await fake.wait_for(lambda n=offered: _caught_up(fake, database, n), timeout=60)
        assert await _stop(first) == 0
    finally:
        await _stop(first)
    found = counts(database)
    replies = _delivered(fake, chats)
    report(
        "double start",
        messages=offered,
        replies=found["outbox"],
        lost=offered - found["inbox"],
        twice=replies - found["outbox"],
        fallbacks=_fallbacks(fake, chats),
        resume=None,
        extra=f"{EPISODES} second starts refused",
    )
    assert found["inbox"] == offered and found["unprocessed"] == 0
    assert replies == found["outbox"], "the second process sent nothing"


@pytest.mark.sqlite_only("deletes SQLite's write-ahead log; a server keeps its own")
async def test_soak_deleted_wal_is_refused_and_put_back_loses_nothing(
    tmp_path: Path, fake: FakeTelegram
) -> None:
    rng = random.Random(2031)
    chats = [5_530_000 + n for n in range(8)]
    config = lk3_config(tmp_path, port=free_port(), telegram=(fake.token, fake.api_base_url))
    data = tmp_path / "data"
    database = data / "lk3.db"
    offered = 0
    resumes: list[float] = []
    for chat in chats:
        fake.send_start(chat)
        offered += 1
    for _ in range(EPISODES):
        process = await start_lk3(config)
        try:
            for chat in chats:
                fake.send_text(chat, rng.choice(TEXTS))
                offered += 1
            await until(lambda n=offered: stored_inbox(database) == n, 60)
        finally:
            process.kill()
            await process.wait()
        kept = tmp_path / "wal-kept"
        kept.mkdir(exist_ok=True)
        for side in ("lk3.db-wal", "lk3.db-shm"):
            if (data / side).exists():
                shutil.move(data / side, kept / side)
        refused = await start_lk3(config, stderr=True)
        _, said = await asyncio.wait_for(refused.communicate(), 60)
        lines = said.decode(errors="replace").strip().splitlines()
        assert refused.returncode == 2 and len(lines) == 1, lines
        assert "has lost committed work" in lines[0], lines
        for side in ("lk3.db-wal", "lk3.db-shm"):  # the operator puts the log back
            if (kept / side).exists():
                shutil.move(kept / side, data / side)
        again = time.monotonic()
        process = await start_lk3(config)
        try:
            await fake.wait_for(lambda n=offered: _caught_up(fake, database, n), timeout=60)
            resumes.append(time.monotonic() - again)
            assert await _stop(process) == 0
        finally:
            await _stop(process)
    found = counts(database)
    replies = _delivered(fake, chats)
    report(
        "deleted WAL",
        messages=offered,
        replies=found["outbox"],
        lost=offered - found["inbox"],
        twice=replies - found["outbox"],
        fallbacks=_fallbacks(fake, chats),
        resume=max(resumes),
        extra=f"{EPISODES} deletions refused; resume: start with the log put back to caught up",
    )
    assert found["inbox"] == offered and found["unprocessed"] == 0 and found["pending"] == 0
    assert replies >= found["outbox"]
