"""WhatsApp under load: the bot in its own process, families as signed Twilio webhooks.

The bot (`python -m bench.whatsapp_bot`: `lk3 run`'s service with Twilio's pacing
lifted) talks through the real twilio client to the test suite's fake Twilio
API (tests/fakes/twilio_api.py), which this process runs. The families are
played by that fake too: each message is a form POSTed over real HTTP to the
bot's `/twilio/whatsapp`, signed with the auth token as Twilio signs it. The
bot's CPU and memory are read from /proc for its process alone; every latency
is taken on this process's clock, from the moment a message is offered to the
moment the first reply to that number reaches the fake Twilio API.

One post in a hundred is forged (signed with a wrong auth token, from a number
no family uses): each must be refused with 403, none may be stored, and no
reply may go to a forged number. The benchmark stops with an error otherwise.

Phases, in one bot process:

- overhead: every family writes "halo" (a first contact: welcome, safety note,
  consent: 4 replies), "setuju", then scripted turns (bench.load.script_for:
  information, triage, booking, 2% crisis texts), all families' turn at once;
- latency: a fixed offered load of 100 messages a second, one per new family
  (the Telegram benchmark's rate, for comparison), then 20 a second (a rate the
  bot keeps up with on the 2-core machine: latency without a queue).
"""

from __future__ import annotations

import asyncio
import os
import random
import socket
import sqlite3
import sys
import time
from collections.abc import Coroutine
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "fakes"))

from starlette.requests import Request  # noqa: E402
from starlette.responses import JSONResponse  # noqa: E402
from twilio.request_validator import RequestValidator  # noqa: E402

# The test suite's fake lives outside the typed packages.
from twilio_api import FakeTwilio  # type: ignore[import-not-found]  # noqa: E402

from bench.load import ReplyClock, add_counsellors, percentile, script_for  # noqa: E402
from bench.proc import cpu_seconds, peak_rss_mb  # noqa: E402
from bot.channels.whatsapp.protocol import INCOMING_PATH  # noqa: E402
from bot.config import load_config  # noqa: E402

__all__ = ["TimedTwilio", "measure"]

ROOT = Path(__file__).resolve().parents[1]
FIRST_FAMILY = 6281300000000  # +62 813 0000 0000 onwards
FIRST_FORGER = 6289900000000  # numbers only forged posts come from
WRONG_TOKEN = "0" * 32
TURN_TIMEOUT = float(os.environ.get("LK3_BENCH_TURN_TIMEOUT", "240"))


def _number(n: int) -> str:
    return f"+{n}"


class TimedTwilio(ReplyClock, FakeTwilio):  # type: ignore[misc]
    """The fake Twilio API, timing the first reply to every expected number."""

    def __init__(self) -> None:
        super().__init__()
        self._start_clock()
        self.forgers: set[str] = set()
        self.replies_to_forgers = 0

    async def _messages(self, request: Request) -> JSONResponse:
        answer: JSONResponse = await super()._messages(request)
        if answer.status_code != 201:
            return answer
        # Nothing awaited between the fake recording the message and returning it.
        number = self.sent[-1].number
        self._sent(number)
        if number in self.forgers:
            self.replies_to_forgers += 1
        return answer

    def drop_history(self) -> None:
        """Forgets recorded calls and messages so a long run does not grow the server."""
        self.calls.clear()
        self.sent.clear()
        self.refused.clear()


@dataclass(slots=True)
class _Tally:
    """What the families and the forger posted, and how the bot answered the posts."""

    forged_every: int  # one forged post after this many genuine ones
    genuine: int = 0
    forged: int = 0
    forged_refused: int = 0
    acks: list[float] = field(default_factory=list)  # seconds until the webhook's answer
    _forgers: int = 0

    def next_forger(self) -> str:
        self._forgers += 1
        return _number(FIRST_FORGER + self._forgers)


async def _offer(fake: TimedTwilio, tally: _Tally, number: str, text: str) -> None:
    """A family writes; the reply is timed from now."""
    offered = time.monotonic()
    fake.expect(number, offered)
    answer = await fake.send_text(number, text)
    tally.acks.append(time.monotonic() - offered)
    if answer.status_code != 200:
        raise RuntimeError(f"the bot answered a signed webhook with {answer.status_code}")
    tally.genuine += 1


