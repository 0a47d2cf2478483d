"""A full disk: nothing sent twice, nothing answered with the fallback, intake paused, and
the bot resumes by itself when there is room again.

The faults are real. Where the tests may mount (they run as root in CI), the data
folder is a small tmpfs filled to the last byte by another file: SQLite then gets
ENOSPC from the kernel and answers SQLITE_FULL, for a reply's sent mark as for a
turn, and the log file's writes fail the same way. Where mounting is not allowed,
SQLite's own limit on the database's pages (`PRAGMA max_page_count`, set on the
bot's writer connection) makes it full instead: the same SQLITE_FULL ("database or
disk is full"), raised where the file would have to grow.
"""

from __future__ import annotations

import asyncio
import dataclasses
import io
import logging
import os
import random
import re
import signal
import sqlite3
import sys
import time
from collections.abc import AsyncIterator, Callable
from contextlib import closing
from pathlib import Path

import httpx
import pytest
from bot_support import ROOT, clean_env, eventually, make_config
from support import free_port
from support.disks import fill, tiny_disk
from support.fulldb import FILLS_SQLITE, fill_database, give_room, make_full
from support.lk3proc import report
from telegram_api import FakeTelegram
from telegram_support import FAST, app_of, running, telegram_config
from twilio_api import FakeTwilio
from whatsapp_support import FAMILY, whatsapp_config
from whatsapp_support import running as whatsapp_running

from bot.app import App
from bot.channels.webchat.channel import WebChatChannel
from bot.channels.webchat.page import WebChatPage, mount_webchat
from bot.core.handlers import Handled, Turn
from bot.core.texts import BotTexts
from bot.logsink import QuietFileHandler
from bot.run import Service
from bot.web import WebServer

# Sends may wait at the fake server while the disk is filled: not a timeout.
TUNING = dataclasses.replace(FAST, request_timeout=10.0)
FALLBACK = "ada gangguan di sistem kami"  # bot/core/texts.toml [internal_error]
FIRST = 4_410_001
SENT_WHILE_FULL = 4_410_002
TURN_WHILE_FULL = 4_410_003
LATER = [4_410_100 + n for n in range(6)]


async def healthz(service: Service) -> tuple[int, str]:
    assert service.web is not None
    async with httpx.AsyncClient() as client:
        answer = await client.get(f"http://127.0.0.1:{service.web.port}/healthz")
    return answer.status_code, answer.text


async def http_get(service: Service, path: str) -> httpx.Response:
    assert service.web is not None
    async with httpx.AsyncClient() as client:
        return await client.get(f"http://127.0.0.1:{service.web.port}{path}")


def counts(database: Path) -> dict[str, int]:
    with closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as db:
        one = lambda sql: int(db.execute(sql).fetchone()[0])  # noqa: E731
        return {
            "inbox": one("SELECT count(*) FROM inbox"),
            "unprocessed": one("SELECT count(*) FROM inbox WHERE processed_at IS NULL"),
            "outbox": one("SELECT count(*) FROM outbox"),
            "pending": one("SELECT count(*) FROM outbox WHERE status = 'pending'"),
            "cases": one("SELECT count(*) FROM cases"),
        }


class HoldTurns:
    """A turn handler first in the chain that holds every turn until `release` (then
    passes): the message is stored and its turn under way while the disk fills."""

    checked = False

    def __init__(self) -> None:
        self.holding = 0
        self._open = asyncio.Event()

    def goes_first(self, kind: str, text: str) -> bool:
        return False

    async def handle(self, turn: Turn) -> Handled | None:
        self.holding += 1
        await self._open.wait()
        return None

    def release(self) -> None:
        self._open.set()


def delivered(fake: FakeTelegram, chats: list[int]) -> int:
    return sum(len(fake.messages(chat)) for chat in chats)


