"""The whole bot, as deployed, under load: `lk3 run` against the fake Bot API server.

The bot runs in its own process (python-telegram-bot, pipeline, SQLite, outbox
sender); the families and the fake server run in this one, so the bot's CPU and
memory are read from /proc for its process alone and every latency is measured
on the server's clock: from the moment an update is offered to the bot until
the first reply to that chat reaches the server. Phases:

- overhead: families send scripted turns (information, triage, booking, 2%
  crisis), all families' turn at once, with the server answering as fast as it
  can and the bot's pacing lifted (bench.botproc unpaced);
- latency: a fixed offered load of 100 messages a second;
- memory: more families until the store holds 10,000 contacts, then 100,000
  (resident memory now and at its peak, read at each);
- floor: a minimal python-telegram-bot echo bot under the same overhead and
  latency load, run twice (updates handled one after another, and concurrently):
  the floor is the faster of the two, and the bot's throughput and CPU per
  message are given as ratios to it;
- flood: the server enforces 30 sends a second (429 with retry_after) and every
  family writes at once, 2% in crisis, to the bot exactly as `lk3 run` runs it.
"""

from __future__ import annotations

import asyncio
import os
import random
import socket
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.load import CRISIS, TimedFake, add_counsellors, percentile, script_for
from bench.proc import cpu_seconds, peak_rss_mb, rss_mb
from bot.app import open_keyring
from bot.config import load_config
from bot.handoff.alerts import TAKE_PREFIX
from storage.store import Store

__all__ = ["measure"]

