"""SIGKILL under load: `lk3 run` killed at random moments and restarted loses and repeats nothing.

Families write while the fake Bot API server misbehaves (429 with retry_after,
500, 502, a failing getUpdates); the bot is killed with SIGKILL several times at
random moments and started again. Afterwards the store is read: every message
is there once and processed, every reply is marked sent and reached the server,
and the replies sent twice are counted: only what was in flight when a kill
came may be sent again.

On WhatsApp the same, through signed webhooks while the fake Twilio API
misbehaves (429 with Retry-After, 500, 503): a kill can come while a webhook is
being answered, so Twilio posts that message again (the same MessageSid) once
the bot is back, as it does for a post that got no answer; it is stored once.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from support import free_port
from support.lk3proc import counts as counted
from support.lk3proc import report, start_lk3
from support.rawdb import database_exists, read_only_query
from telegram_api import FakeTelegram
from twilio_api import FakeTwilio

from bot.config import load_config

pytestmark = pytest.mark.kill

FAMILIES = 12
MESSAGES_EACH = 4
# `lk3 run` sends WhatsApp replies at 20 a second and one a second to each person, so
# the time to settle grows with the replies per family: the load is spread over more
# families, each writing once more at the end (about 20 s in all for 3 cycles).
WHATSAPP_FAMILIES = 24
TEXTS = ("menu", "1", "2", "terima kasih", "aku pengen mati aja")
# The outbox sender has at most this many sends in flight; each kill may repeat those.
SENDER_CONCURRENCY = 8
FALLBACK = "akan kami tindak lanjuti"  # bot/core/texts.toml [internal_error]
# A send the Bot API answered this long before a kill counts as in flight at the kill (its
# sent mark may not be written yet); a reply sent twice that was not in flight is a bug.
IN_FLIGHT_SECONDS = 1.0
# `make soak` sets many more kill cycles; `make test` runs three.
CYCLES = int(os.environ.get("LK3_SOAK_CYCLES", "3"))


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as server:
        yield server


def _config(tmp_path: Path, fake: FakeTelegram) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        'data_dir = "data"\n\n[telegram]\n'
        f'token = "{fake.token}"\napi_base_url = "{fake.api_base_url}"\n\n'
        f'[web]\nhost = "127.0.0.1"\nport = {free_port()}\n',
        encoding="utf-8",
    )
    return path


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
    killed_at: list[float] = []
    for chat in chats:
        fake.send_start(chat)
        offered += 1
    for _cycle in range(CYCLES):
        process = await start_lk3(config)
        # Families keep writing while the bot runs; it dies at a random moment.
        for _ in range(rng.randint(2, 5)):
            chat = rng.choice(chats)
            fake.send_text(chat, rng.choice(TEXTS))
            offered += 1
            await asyncio.sleep(rng.uniform(0.05, 0.4))
        await asyncio.sleep(rng.uniform(0.3, 1.5))
        process.send_signal(signal.SIGKILL)
        killed_at.append(time.monotonic())
        await asyncio.wait_for(process.wait(), 30)
        kills += 1
    for chat in chats:
        for _ in range(MESSAGES_EACH - 1):
            fake.send_text(chat, rng.choice(TEXTS))
            offered += 1
    process = await start_lk3(config)
    try:
        database = load_config(config, env={}).database_path

        def settled() -> bool:
            if fake.pending_updates or not database_exists(database):
                return False
            counts = counted(database)
            return (
                counts["inbox"] == offered and not counts["unprocessed"] and not (counts["pending"])
            )

        await fake.wait_for(settled, timeout=90 + CYCLES)
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), 30) == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    counts = counted(database)
    delivered = sum(len(fake.messages(chat)) for chat in chats)
    assert counts["inbox"] == offered, "every message stored exactly once"
    assert counts["unprocessed"] == 0
    assert counts["unanswered"] == 0, "every message led to at least one reply"
    assert counts["pending"] == 0 and counts["failed"] == 0
    assert delivered >= counts["outbox"], "every reply reached Telegram at least once"
    duplicates = delivered - counts["outbox"]
    # The window: sends the Bot API answered just before a kill (at most one extra each).
    sends = [call.at for call in fake.calls_to("sendMessage")]
    in_flight = sum(
        1 for at in sends for kill in killed_at if kill - IN_FLIGHT_SECONDS <= at <= kill
    )
    # Counts only (shown with -s or on failure): what `make soak` reports.
    report(
        "SIGKILL telegram",
        messages=offered,
        replies=counts["outbox"],
        lost=offered - counts["inbox"],
        twice=duplicates,
        fallbacks=sum(FALLBACK in t for chat in chats for t in fake.texts(chat)),
        resume=None,
        extra=f"{kills} kills, {in_flight} sends in flight at a kill",
    )
    assert duplicates <= in_flight, f"{duplicates} replies sent twice, {in_flight} in flight"


@pytest.fixture
async def twilio() -> AsyncIterator[FakeTwilio]:
    async with FakeTwilio() as server:
        yield server


def _whatsapp_config(tmp_path: Path, twilio: FakeTwilio, port: int) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        'data_dir = "data"\n\n[whatsapp]\n'
        f'account_sid = "{twilio.account_sid}"\nauth_token = "{twilio.auth_token}"\n'
        f'from_number = "{twilio.sender}"\napi_base_url = "{twilio.url}"\n\n'
        f'[web]\nhost = "127.0.0.1"\nport = {port}\npublic_url = "http://127.0.0.1:{port}"\n',
        encoding="utf-8",
    )
    return path


async def _listening(port: int, process: asyncio.subprocess.Process) -> None:
    async with httpx.AsyncClient() as client:
        for _ in range(600):
            assert process.returncode is None, "lk3 run stopped before listening"
            try:
                if (await client.get(f"http://127.0.0.1:{port}/healthz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.05)
    raise AssertionError("lk3 run never listened")


async def _until(predicate: Callable[[], bool], within: float) -> None:
    """Polls (bounded): after the last reply nothing calls the fake Twilio to wake a wait."""
    deadline = time.monotonic() + within
    while not predicate():
        assert time.monotonic() < deadline, "the bot did not settle"
        await asyncio.sleep(0.1)


def _stored_sids(database: Path) -> dict[int, list[str]]:
    """The Twilio SIDs recorded for each sent reply (one per part), by outbox id."""
    rows = read_only_query(database, "SELECT id, provider_id FROM outbox WHERE status = 'sent'")
    return {int(row): str(sids or "").split(",") for row, sids in rows}


class _Twilio:
    """Twilio's side of the webhooks: a message not answered with 200 is posted again."""

    def __init__(self, fake: FakeTwilio) -> None:
        self.fake = fake
        self.offered: set[str] = set()  # every MessageSid a family sent
        self.unanswered: list[dict[str, str]] = []  # to post again once the bot is back
        self._posts: list[asyncio.Task[None]] = []

    def write(self, number: str, text: str) -> None:
        params = self.fake.incoming(number, Body=text)
        self.offered.add(params["MessageSid"])
        self._post(params)

    def _post(self, params: dict[str, str]) -> None:
        self._posts.append(asyncio.create_task(self._deliver(params)))

    async def _deliver(self, params: dict[str, str]) -> None:
        try:
            answer = await self.fake.post_incoming(params)
        except httpx.TransportError:  # killed mid-request, or not listening
            self.unanswered.append(params)
            return
        if answer.status_code != 200:
            self.unanswered.append(params)

    async def posted(self) -> None:
        """Waits until every post under way has its answer (or its error)."""
        posts, self._posts = self._posts, []
        await asyncio.gather(*posts)

    def post_again(self) -> int:
        again, self.unanswered = self.unanswered, []
        for params in again:
            self._post(dict(params))
        return len(again)