@pytest.mark.e2e
@pytest.mark.sqlite_only(FILLS_SQLITE)
async def test_a_full_disk_sends_nothing_twice_answers_no_fallback_and_resumes_by_itself(
    tmp_path: Path, fake: FakeTelegram
) -> None:
    chats = [FIRST, SENT_WHILE_FULL, TURN_WHILE_FULL, *LATER]
    with tiny_disk(tmp_path / "disk") as disk:
        config = telegram_config(disk / "data", fake)
        async with running(config, TUNING) as service:
            app = app_of(service)
            fake.send_start(FIRST)
            await fake.wait_for(lambda: fake.texts(FIRST), timeout=15)
            await app.wait_idle()
            # A welcome reaches Telegram just as the disk fills: its sent mark cannot be
            # written. Before, it went out again on every pass of the sender (42 times).
            fake.hold_sends()
            fake.send_start(SENT_WHILE_FULL)
            await fake.wait_for(lambda: fake.sends_held > 0, timeout=15)
            # ... and a family's message is stored, its turn under way: its commit fails.
            # Before, after four tries it got the fallback reply and a case was opened.
            hold = HoldTurns()
            app.pipeline._handlers.insert(0, hold)
            fake.send_start(TURN_WHILE_FULL)
            await eventually(lambda: hold.holding > 0, within=10)
            filler = fill(disk)
            fake.release_sends()
            hold.release()
            await eventually(lambda: not app.health.ok, within=10)
            status, said = await healthz(service)
            assert status == 503 and "writes failing" in said, said
            assert "/" not in said, "the public health state names no path of the machine"
            ready = await http_get(service, "/readyz")
            assert (ready.status_code, ready.text) == (503, "not ready: storage_unwritable")
            assert "lk3_storage_writable 0.0" in (await http_get(service, "/metrics")).text
            # Meanwhile families write: nothing is fetched that could not be stored.
            await asyncio.sleep(1.5)
            fetches = len(fake.calls_to("getUpdates"))
            for chat in LATER:
                fake.send_start(chat)
            await asyncio.sleep(3)
            assert len(fake.calls_to("getUpdates")) <= fetches + 1, "fetching paused"
            assert fake.pending_updates == len(LATER), "left with Telegram, not lost"
            welcome = len(fake.messages(SENT_WHILE_FULL))
            assert welcome >= 1
            # Room again: the bot finds out by itself and takes the waiting messages.
            filler.unlink()
            freed = time.monotonic()
            await fake.wait_for(lambda: all(fake.texts(c) for c in LATER), timeout=15)
            resumed = time.monotonic() - freed
            await app.wait_idle()
            assert (await healthz(service))[0] == 200
            assert len(fake.messages(SENT_WHILE_FULL)) == welcome, "sent once, not again"
            assert (await http_get(service, "/readyz")).status_code == 200
        database = config.database_path
        found = counts(database)
    print(f"\nfull disk (tmpfs): resumed {resumed:.1f}s after room came back")
    assert resumed < 5.0
    assert found["inbox"] == len(chats) and found["unprocessed"] == 0
    assert found["pending"] == 0, "the sends made while full were recorded afterwards"
    assert delivered(fake, chats) == found["outbox"], "no reply sent twice"
    assert found["cases"] == 0, "a full disk opens no case"
    assert not any(FALLBACK in t for chat in chats for t in fake.texts(chat))


@pytest.mark.e2e
@pytest.mark.sqlite_only(FILLS_SQLITE)
async def test_a_database_that_cannot_grow_pauses_answers_no_fallback_and_resumes(
    tmp_path: Path, fake: FakeTelegram
) -> None:
    config = telegram_config(tmp_path / "data", fake)
    families = [4_420_000 + n for n in range(40)]
    async with running(config, TUNING) as service:
        app = app_of(service)
        fake.send_start(FIRST)
        await fake.wait_for(lambda: fake.texts(FIRST), timeout=15)
        await app.wait_idle()
        await make_full(app.store)
        # New families write (each needs new rows, hence new pages) until it is full.
        for chat in families:
            fake.send_text(chat, "halo, selamat pagi " + "apa kabar " * 200)
            if not app.health.ok:
                break
            await asyncio.sleep(0.05)
        await eventually(lambda: not app.health.ok, within=15)
        assert (await healthz(service))[0] == 503
        await asyncio.sleep(FALLBACK_WAIT)
        await give_room(app.store)
        freed = time.monotonic()
        await eventually(lambda: app.health.ok, within=10)
        resumed = time.monotonic() - freed
        await fake.wait_for(lambda: fake.pending_updates == 0, timeout=15)
        await app.wait_idle()
        found = counts(config.database_path)
    asked = [FIRST, *families]
    print(f"\nfull database (max_page_count): resumed {resumed:.1f}s after room came back")
    assert resumed < 5.0
    assert found["unprocessed"] == 0 and found["pending"] == 0
    assert delivered(fake, asked) == found["outbox"], "no reply sent twice"
    assert found["cases"] == 0, "a full database opens no case"
    assert not any(FALLBACK in t for chat in asked for t in fake.texts(chat))


