"""Case webhooks from two `lk3 run` processes on one PostgreSQL database: the one
delivering is SIGKILLed in the middle of a delivery, and the other takes the receiver over
at its next look (the advisory lock went with the dead process's connection), well within
the 60 s a lease row would have held it. Every event arrives at least once, the receiver
dedupes by id, and the first arrivals are in the order the events happened.

The first process starts alone, so the first delivery is its own; the receiver holds that
request unanswered (the sender is "mid-send") while the second starts and more cases
open; then the first is killed.
"""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from receiver_support import SECRET, Receiver, receiving
from support import free_port
from support.lk3proc import listening, start_lk3
from support.pgshared import SharedDatabase, shared_database
from telegram_api import FakeTelegram

pytestmark = pytest.mark.kill

URGENT_WORDS = "suami saya memukuli saya sekarang"
LEASE_SECONDS = 60  # what a lease row would hold a dead sender's receiver for


@pytest.fixture
def database(tmp_path: Path) -> AsyncIterator[SharedDatabase]:
    db = shared_database(tmp_path)
    yield db
    db.drop()


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as server:
        yield server


def _config(folder: Path, keys: Path, fake: FakeTelegram, port: int, hook: str) -> Path:
    folder.mkdir()
    path = folder / "config.toml"
    path.write_text(
        f'data_dir = "data"\nkeys_dir = "{keys}"\n\n[telegram]\n'
        f'token = "{fake.token}"\napi_base_url = "{fake.api_base_url}"\n\n'
        f'[web]\nhost = "127.0.0.1"\nport = {port}\n\n'
        f'[webhooks.provinsi]\nurl = "{hook}"\nsecret = "{SECRET}"\n',
        encoding="utf-8",
    )
    return path


async def _until(predicate: object, within: float) -> float:
    start = time.monotonic()
    while not predicate():  # type: ignore[operator]
        assert time.monotonic() - start < within, "not reached in time"
        await asyncio.sleep(0.02)
    return time.monotonic() - start


def _events(database: SharedDatabase) -> list[tuple[str, str]]:
    """Every delivery row, oldest first: (event id, case code)."""
    rows = database.rows("SELECT event_id, case_code FROM webhook_deliveries ORDER BY id")
    return [(str(e), str(c)) for e, c in rows]


async def test_the_process_delivering_is_killed_and_the_other_takes_its_receiver_over_at_once(
    tmp_path: Path, fake: FakeTelegram, database: SharedDatabase
) -> None:
    ports = (free_port(), free_port())
    processes: list[asyncio.subprocess.Process] = []
    async with receiving(time.time()) as receiver:
        configs = [
            _config(tmp_path / name, database.keys, fake, port, receiver.url)
            for name, port in zip("ab", ports, strict=True)
        ]
        try:
            first = await start_lk3(configs[0], storage_url=database.url)
            processes.append(first)
            await listening(ports[0], first)
            receiver.hang_next = True  # the first delivery: taken, never answered
            fake.send_text(770_001, URGENT_WORDS)
            await asyncio.wait_for(receiver.arrived.wait(), 30)
            second = await start_lk3(configs[1], storage_url=database.url)
            processes.append(second)
            await listening(ports[1], second)
            for family in range(770_002, 770_008):
                fake.send_text(family, URGENT_WORDS)
            await _until(lambda: len(_events(database)) >= 7, 30)
            await asyncio.sleep(0.5)
            held = len(receiver.seen)  # the first process is stuck on its first send
            first.send_signal(signal.SIGKILL)
            killed = time.monotonic()
            await asyncio.wait_for(first.wait(), 30)
            for family in range(770_008, 770_011):
                fake.send_text(family, URGENT_WORDS)  # the survivor polls and opens these
            await _until(lambda: len(receiver.seen) > held, LEASE_SECONDS - 15)
            took_over = time.monotonic() - killed

            def all_arrived() -> bool:
                events = _events(database)
                return len(events) == 10 and {e for e, _ in events} <= set(receiver.seen)

            await _until(all_arrived, LEASE_SECONDS - 15)
            everything = time.monotonic() - killed
            second.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(second.wait(), 30) == 0
        finally:
            for process in processes:
                if process.returncode is None:
                    process.kill()
                    await process.wait()
    events = _events(database)
    states = database.rows(
        "SELECT count(*) FILTER (WHERE status = 'delivered'), count(*) FILTER"
        " (WHERE status = 'pending') FROM webhook_deliveries"
    )
    print(
        f"\nwebhooks, two processes, the delivering one SIGKILLed: the survivor's first"
        f" delivery {took_over:.1f} s after the kill, all {len(events)} events"
        f" {everything:.1f} s after; {len(receiver.seen) - len(set(receiver.seen))}"
        " sent twice"
    )
    _check(receiver, events)
    assert states == [(10, 0)]


def _check(receiver: Receiver, events: list[tuple[str, str]]) -> None:
    ids = [e for e, _ in events]
    assert receiver.bad_signatures == 0
    assert set(ids) <= set(receiver.seen), "every event arrived at least once"
    assert [t["id"] for t in receiver.taken] == ids, "taken once each, in the order they happened"
    # The one sent twice is the one in flight at the kill, again with the same id.
    first = receiver.seen[0]
    assert receiver.seen.count(first) == 2
    assert len(receiver.seen) == len(ids) + 1
    by_case: dict[str, list[str]] = {}
    for event, case in events:
        by_case.setdefault(case, []).append(event)
    arrived = {event: receiver.seen.index(event) for event in ids}
    for case_events in by_case.values():
        assert [arrived[e] for e in case_events] == sorted(arrived[e] for e in case_events)
