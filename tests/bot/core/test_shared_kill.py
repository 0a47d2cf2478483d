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
printed (`make soak` reports it). A last phase kills the LEADER while an urgent case
waits for its alert: the new leader alerts it, once.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import sys
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from support import free_port
from support.lk3proc import ROOT, listening, report
from support.pgshared import SharedDatabase, shared_database
from telegram_api import FakeTelegram
from twilio_api import FakeTwilio

from bot.config import KEY_FILE_NAME, KEYTREE_NAME
from bot.core.failpoints import EXIT_CODE
from storage.crypto.keys import KeyRing
from storage.store import Store

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
    """A process's config: its own data folder and port, the keys folder of both."""
    folder.mkdir()
    path = folder / "config.toml"
    path.write_text(
        f'data_dir = "data"\nkeys_dir = "{keys}"\n\n[telegram]\n'
        f'token = "{fake.token}"\napi_base_url = "{fake.api_base_url}"\n\n'
        f'[web]\nhost = "127.0.0.1"\nport = {port}\n',
        encoding="utf-8",
    )
    return path


async def _start(config: Path, url: str, **extra: str) -> asyncio.subprocess.Process:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LK3_", "TWILIO_"))}
    env.update(extra)
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
    keys = database.keys
    ports = (free_port(), free_port())
    first_config = _config(tmp_path / "a", keys, fake, ports[0])
    second_config = _config(tmp_path / "b", keys, fake, ports[1])
    chats = [881_000_000 + n for n in range(FAMILIES)]
    offered = 0
    # The first leads (it is the first to ask for the lock), so it polls.
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
        # A burst the leader fetches and stores just before it dies: some of it stored
        # but not processed, perhaps fetched but not confirmed.
        for chat in chats:
            fake.send_text(chat, rng.choice(TEXTS))
            offered += 1
        await fake.wait_for(lambda: not fake.pending_updates, timeout=10)
        await asyncio.sleep(0.05)
        first.send_signal(signal.SIGKILL)
        killed = time.monotonic()
        await asyncio.wait_for(first.wait(), 30)
        at_kill = database.counts()  # what the dead one (and the live one) had not finished
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
            done = not counts["unprocessed"] and not counts["pending"]
            return counts["inbox"] == offered and done

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
    twice_processed = database.processed_twice()
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
        extra=f"the survivor answered a family writing at the kill {answered:.1f}s after it,"
        f" processed twice {twice_processed}, {in_flight} sends in flight at the kill,"
        f" {at_kill['unprocessed']} messages unprocessed and {at_kill['pending']} replies"
        " unsent at the kill",
    )
    assert counts["inbox"] == offered, "every message stored exactly once"
    assert counts["unprocessed"] == 0
    assert twice_processed == 0, "no message processed twice"
    assert database.out_of_order() == [], "each family's messages processed in order"
    assert counts["unanswered"] == 0, "every message led to at least one reply"
    assert counts["pending"] == 0 and counts["failed"] == 0
    assert delivered >= counts["outbox"], "every reply reached Telegram at least once"
    assert duplicates <= in_flight, f"{duplicates} replies sent twice, {in_flight} in flight"


WHATSAPP_FAMILIES = 20
# A process has at most this many sends in flight; the killed one's may go again.
SENDER_CONCURRENCY = 8
PROXY = "http://lk3.example"  # what Twilio signs for: the proxy in front of both


@pytest.fixture
async def twilio() -> AsyncIterator[FakeTwilio]:
    async with FakeTwilio() as server:
        yield server


def _whatsapp_config(folder: Path, keys: Path, twilio: FakeTwilio, port: int) -> Path:
    folder.mkdir()
    path = folder / "config.toml"
    path.write_text(
        f'data_dir = "data"\nkeys_dir = "{keys}"\n\n[whatsapp]\n'
        f'account_sid = "{twilio.account_sid}"\nauth_token = "{twilio.auth_token}"\n'
        f'from_number = "{twilio.sender}"\napi_base_url = "{twilio.url}"\n\n'
        f'[web]\nhost = "127.0.0.1"\nport = {port}\npublic_url = "{PROXY}"\n',
        encoding="utf-8",
    )
    return path