# Long enough for the fallback reply to have come before (four failed attempts, 0.5 s
# doubling): nothing may come now.
FALLBACK_WAIT = 8.0


def test_the_log_file_counts_lines_a_full_disk_refuses_and_reports_them_once(
    tmp_path: Path,
) -> None:
    with tiny_disk(tmp_path / "disk", "1m") as disk:
        alarm = io.StringIO()
        handler = QuietFileHandler(disk / "lk3.log", backup_days=2, alarm=alarm)
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        log = logging.getLogger("lk3.test.fulldisk")
        log.propagate = False
        log.addHandler(handler)
        try:
            log.warning("before the disk filled")
            filler = fill(disk)
            for n in range(5000):
                log.warning("line %s while the disk is full", n)
            assert handler.lost > 0
            assert alarm.getvalue().count("cannot be written") == 1, "said once, not per line"
            filler.unlink()
            log.warning("after room came back")
        finally:
            log.removeHandler(handler)
            handler.close()
        text = (disk / "lk3.log").read_text(encoding="utf-8", errors="replace")
    assert "before the disk filled" in text and "after room came back" in text
    assert text.count("log lines were lost") == 1
    assert f"{handler.lost} log lines were lost" in text
    assert "Logging error" not in alarm.getvalue()


@pytest.fixture
async def twilio() -> AsyncIterator[FakeTwilio]:
    async with FakeTwilio() as server:
        yield server


@pytest.mark.sqlite_only(FILLS_SQLITE)
async def test_while_writes_fail_whatsapp_is_answered_503_and_posts_again_later(
    tmp_path: Path, twilio: FakeTwilio
) -> None:
    config = whatsapp_config(tmp_path / "data", twilio)
    async with whatsapp_running(config, twilio) as service:
        app = app_of(service)
        await fill_database(app.store)
        assert not app.health.ok
        message = twilio.incoming(FAMILY, Body="halo")
        refused = await twilio.post_incoming(message)
        assert refused.status_code == 503 and refused.headers["retry-after"]
        await give_room(app.store)
        await eventually(lambda: app.health.ok, within=5)
        again = await twilio.post_incoming(message)  # Twilio posts it again
        assert again.status_code == 200
        await app.wait_idle()
        assert twilio.texts_to(FAMILY), "answered once the message could be stored"
        assert not any(FALLBACK in t for t in twilio.texts_to(FAMILY))


@pytest.mark.sqlite_only(FILLS_SQLITE)
async def test_while_writes_fail_the_web_chat_keeps_the_words_in_the_box(tmp_path: Path) -> None:
    channel = WebChatChannel()
    app = await App.open(make_config(tmp_path / "data"), [channel], env={})
    channel.bind(app.host())
    await app.start()
    page = WebChatPage(channel, app.receive, BotTexts.load(), secure_cookies=False)
    web = WebServer("127.0.0.1", 0)
    mount_webchat(web, page)
    transport = httpx.ASGITransport(app=web.app(), client=("10.0.0.9", 1234))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://bot.test") as http:
            html = (await http.get("/chat")).text
            csrf = re.search(r'name="csrf" value="([0-9a-f]{64})"', html)
            assert csrf is not None
            await fill_database(app.store)
            words = "tolong, saya takut pulang ke rumah"
            answer = await http.post("/chat/send", data={"csrf": csrf.group(1), "text": words})
            assert answer.status_code == 503
            assert "masih ada di kotak pesan" in answer.text and "112" in answer.text
            assert f">{words}</textarea>" in answer.text, "the words are kept in the box"
            as_script = await http.post(
                "/chat/send",
                data={"csrf": csrf.group(1), "text": words},
                headers={"Accept": "application/json"},
            )
            assert as_script.status_code == 503 and as_script.json()["notice"]
    finally:
        channel.wake_all()
        await app.stop()


