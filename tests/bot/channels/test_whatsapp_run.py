"""`lk3 run --config` with Twilio credentials, as an operator runs it: WhatsApp is served."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from bot_support import spawn_lk3_run
from support import free_port
from support.stores import open_store
from twilio_api import FakeTwilio
from whatsapp_support import FAMILY

from bot.app import open_keyring
from bot.config import load_config
from bot.core.failpoints import EXIT_CODE

pytestmark = pytest.mark.e2e


@pytest.fixture
async def fake() -> AsyncIterator[FakeTwilio]:
    async with FakeTwilio() as server:
        yield server


def write_config(tmp_path: Path, fake: FakeTwilio, port: int) -> Path:
    config = tmp_path / "config.toml"
    config.write_text(
        'data_dir = "data"\n\n[whatsapp]\n'
        f'account_sid = "{fake.account_sid}"\n'
        f'from_number = "{fake.sender}"\n'
        f'api_base_url = "{fake.url}"\n\n'
        f'[web]\nhost = "127.0.0.1"\nport = {port}\npublic_url = "http://127.0.0.1:{port}"\n',
        encoding="utf-8",
    )
    return config


async def lk3_run(config: Path, auth_token: str, failpoint: str = "") -> asyncio.subprocess.Process:
    return await spawn_lk3_run(config, failpoint=failpoint, LK3_TWILIO_AUTH_TOKEN=auth_token)


async def until_listening(port: int, process: asyncio.subprocess.Process) -> None:
    async with httpx.AsyncClient() as client:
        for _ in range(600):
            if process.returncode is not None:
                raise AssertionError("lk3 run stopped before listening")
            try:
                if (await client.get(f"http://127.0.0.1:{port}/healthz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.05)
    raise AssertionError("lk3 run never listened")


async def test_lk3_run_with_twilio_credentials_answers_on_whatsapp_and_stops_cleanly(
    tmp_path: Path, fake: FakeTwilio
) -> None:
    port = free_port()
    process = await lk3_run(write_config(tmp_path, fake, port), fake.auth_token)
    try:
        await until_listening(port, process)
        fake.connect(f"http://127.0.0.1:{port}")
        answer = await fake.send_text(FAMILY, "halo, saya butuh bantuan")
        assert answer.status_code == 200
        await fake.wait_for(lambda: fake.texts_to(FAMILY), timeout=30)
        process.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(process.wait(), timeout=30)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.stderr is not None
    err = (await process.stderr.read()).decode()
    assert code == 0, err
    assert f"running on WhatsApp (webhook http://127.0.0.1:{port}/twilio/whatsapp)" in err
    assert "selamat datang" in fake.texts_to(FAMILY)[0].lower()
    assert fake.refused == []
    logs = "".join(p.read_text() for p in (tmp_path / "data" / "logs").glob("*"))
    assert "running on WhatsApp" in logs
    for secret in (FAMILY, FAMILY.removeprefix("+"), "butuh bantuan", fake.auth_token):
        assert secret not in logs and secret not in err


async def test_lk3_run_with_a_wrong_auth_token_refuses_to_start_and_says_what_to_check(
    tmp_path: Path, fake: FakeTwilio
) -> None:
    port = free_port()
    process = await lk3_run(write_config(tmp_path, fake, port), "0" * 32)
    code = await asyncio.wait_for(process.wait(), timeout=30)
    assert process.stderr is not None
    err = (await process.stderr.read()).decode()
    assert code == 2
    assert "Twilio refused the account SID or auth token" in err
    assert "0" * 32 not in err


async def test_a_crash_right_after_storing_a_message_loses_and_repeats_nothing(
    tmp_path: Path, fake: FakeTwilio
) -> None:
    port = free_port()
    config = write_config(tmp_path, fake, port)
    fake.connect(f"http://127.0.0.1:{port}")
    params = fake.incoming(FAMILY, Body="halo")
    crashed = await lk3_run(config, fake.auth_token, failpoint="after_receive")
    await until_listening(port, crashed)
    with pytest.raises(httpx.TransportError):
        await fake.post_incoming(params)  # stored, then the process dies before answering
    assert await asyncio.wait_for(crashed.wait(), timeout=30) == EXIT_CODE
    assert fake.sent == []

    process = await lk3_run(config, fake.auth_token)
    try:
        await until_listening(port, process)
        again = await fake.post_incoming(dict(params))  # Twilio posts it again: same MessageSid
        assert again.status_code == 200
        await fake.wait_for(lambda: fake.texts_to(FAMILY), timeout=30)
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), timeout=30) == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    texts = fake.texts_to(FAMILY)
    assert "selamat datang" in texts[0].lower() and len(texts) == len(set(texts))
    settings = load_config(config, env={"LK3_TWILIO_AUTH_TOKEN": fake.auth_token})
    async with await open_store(
        settings.database_path, open_keyring(settings, env={}), keytree=settings.keytree_path
    ) as store:
        assert await store.inbox.get(1) is not None
        assert await store.inbox.get(2) is None, "the repeat was stored a second time"