class _Proxy:
    """Twilio behind a proxy to two processes: each webhook goes to one of those alive;
    one not answered with 200 (the process died under it) is posted again to another."""

    def __init__(self, twilio: FakeTwilio, ports: tuple[int, int], rng: random.Random) -> None:
        self.twilio = twilio
        self.alive = [f"http://127.0.0.1:{port}" for port in ports]
        self.offered: set[str] = set()
        self.reposted = 0
        self._rng = rng
        self._posts: list[asyncio.Task[None]] = []

    def write(self, number: str, text: str) -> None:
        params = self.twilio.incoming(number, Body=text)
        self.offered.add(params["MessageSid"])
        self._posts.append(asyncio.create_task(self._deliver(params)))

    async def _deliver(self, params: dict[str, str]) -> None:
        for attempt in range(50):
            self.twilio.deliver_to = self._rng.choice(self.alive)  # read before any await
            try:
                answer = await self.twilio.post_incoming(params)
                if answer.status_code == 200:
                    return
            except httpx.TransportError:
                pass
            self.reposted += 1
            await asyncio.sleep(0.2 * (attempt + 1))
        raise AssertionError("a webhook never answered")

    async def posted(self) -> None:
        posts, self._posts = self._posts, []
        await asyncio.gather(*posts)


async def test_whatsapp_webhooks_to_two_processes_one_killed_lose_nothing_repeat_nothing(
    tmp_path: Path, twilio: FakeTwilio, database: SharedDatabase
) -> None:
    rng = random.Random(2029)
    keys = database.keys
    ports = (free_port(), free_port())
    twilio.connect(PROXY, f"http://127.0.0.1:{ports[0]}")
    first = await _start(_whatsapp_config(tmp_path / "a", keys, twilio, ports[0]), database.url)
    second: asyncio.subprocess.Process | None = None
    numbers = [f"+62812{881_000 + n:07d}" for n in range(WHATSAPP_FAMILIES)]
    proxy = _Proxy(twilio, ports, rng)
    try:
        await listening(ports[0], first)
        second = await _start(
            _whatsapp_config(tmp_path / "b", keys, twilio, ports[1]), database.url
        )
        await listening(ports[1], second)
        for number in numbers:
            proxy.write(number, "halo")
        # Each family's messages reach either process; the first dies in the middle.
        for _ in range(40):
            proxy.write(rng.choice(numbers), rng.choice(TEXTS))
            await asyncio.sleep(rng.uniform(0.02, 0.1))
        first.send_signal(signal.SIGKILL)
        killed = time.monotonic()
        proxy.alive.remove(f"http://127.0.0.1:{ports[0]}")
        await asyncio.wait_for(first.wait(), 30)
        newcomer = "+628128819999"
        proxy.write(newcomer, "halo")
        for _ in range(20):
            proxy.write(rng.choice(numbers), rng.choice(TEXTS))
            await asyncio.sleep(rng.uniform(0.02, 0.1))
        await proxy.posted()
        await _until(lambda: twilio.messages_to(newcomer), 30)
        answered = time.monotonic() - killed

        def settled() -> bool:
            counts = database.counts()
            done = not counts["unprocessed"] and not counts["pending"]
            return counts["inbox"] == len(proxy.offered) and done

        await _until(settled, 60)
        second.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(second.wait(), 30) == 0
    finally:
        for process in (first, second):
            if process is not None and process.returncode is None:
                process.kill()
                await process.wait()
    counts = database.counts()
    stored = {
        int(row): str(sids or "").split(",")
        for row, sids in database.rows("SELECT id, provider_id FROM outbox WHERE status = 'sent'")
    }
    delivered = [m for m in twilio.sent if m.number in [*numbers, newcomer]]
    reached = {m.sid for m in delivered}
    duplicates = len(delivered) - sum(len(sids) for sids in stored.values())
    twice_processed = database.processed_twice()
    report(
        "two processes whatsapp, one SIGKILLed",
        messages=len(proxy.offered),
        replies=len(stored),
        lost=len(proxy.offered) - counts["inbox"],
        twice=duplicates,
        fallbacks=0,
        resume=answered,
        extra=f"the survivor answered a newcomer {answered:.1f}s after the kill,"
        f" processed twice {twice_processed}, {proxy.reposted} webhooks posted again",
    )
    assert counts["inbox"] == len(proxy.offered), "every message stored exactly once"
    assert counts["unprocessed"] == 0
    assert twice_processed == 0, "no message processed twice"
    assert database.out_of_order() == [], "each family's messages processed in order"
    assert counts["unanswered"] == 0, "every message led to at least one reply"
    assert counts["pending"] == 0 and counts["failed"] == 0
    assert all(set(sids) <= reached for sids in stored.values()), "every reply reached Twilio"
    assert duplicates <= SENDER_CONCURRENCY, f"{duplicates} replies sent twice"