async def _forge(fake: TimedTwilio, tally: _Tally) -> None:
    """A post that looks like Twilio's but is signed with the wrong auth token."""
    number = tally.next_forger()
    fake.forgers.add(number)
    params = fake.incoming(number, Body="halo")
    url = f"{fake.public_url}{INCOMING_PATH}"
    signature = RequestValidator(WRONG_TOKEN).compute_signature(url, params)
    answer = await fake.post_incoming(params, signature=signature)
    tally.forged += 1
    if answer.status_code == 403:
        tally.forged_refused += 1


def _posts(
    fake: TimedTwilio, tally: _Tally, number: str, text: str, index: int
) -> list[Coroutine[Any, Any, None]]:
    """A genuine message, and after every `forged_every`th one a forged post."""
    posts = [_offer(fake, tally, number, text)]
    if (index + 1) % tally.forged_every == 0:
        posts.append(_forge(fake, tally))
    return posts


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _write_config(folder: Path, fake: TimedTwilio) -> tuple[Path, str]:
    """A configuration with WhatsApp pointed at the fake; returns it and the public URL."""
    folder.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    public_url = f"http://127.0.0.1:{port}"
    path = folder / "config.toml"
    path.write_text(
        f'data_dir = "{folder / "data"}"\n\n[whatsapp]\n'
        f'account_sid = "{fake.account_sid}"\nauth_token = "{fake.auth_token}"\n'
        f'from_number = "{fake.sender}"\napi_base_url = "{fake.url}"\n\n'
        f'[web]\nhost = "127.0.0.1"\nport = {port}\npublic_url = "{public_url}"\n',
        encoding="utf-8",
    )
    return path, public_url