async def test_whatsapp_sigkill_at_random_moments_loses_nothing_and_repeats_only_in_flight(
    tmp_path: Path, twilio: FakeTwilio
) -> None:
    rng = random.Random(2027)
    port = free_port()
    config = _whatsapp_config(tmp_path, twilio, port)
    twilio.connect(f"http://127.0.0.1:{port}")
    twilio.fail("rate_limited", times=3, retry_after=1)
    twilio.fail("server_error", times=3, after=5)
    twilio.fail("unavailable", times=2, after=15)
    numbers = [f"+62812{880_000 + n:07d}" for n in range(WHATSAPP_FAMILIES)]
    families = _Twilio(twilio)
    reposted = 0
    kills = 0
    for cycle in range(CYCLES):
        process = await start_lk3(config)
        await _listening(port, process)
        reposted += families.post_again()
        if cycle == 0:
            for number in numbers:
                families.write(number, "halo")
        # Families keep writing while the bot runs; it dies at a random moment,
        # perhaps in the middle of a webhook.
        for _ in range(rng.randint(2, 5)):
            families.write(rng.choice(numbers), rng.choice(TEXTS))
            await asyncio.sleep(rng.uniform(0.05, 0.4))
        await asyncio.sleep(rng.uniform(0.3, 1.5))
        # A few families write just as it dies: some webhooks are cut off mid-request.
        for _ in range(rng.randint(0, 4)):
            families.write(rng.choice(numbers), rng.choice(TEXTS))
        await asyncio.sleep(rng.uniform(0.0, 0.02))
        process.send_signal(signal.SIGKILL)
        await asyncio.wait_for(process.wait(), 30)
        kills += 1
        # ... and while it is down: Twilio gets no answer and will post again.
        families.write(rng.choice(numbers), rng.choice(TEXTS))
        await families.posted()
    process = await start_lk3(config)
    try:
        await _listening(port, process)
        reposted += families.post_again()
        for number in numbers:
            families.write(number, rng.choice(TEXTS))
        await families.posted()
        assert not families.unanswered, "the running bot answered every signed webhook"
        database = load_config(config, env={}).database_path

        def settled() -> bool:
            counts = counted(database)
            return counts["inbox"] >= len(families.offered) and not (
                counts["unprocessed"] or counts["pending"]
            )

        await _until(settled, within=60 + CYCLES)
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), 30) == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    counts = counted(database)
    stored = _stored_sids(database)
    delivered = [m for m in twilio.sent if m.number in numbers]
    reached = {m.sid for m in delivered}
    rows = {int(parse_qs(urlsplit(m.status_callback).query)["o"][0]) for m in delivered}
    assert counts["inbox"] == len(families.offered), "every message stored exactly once"
    assert counts["unprocessed"] == 0
    assert counts["unanswered"] == 0, "every message led to at least one reply"
    assert counts["pending"] == 0 and counts["failed"] == 0
    assert all(set(sids) <= reached for sids in stored.values()), "every reply reached Twilio"
    assert rows <= set(stored), "nothing reached Twilio that the store does not hold as sent"
    duplicates = len(delivered) - sum(len(sids) for sids in stored.values())
    report(
        "sigkill whatsapp",
        messages=len(families.offered),
        replies=len(stored),
        lost=len(families.offered) - counts["inbox"],
        twice=duplicates,
        fallbacks=sum(FALLBACK in m.body for m in delivered),
        resume=None,
        extra=f"{kills} kills, {reposted} posted again, bound {kills * SENDER_CONCURRENCY}",
    )
    assert duplicates <= kills * SENDER_CONCURRENCY, f"{duplicates} replies sent twice"