async def _until(predicate: Callable[[], object], within: float) -> None:
    deadline = time.monotonic() + within
    while not predicate():
        assert time.monotonic() < deadline, "the processes did not settle"
        await asyncio.sleep(0.1)


SARI = 881_500_001  # a counsellor
URGENT_FAMILY = 881_500_002
URGENT_WORDS = "suami saya memukuli saya sekarang"


async def _counsellor_code(database: SharedDatabase, folder: Path) -> str:
    """Sari, a counsellor, and her `/link` code, written before the processes start."""
    keys = database.keys
    keyring = KeyRing.load(keys / KEY_FILE_NAME, {})
    now = datetime.now(UTC)
    async with await Store.open(
        folder / "lk3.db", keyring, keytree=keys / KEYTREE_NAME, url=database.url
    ) as store:
        member = await store.staff.add("sari", "Sari", ["counsellor"], now)
        return await store.staff.issue_link_code(member.id, now)


async def test_the_leader_dies_while_an_urgent_case_waits_for_its_alert_and_the_next_alerts_it_once(
    tmp_path: Path, fake: FakeTelegram, database: SharedDatabase
) -> None:
    code = await _counsellor_code(database, tmp_path)
    ports = (free_port(), free_port())
    # The first leads; it dies (abruptly, as a SIGKILL: no cleanup) the moment its
    # escalation finds the case's alert due, before writing it.
    first = await _start(
        _config(tmp_path / "a", database.keys, fake, ports[0]),
        database.url,
        LK3_FAILPOINTS="before_alert",
    )
    second: asyncio.subprocess.Process | None = None
    try:
        await listening(ports[0], first)
        second = await _start(_config(tmp_path / "b", database.keys, fake, ports[1]), database.url)
        await listening(ports[1], second)
        fake.send_text(SARI, f"/link {code}")
        await fake.wait_for(lambda: fake.messages(SARI), timeout=30)
        fake.send_text(URGENT_FAMILY, URGENT_WORDS)
        # It died at `before_alert`: the case's alert was due and not written.
        assert await asyncio.wait_for(first.wait(), 30) == EXIT_CODE
        died = time.monotonic()
        waiting = database.one(  # read just after; the next leader may be quicker
            "SELECT count(*) FROM cases WHERE urgency = 'darurat' AND alerted_at IS NULL"
        )
        await fake.wait_for(lambda: _alerts(fake), timeout=30)
        alerted = time.monotonic() - died
        await fake.wait_for(lambda: any("112" in t for t in fake.texts(URGENT_FAMILY)), 30)
        await asyncio.sleep(1.0)  # a second alert, were there one, would be out by now
        second.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(second.wait(), 30) == 0
    finally:
        for process in (first, second):
            if process is not None and process.returncode is None:
                process.kill()
                await process.wait()
    events = [str(e) for (e,) in database.rows("SELECT event FROM case_events ORDER BY id")]
    counts = database.counts()
    report(
        "two processes, the leader killed with an urgent case waiting for its alert",
        messages=counts["inbox"],
        replies=counts["outbox"],
        lost=0,
        twice=len(_alerts(fake)) - 1,
        fallbacks=0,
        resume=alerted,
        extra=f"the new leader alerted the case {alerted:.1f}s after the old one died;"
        f" {waiting} urgent case(s) unalerted at its death",
    )
    [alert] = _alerts(fake)
    assert "DARURAT" in alert and "memukuli" not in alert
    assert events.count("alerted") == 1, "alerted once"
    assert counts["unprocessed"] == 0 and counts["pending"] == 0


def _alerts(fake: FakeTelegram) -> list[str]:
    return [t for t in fake.texts(SARI) if "KASUS" in t]