async def _spawn(
    config: Path, public_url: str, log: Path
) -> tuple[asyncio.subprocess.Process, float]:
    """Starts the bot; returns it and the seconds until its web server answered."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LK3_", "TWILIO_"))}
    spawned = time.monotonic()
    with log.open("ab") as err:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bench.whatsapp_bot",
            str(config),
            cwd=ROOT,
            env=env,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=err,
        )
    async with httpx.AsyncClient() as client:
        while time.monotonic() - spawned < 60 and process.returncode is None:
            try:
                if (await client.get(f"{public_url}/healthz")).status_code == 200:
                    return process, time.monotonic() - spawned
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.05)
    await _stop(process)
    raise RuntimeError(f"the WhatsApp bot did not start; see {log}")


async def _stop(process: asyncio.subprocess.Process) -> int:
    if process.returncode is None:
        process.terminate()
        try:
            await asyncio.wait_for(process.wait(), 60)
        except TimeoutError:
            process.kill()
            await process.wait()
    return process.returncode or 0


async def _turn(fake: TimedTwilio, tally: _Tally, messages: list[tuple[str, str]]) -> float:
    """Offers every message at once, waits for a reply to each and the tail; returns seconds."""
    begin = time.monotonic()
    posts: list[Coroutine[Any, Any, None]] = []
    for index, (number, text) in enumerate(messages):
        posts += _posts(fake, tally, number, text, index)
    await asyncio.gather(*posts)
    try:
        await fake.answered(TURN_TIMEOUT)
    except TimeoutError:
        raise RuntimeError(f"{fake.waiting} of {len(messages)} messages got no reply") from None
    await fake.quiet()
    return time.monotonic() - begin - 0.3


async def _overhead(
    fake: TimedTwilio, tally: _Tally, pid: int, families: int, turns: int
) -> dict[str, float]:
    rng = random.Random(7)
    scripts = {_number(FIRST_FAMILY + f): script_for(f, turns, rng) for f in range(families)}
    rounds = [[(n, "halo") for n in scripts], [(n, "setuju") for n in scripts]]
    rounds.extend([(n, s[t]) for n, s in scripts.items()] for t in range(turns))
    cpu_before = cpu_seconds(pid)
    sends_before = fake.sends
    busy = 0.0
    count = 0
    for messages in rounds:
        busy += await _turn(fake, tally, messages)
        count += len(messages)
        fake.drop_history()
    cpu = cpu_seconds(pid) - cpu_before
    return {
        "families": float(families),
        "inbound_messages": float(count),
        "inbound_per_second": count / busy,
        "cpu_ms_per_inbound": cpu * 1000 / count,
        "replies_per_inbound": (fake.sends - sends_before) / count,
    }


async def _steady(
    fake: TimedTwilio, tally: _Tally, pid: int, first: int, count: int, rate: float
) -> dict[str, float]:
    """Offers `count` messages at `rate` a second, one per new family; latency percentiles."""
    fake.latencies.clear()
    acks_before = len(tally.acks)
    cpu_before = cpu_seconds(pid)
    tasks: list[asyncio.Task[None]] = []
    begin = time.monotonic()
    for n in range(count):
        delay = begin + n / rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        text = "menu" if n % 3 else "1"
        posts = _posts(fake, tally, _number(first + n), text, n)
        tasks += [asyncio.create_task(p) for p in posts]
    offered_for = time.monotonic() - begin
    await asyncio.gather(*tasks)
    try:
        await fake.answered(TURN_TIMEOUT)
    except TimeoutError:
        raise RuntimeError(f"{fake.waiting} of {count} messages got no reply") from None
    await fake.quiet()
    cpu = cpu_seconds(pid) - cpu_before
    values = list(fake.latencies.values())
    acks = tally.acks[acks_before:]
    fake.drop_history()
    return {
        "offered_per_second": rate,
        "offered_per_second_achieved": count / offered_for if offered_for else rate,
        "messages": float(count),
        "p50_ms": percentile(values, 0.50) * 1000,
        "p95_ms": percentile(values, 0.95) * 1000,
        "p99_ms": percentile(values, 0.99) * 1000,
        "webhook_answer_p50_ms": percentile(acks, 0.50) * 1000,
        "webhook_answer_p99_ms": percentile(acks, 0.99) * 1000,
        "cpu_ms_per_inbound": cpu * 1000 / count,
    }


def _stored_messages(database: Path) -> int:
    with closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as db:
        return int(db.execute("SELECT count(*) FROM inbox").fetchone()[0])


async def measure(
    folder: Path,
    *,
    families: int = 400,
    turns: int = 2,
    fast_messages: int = 1000,
    steady_messages: int = 300,
    steady_rate: float = 20.0,
    forged_every: int = 100,
) -> dict[str, Any]:
    """Runs the phases (see the module docstring); returns the figures.

    The defaults finish in about a minute on the 2-core machine.
    """
    folder.mkdir(parents=True, exist_ok=True)
    log = folder / "bot-stderr.log"
    tally = _Tally(forged_every)
    generator_before = cpu_seconds(os.getpid())
    async with TimedTwilio() as fake:
        config, public_url = _write_config(folder / "bot", fake)
        await add_counsellors(config)
        fake.connect(public_url)
        process, startup = await _spawn(config, public_url, log)
        try:
            overhead = await _overhead(fake, tally, process.pid, families, turns)
            first = FIRST_FAMILY + families
            fast = await _steady(fake, tally, process.pid, first, fast_messages, 100.0)
            first += fast_messages
            steady = await _steady(fake, tally, process.pid, first, steady_messages, steady_rate)
            rss = peak_rss_mb(process.pid)
        finally:
            exit_code = await _stop(process)
        replies_to_forgers = fake.replies_to_forgers
    generator = cpu_seconds(os.getpid()) - generator_before
    stored = _stored_messages(load_config(config, env={}).database_path)
    forged_stored = stored - tally.genuine
    if tally.forged_refused != tally.forged or forged_stored or replies_to_forgers:
        raise RuntimeError(
            f"forged webhooks: {tally.forged} posted, {tally.forged_refused} refused, "
            f"{forged_stored} stored, {replies_to_forgers} replies to forged numbers"
        )
    return {
        **overhead,
        "startup_seconds": startup,
        "latency_at_100_per_second": fast,
        f"latency_at_{steady_rate:g}_per_second": steady,
        "peak_rss_mb": rss,
        "genuine_posts": float(tally.genuine),
        "forged_posts": float(tally.forged),
        "forged_refused": float(tally.forged_refused),
        "forged_stored": float(forged_stored),
        "load_generator_cpu_ms_per_inbound": generator * 1000 / tally.genuine,
        "bot_exit_code": float(exit_code),
    }
