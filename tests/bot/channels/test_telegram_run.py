"""`lk3 run --config` as an operator runs it: a real process talking to the fake Bot API."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from bot_support import ROOT, clean_env, spawn_lk3_run
from support import free_port
from support.stores import open_store
from telegram_api import FakeTelegram

from bot.app import open_keyring
from bot.config import load_config
from bot.core.failpoints import EXIT_CODE
from bot.run import NO_CHANNEL

pytestmark = pytest.mark.e2e

CHAT = 777123456


def write_config(tmp_path: Path, fake: FakeTelegram) -> Path:
    config = tmp_path / "config.toml"
    config.write_text(
        'data_dir = "data"\n\n[telegram]\n'
        f'token = "{fake.token}"\napi_base_url = "{fake.api_base_url}"\n'
        f"\n[web]\nport = {free_port()}\n",
        encoding="utf-8",
    )
    return config


async def lk3_run(config: Path, failpoint: str = "") -> asyncio.subprocess.Process:
    return await spawn_lk3_run(config, failpoint=failpoint)


async def test_lk3_run_answers_on_telegram_and_stops_cleanly_on_sigterm(
    tmp_path: Path, fake: FakeTelegram
) -> None:
    process = await lk3_run(write_config(tmp_path, fake))
    try:
        fake.send_start(CHAT, "poster-a")
        await fake.wait_for(lambda: fake.texts(CHAT), timeout=30)
        assert "selamat datang" in fake.texts(CHAT)[0].lower()
        process.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(process.wait(), timeout=30)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.stderr is not None
    err = (await process.stderr.read()).decode()
    assert code == 0, err
    assert "running as @lk3_test_bot on Telegram (polling)" in err
    assert fake.confirmed_offset > 0, "the stored update was confirmed on the way out"
    logs = "".join(p.read_text() for p in (tmp_path / "data" / "logs").glob("*"))
    assert "running as @lk3_test_bot" in logs
    assert str(CHAT) not in logs and fake.token not in logs and "poster-a" not in logs


async def test_a_crash_right_after_storing_an_update_loses_and_repeats_nothing(
    tmp_path: Path, fake: FakeTelegram
) -> None:
    config = write_config(tmp_path, fake)
    start = fake.send_start(CHAT)
    crashed = await lk3_run(config, failpoint="after_receive")
    assert await asyncio.wait_for(crashed.wait(), timeout=30) == EXIT_CODE
    assert not fake.confirmed(start), "the update was stored but never confirmed"
    assert fake.texts(CHAT) == []

    process = await lk3_run(config)
    try:
        # Telegram delivers the unconfirmed update again; the stored one is answered.
        await fake.wait_for(lambda: fake.confirmed(start) and fake.texts(CHAT), timeout=30)
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), timeout=30) == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert "selamat datang" in fake.texts(CHAT)[0].lower()
    settings = load_config(config, env={})
    async with await open_store(
        settings.database_path, open_keyring(settings, env={}), keytree=settings.keytree_path
    ) as store:
        assert await store.inbox.get(1) is not None
        assert await store.inbox.get(2) is None, "the repeat was stored a second time"


def test_lk3_run_without_a_channel_refuses_to_start_and_says_what_to_set(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('data_dir = "data"\n', encoding="utf-8")
    run = subprocess.run(
        [sys.executable, "-m", "bot", "run", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        env=clean_env(),
    )
    assert run.returncode == 2
    assert NO_CHANNEL in run.stderr