# `make soak` sets more cycles (LK3_SOAK_CYCLES): one full-disk episode per 50 of them.
SOAK_CYCLES = int(os.environ.get("LK3_SOAK_CYCLES", "3"))


async def _answer(port: int) -> int:
    async with httpx.AsyncClient() as client:
        try:
            return (await client.get(f"http://127.0.0.1:{port}/healthz")).status_code
        except httpx.TransportError:
            return 0


async def _until_health(port: int, status: int, within: float, write: Callable[[], None]) -> None:
    deadline = time.monotonic() + within
    while await _answer(port) != status:
        assert time.monotonic() < deadline, f"/healthz never answered {status}"
        write()
        await asyncio.sleep(0.1)


@pytest.mark.e2e
@pytest.mark.sqlite_only(FILLS_SQLITE)
async def test_lk3_run_on_a_full_disk_loses_nothing_sends_nothing_twice_and_resumes(
    tmp_path: Path, fake: FakeTelegram
) -> None:
    """The soak's full-disk phase: `lk3 run` on an 8 MB tmpfs filled while families write."""
    rng = random.Random(2028)
    episodes = max(1, SOAK_CYCLES // 50)
    chats = [4_430_000 + n for n in range(16)]
    with tiny_disk(tmp_path / "disk", "8m") as disk:
        port = free_port()
        config = tmp_path / "config.toml"
        config.write_text(
            f'data_dir = "{disk / "data"}"\n\n[telegram]\n'
            f'token = "{fake.token}"\napi_base_url = "{fake.api_base_url}"\n'
            f'\n[web]\nhost = "127.0.0.1"\nport = {port}\n',
            encoding="utf-8",
        )
        errors = tmp_path / "stderr.txt"
        offered = 0

        def write() -> None:
            nonlocal offered
            fake.send_text(rng.choice(chats), "halo, apa kabar " + "selamat pagi " * 150)
            offered += 1

        with errors.open("wb") as err:
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "run", "--config", str(config),
                cwd=ROOT, env=clean_env(), stdout=asyncio.subprocess.DEVNULL, stderr=err,
            )  # fmt: skip
            resumes: list[float] = []
            try:
                await _until_health(port, 200, 60, lambda: None)
                for chat in chats:
                    fake.send_start(chat)
                    offered += 1
                for _ in range(episodes):
                    for _ in range(10):
                        write()
                        await asyncio.sleep(0.05)
                    filler = fill(disk)
                    # Families go on writing until a write fails (the WAL's slack used up).
                    await _until_health(port, 503, 60, write)
                    for _ in range(10):
                        write()
                        await asyncio.sleep(0.2)
                    filler.unlink()
                    freed = time.monotonic()
                    await _until_health(port, 200, 30, lambda: None)
                    resumes.append(time.monotonic() - freed)
                database = disk / "data" / "lk3.db"

                def settled() -> bool:
                    if fake.pending_updates:
                        return False
                    found = counts(database)
                    return found["inbox"] == offered and not (
                        found["unprocessed"] or found["pending"]
                    )

                await fake.wait_for(settled, timeout=90)
                process.send_signal(signal.SIGTERM)
                assert await asyncio.wait_for(process.wait(), 30) == 0
            finally:
                if process.returncode is None:
                    process.kill()
                    await process.wait()
        found = counts(database)
        logs = "".join(p.read_text(errors="replace") for p in (disk / "data" / "logs").glob("*"))
    said = errors.read_text(errors="replace")
    replies = delivered(fake, chats)
    fallbacks = sum(FALLBACK in t for chat in chats for t in fake.texts(chat))
    lost = offered - found["inbox"]
    twice = replies - found["outbox"]
    report(
        "full disk",
        messages=offered,
        replies=found["outbox"],
        lost=lost,
        twice=twice,
        fallbacks=fallbacks,
        resume=max(resumes),
        extra=f"{episodes} episodes, stderr {len(said)} bytes",
    )
    assert lost == 0 and found["unprocessed"] == 0
    assert twice == 0, f"{twice} replies sent twice"
    assert fallbacks == 0 and found["cases"] == 0
    assert max(resumes) < 5.0
    assert "Logging error" not in said and len(said) < 4096, said[-2000:]
    assert "the database cannot be written" in logs or "log lines were lost" in logs