ROOT = Path(__file__).resolve().parents[1]
FIRST_CHAT = 500_000_000
COUNSELLOR_CHAT = 499_999_999
TURN_TIMEOUT = float(os.environ.get("LK3_BENCH_TURN_TIMEOUT", "240"))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _write_config(folder: Path, fake: TimedFake, storage_url: str | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "config.toml"
    storage = "" if storage_url is None else f'\n[storage]\nurl = "{storage_url}"\n'
    path.write_text(
        f'data_dir = "{folder / "data"}"\n\n[telegram]\n'
        f'token = "{fake.token}"\napi_base_url = "{fake.api_base_url}"\n\n'
        f'[web]\nhost = "127.0.0.1"\nport = {_free_port()}\n{storage}',
        encoding="utf-8",
    )
    return path


async def _link_code(config_path: Path, counsellor: int = 0) -> str:
    """A one-time `/link` code for a counsellor (issued as `lk3 staff link` does)."""
    config = load_config(config_path, env={})
    keyring = open_keyring(config, env={})
    async with await Store.open(
        config.database_path, keyring, keytree=config.keytree_path, url=config.storage_url
    ) as store:
        member = await store.staff.by_username(f"konselor{counsellor}")
        assert member is not None
        return await store.staff.issue_link_code(member.id, datetime.now(UTC))


class _Child:
    """A bot process and where its stderr goes."""

    def __init__(self, process: asyncio.subprocess.Process, spawned: float) -> None:
        self.process = process
        self.spawned = spawned

    @property
    def pid(self) -> int:
        return self.process.pid

    async def stop(self) -> int:
        if self.process.returncode is None:
            self.process.terminate()
            try:
                await asyncio.wait_for(self.process.wait(), 60)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()
        return self.process.returncode or 0


async def _spawn(args: list[str], log: Path, fake: TimedFake) -> tuple[_Child, float]:
    """Starts a bot; returns it and the seconds until it first polled for updates."""
    polls = len(fake.calls_to("getUpdates"))
    spawned = time.monotonic()
    with log.open("ab") as err:
        process = await asyncio.create_subprocess_exec(
            sys.executable, *args, cwd=ROOT, stdout=asyncio.subprocess.DEVNULL, stderr=err
        )
    child = _Child(process, spawned)
    try:
        await fake.wait_for(
            lambda: len(fake.calls_to("getUpdates")) > polls or process.returncode is not None,
            timeout=60,
        )
        if process.returncode is not None:
            raise AssertionError("exited")
    except AssertionError:
        await child.stop()
        raise RuntimeError(f"the bot did not start; see {log}") from None
    return child, time.monotonic() - spawned


async def _turn(fake: TimedFake, messages: list[tuple[int, str]]) -> float:
    """Offers every message at once, waits for a reply to each and the tail; returns seconds."""
    begin = time.monotonic()
    for chat, text in messages:
        if text == "/start":
            fake.send_start(chat)
        else:
            fake.send_text(chat, text)
        fake.expect(chat, time.monotonic())
    try:
        await fake.answered(TURN_TIMEOUT)
    except TimeoutError:
        raise RuntimeError(f"{fake.waiting} of {len(messages)} messages got no reply") from None
    await fake.quiet()
    if os.environ.get("LK3_BENCH_DEBUG"):
        print(f"turn of {len(messages)} done", file=sys.stderr)
    return time.monotonic() - begin - 0.3


async def _overhead(
    fake: TimedFake, child: _Child, families: int, turns: int, *, echo: bool = False
) -> dict[str, float]:
    rng = random.Random(7)
    scripts = {FIRST_CHAT + f: script_for(f, turns, rng) for f in range(families)}
    rounds: list[list[tuple[int, str]]] = []
    if not echo:
        rounds.append([(c, "/start") for c in scripts])
        rounds.append([(c, "setuju") for c in scripts])
    else:
        rounds.append([(c, "halo") for c in scripts])
        rounds.append([(c, "setuju") for c in scripts])
    rounds.extend([(c, s[t]) for c, s in scripts.items()] for t in range(turns))
    cpu_before = cpu_seconds(child.pid)
    busy = 0.0
    count = 0
    for messages in rounds:
        busy += await _turn(fake, messages)
        count += len(messages)
        fake.drop_history()
    cpu = cpu_seconds(child.pid) - cpu_before
    return {
        "inbound_messages": float(count),
        "inbound_per_second": count / busy,
        "cpu_ms_per_inbound": cpu * 1000 / count,
    }


async def _latency(fake: TimedFake, child: _Child, first: int, count: int) -> dict[str, float]:
    """Offers `count` messages at 100 a second, one per family; reply latency percentiles."""
    fake.latencies.clear()
    cpu_before = cpu_seconds(child.pid)
    begin = time.monotonic()
    for n in range(count):
        due = begin + n / 100.0
        delay = due - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        chat = first + n
        fake.send_text(chat, "menu" if n % 3 else "1")
        fake.expect(chat, time.monotonic())
    await fake.answered(TURN_TIMEOUT)
    await fake.quiet()
    cpu = cpu_seconds(child.pid) - cpu_before
    values = list(fake.latencies.values())
    fake.drop_history()
    return {
        "offered_per_second": 100.0,
        "messages": float(count),
        "p50_ms": percentile(values, 0.50) * 1000,
        "p95_ms": percentile(values, 0.95) * 1000,
        "p99_ms": percentile(values, 0.99) * 1000,
        "cpu_ms_per_inbound": cpu * 1000 / count,
    }


async def _more_contacts(fake: TimedFake, first: int, count: int) -> None:
    for start in range(0, count, 2000):
        await _turn(fake, [(first + n, "/start") for n in range(start, min(count, start + 2000))])
        fake.drop_history()


def _database_bytes(data: Path) -> int:
    return sum(p.stat().st_size for p in data.glob("lk3.db*"))


def _alerted_cases(fake: TimedFake, chat: int) -> dict[int, float]:
    """Case id -> when the first alert listing it reached this counsellor's chat.

    An alert lists its cases as "take" buttons (one message may list several: a
    digest), so each case is timed by the first message that carried its button.
    """
    times = fake.watched[chat]
    messages = fake.messages(chat)[-len(times) :] if times else []
    first: dict[int, float] = {}
    for when, message in zip(times, messages, strict=True):
        for _, data in message.buttons():
            if data.startswith(TAKE_PREFIX):
                first.setdefault(int(data.removeprefix(TAKE_PREFIX)), when)
    return first


async def _cases_of(config_path: Path, chats: set[int]) -> dict[int, int]:
    """Family chat -> the id of its case, read from the store once the bot has stopped."""
    config = load_config(config_path, env={})
    found: dict[int, int] = {}
    keyring = open_keyring(config, env={})
    async with await Store.open(
        config.database_path, keyring, keytree=config.keytree_path, url=config.storage_url
    ) as store:
        for chat in chats:
            contact = await store.contacts.find("telegram", str(chat))
            case = None if contact is None else await store.handoff.live_for(contact.id)
            if case is not None:
                found[chat] = case.id
    return found


async def _wait_alerts(
    fake: TimedFake, chats: list[int], expected: int, limit: float = 30.0
) -> None:
    """Alerts come from the escalation pass: waits (bounded) until every counsellor has
    an alert for every crisis."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if all(len(_alerted_cases(fake, chat)) >= expected for chat in chats):
            return
        await asyncio.sleep(0.1)


async def _flood(folder: Path, families: int, log: Path, linked: int = 1) -> dict[str, Any]:
    """Every family writes at once while the server allows 30 sends a second.

    A fresh data folder, so the counsellors' alerts are for these crises only.
    `linked` counsellors have a chat (each must be alerted of every crisis); an
    alert's latency is per case and counsellor, from the moment the crisis was
    offered to the first alert listing it.
    """
    async with TimedFake() as fake:
        config = _write_config(folder, fake)
        await add_counsellors(config, max(4, linked))
        codes = [await _link_code(config, n) for n in range(linked)]
        chats = [COUNSELLOR_CHAT - n for n in range(linked)]
        child, startup = await _spawn(["-m", "bot", "run", "--config", str(config)], log, fake)
        try:
            for chat, code in zip(chats, codes, strict=True):
                fake.send_text(chat, f"/link {code}")
                fake.expect(chat, time.monotonic())
            await fake.answered(TURN_TIMEOUT)
            # A counsellor on duty linked their chat long before the night of the flood:
            # their chat's one-message-a-second slot is free when it starts.
            await fake.quiet(seconds=1.5)
            for chat in chats:
                fake.watched[chat] = []
            fake.limit_rate(30)
            rng = random.Random(11)
            crisis: dict[int, float] = {}  # chat -> when its crisis was offered
            begin = time.monotonic()
            for f in range(families):
                chat = FIRST_CHAT + f
                fake.continue_chat(chat, 1_000)
                if rng.random() < 0.02:
                    fake.send_text(chat, rng.choice(CRISIS))
                    crisis[chat] = time.monotonic()
                else:
                    fake.send_text(chat, "menu")
                fake.expect(chat, time.monotonic())
                if f % 100 == 99:
                    # The server is in this process: let it answer getUpdates while the
                    # rest arrive, as Telegram would (each latency counts from its offer).
                    await asyncio.sleep(0)
            try:
                await fake.answered(TURN_TIMEOUT * 2)
            except TimeoutError:
                raise RuntimeError(f"{fake.waiting} flood messages got no reply") from None
            first_replies = time.monotonic() - begin
            await fake.quiet(seconds=3.0, limit=600.0)
            drained = fake.last_send - begin
            await _wait_alerts(fake, chats, len(crisis))
            alerted = [_alerted_cases(fake, chat) for chat in chats]
            from_start = [t - begin for cases in alerted for t in cases.values()]
            messages = sum(len(fake.watched[chat]) for chat in chats)
            urgent = [fake.latencies[c] for c in crisis if c in fake.latencies]
            routine = [v for c, v in fake.latencies.items() if c not in crisis]
        finally:
            exit_code = await child.stop()
        case_chats = {case: chat for chat, case in (await _cases_of(config, set(crisis))).items()}
        # Each alert from the moment its own crisis was offered (the fake server offers
        # 2,000 updates one by one, in this process: the last comes a moment after the first).
        alerts = [
            t - crisis.get(case_chats.get(case, 0), begin)
            for cases in alerted
            for case, t in cases.items()
        ]
        # What escalation adds to the crisis turn itself: each alert after the family's reply.
        replied = {
            case: fake.latencies[chat]
            for case, chat in case_chats.items()
            if chat in fake.latencies
        }
        behind = [
            t - crisis[case_chats[case]] - replied[case]
            for cases in alerted
            for case, t in cases.items()
            if case in replied
        ]
        return {
            "families": float(families),
            "crisis_messages": float(len(crisis)),
            "linked_counsellors": float(linked),
            "server_limit_per_second": 30.0,
            "startup_seconds": startup,
            "urgent_reply_latency_p50_ms": percentile(urgent, 0.50) * 1000,
            "urgent_reply_latency_p99_ms": percentile(urgent, 0.99) * 1000,
            "counsellor_alerts": float(len(alerts)),
            "counsellor_alert_messages": float(messages),
            "urgent_alert_latency_p50_ms": percentile(alerts, 0.50) * 1000,
            "urgent_alert_latency_p99_ms": percentile(alerts, 0.99) * 1000,
            "urgent_alert_from_flood_start_p50_ms": percentile(from_start, 0.50) * 1000,
            "urgent_alert_from_flood_start_p99_ms": percentile(from_start, 0.99) * 1000,
            "urgent_alert_after_family_reply_p50_ms": percentile(behind, 0.50) * 1000,
            "urgent_alert_after_family_reply_p99_ms": percentile(behind, 0.99) * 1000,
            "routine_first_reply_p50_s": percentile(routine, 0.50),
            "all_first_replies_seconds": first_replies,
            "backlog_drained_seconds": drained,
            "sends": float(fake.sends),
            "answered_429_or_error": float(fake.rejected),
            "bot_exit_code": float(exit_code),
        }


ECHO_MODES = ("sequential", "concurrent")


async def _echo_floor(
    mode: str, log: Path, families: int, turns: int, latency_messages: int
) -> dict[str, Any]:
    """The same overhead and latency load against a bare python-telegram-bot echo bot
    (bench.echo_bot, updates one after another or concurrently), on a fresh fake server."""
    async with TimedFake() as fake:
        args = ["-m", "bench.echo_bot", fake.api_base_url, fake.token, mode]
        echo, _ = await _spawn(args, log, fake)
        try:
            floor: dict[str, Any] = dict(await _overhead(fake, echo, families, turns, echo=True))
            floor["latency_at_100_per_second"] = await _latency(
                fake, echo, FIRST_CHAT + families, latency_messages
            )
            floor["peak_rss_mb"] = peak_rss_mb(echo.pid)
        finally:
            await echo.stop()
    return floor


# Sized to the issue's figures: the flood is 2,000 families, and memory is read with
# 10,000 and with 100,000 contacts in the store (each process under 200 MB, not
# growing with the contacts). `make bench` takes about 15 minutes on the 2-core
# machine (docs/performance.md).
MEMORY_CHECKPOINTS = (10_000, 100_000)


async def measure_bot(
    folder: Path,
    *,
    storage_url: str | None = None,
    families: int = 1000,
    turns: int = 2,
    latency_messages: int = 1000,
    memory_checkpoints: tuple[int, ...] = MEMORY_CHECKPOINTS,
) -> dict[str, Any]:
    """The overhead, latency and memory phases against one bot process.

    `storage_url`: a PostgreSQL database instead of SQLite in the data folder.
    Memory: families write `/start` until the store holds each checkpoint's number
    of contacts; the bot's resident memory (now, and its peak so far) is read at each.
    """
    log = folder / "bot-stderr.log"
    folder.mkdir(parents=True, exist_ok=True)
    memory: dict[str, dict[str, float]] = {}
    async with TimedFake() as fake:
        config = _write_config(folder / "bot", fake, storage_url)
        await add_counsellors(config)
        args = ["-m", "bench.botproc", str(config), "unpaced"]
        child, startup = await _spawn(args, log, fake)
        try:
            overhead = await _overhead(fake, child, families, turns)
            latency = await _latency(fake, child, FIRST_CHAT + families, latency_messages)
            inbound = overhead["inbound_messages"] + latency_messages
            db_bytes = _database_bytes(folder / "bot" / "data")
            seen = families + latency_messages
            after_latency = {"rss_mb": rss_mb(child.pid), "peak_rss_mb": peak_rss_mb(child.pid)}
            for target in memory_checkpoints:
                if target > seen:
                    began = time.monotonic()
                    await _more_contacts(fake, FIRST_CHAT + seen, target - seen)
                    seen = target
                    took = time.monotonic() - began
                else:
                    took = 0.0
                memory[str(target)] = {
                    "contacts": float(seen),
                    "rss_mb": rss_mb(child.pid),
                    "peak_rss_mb": peak_rss_mb(child.pid),
                    "seconds_to_reach": took,
                }
        finally:
            await child.stop()
    return {
        "storage": "postgresql" if storage_url else "sqlite",
        **overhead,
        "startup_seconds": startup,
        "latency_at_100_per_second": latency,
        "memory_after_latency_phase": after_latency,
        "memory_at_contacts": memory,
        "database_bytes_per_1000_messages": (db_bytes / inbound * 1000) if db_bytes else None,
    }


async def measure(
    folder: Path,
    *,
    families: int = 1000,
    turns: int = 2,
    latency_messages: int = 1000,
    memory_checkpoints: tuple[int, ...] = MEMORY_CHECKPOINTS,
    flood_families: int = 2000,
    postgres_url: str | None = None,
    postgres_checkpoints: tuple[int, ...] = MEMORY_CHECKPOINTS[:1],
) -> dict[str, Any]:
    """Runs every phase; returns the figures (see the module docstring).

    With `postgres_url` (an empty database), the overhead, latency and memory phases
    run a second time with the bot on PostgreSQL.
    """
    log = folder / "bot-stderr.log"
    result: dict[str, Any] = {}
    result["bot"] = await measure_bot(
        folder / "sqlite",
        families=families,
        turns=turns,
        latency_messages=latency_messages,
        memory_checkpoints=memory_checkpoints,
    )
    if postgres_url is not None:
        result["bot_postgresql"] = await measure_bot(
            folder / "postgresql",
            storage_url=postgres_url,
            families=families,
            turns=turns,
            latency_messages=latency_messages,
            memory_checkpoints=postgres_checkpoints,
        )
    floors: dict[str, dict[str, Any]] = {}
    for mode in ECHO_MODES:
        floors[mode] = await _echo_floor(mode, log, families, turns, latency_messages)
    fastest = max(ECHO_MODES, key=lambda mode: floors[mode]["inbound_per_second"])
    floor = floors[fastest]
    result["echo_floor"] = {"faster": fastest, **floors}
    # The bot's target: at least 1.0 times the floor's throughput, at most its CPU per message.
    for key in ("bot", "bot_postgresql"):
        if key in result:
            suffix = "" if key == "bot" else "_postgresql"
            measured = result[key]
            result["throughput_ratio_to_floor" + suffix] = (
                measured["inbound_per_second"] / floor["inbound_per_second"]
            )
            result["cpu_ratio_to_floor" + suffix] = (
                measured["cpu_ms_per_inbound"] / floor["cpu_ms_per_inbound"]
            )
    # Two `lk3 run` processes on one PostgreSQL database are measured by bench/scale.py
    # (`two_processes` in `make bench`), not here: polling is the leader's alone, so the
    # load comes through WhatsApp's webhooks, sent to each process in turn.
    if flood_families > 0:
        result["flood"] = await _flood(folder / "flood", flood_families, log)
    return result
