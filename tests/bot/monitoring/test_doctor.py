"""`lk3 doctor --config FILE` on a good deployment (every line ok, exit 0) and on a broken
one (each fault named with its fix, exit 1), against the fake Telegram and Twilio."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from bot_support import ROOT, clean_env
from support import free_port
from support.stores import storage_env
from telegram_api import FakeTelegram
from twilio_api import FakeTwilio

from storage.crypto.keys import generate_key_file

pytestmark = pytest.mark.e2e


@pytest.fixture
async def twilio() -> AsyncIterator[FakeTwilio]:
    async with FakeTwilio() as server:
        yield server


@pytest.fixture
async def time_server() -> AsyncIterator[str]:
    """An HTTP server whose Date header is right at /now and ten minutes behind at /late
    (a plain socket server: uvicorn writes its own Date)."""

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        request = await reader.readuntil(b"\r\n\r\n")
        behind = 600 if b" /late " in request.split(b"\r\n", 1)[0] else 0
        date = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(time.time() - behind))
        writer.write(
            f"HTTP/1.1 200 OK\r\nDate: {date}\r\nContent-Length: 0\r\n"
            "Connection: close\r\n\r\n".encode()
        )
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.close()
        await server.wait_closed()


def deployment(
    root: Path, telegram: FakeTelegram, twilio: FakeTwilio, *, broken: bool
) -> tuple[Path, Path]:
    data = root / "data"
    data.mkdir()
    # Set, not asked of mkdir: the umask of the run (other tests open data folders in
    # this process, and the bot narrows it) would mask a 0755.
    os.chmod(data, 0o755 if broken else 0o700)
    keys = data if broken else root / "keys"
    keys.mkdir(mode=0o700, exist_ok=True)
    generate_key_file(keys / "master.key")
    # Broken: a key left beside the database by an old version (a key_file set inside
    # data_dir is refused when the configuration loads, bot.keyplaces).
    key_line = "" if broken else f'key_file = "{keys / "master.key"}"\n'
    backups = root / "backups"
    backups.mkdir()
    taken = time.gmtime(time.time() - (3 * 86400 if broken else 3600))
    (backups / time.strftime("lk3-%Y%m%d-%H%M%SZ.db", taken)).write_bytes(b"backup")
    port = free_port()
    public = f"http://127.0.0.1:{free_port() if broken else port}"
    token = "123:wrong" if broken else telegram.token
    config = root / "config.toml"
    config.write_text(
        f'data_dir = "{data}"\n{key_line}\n'
        f'[telegram]\ntoken = "{token}"\napi_base_url = "{telegram.api_base_url}"\n\n'
        f'[whatsapp]\naccount_sid = "{twilio.account_sid}"\nauth_token = "{twilio.auth_token}"\n'
        f'from_number = "{twilio.sender}"\napi_base_url = "{twilio.url}"\n\n'
        f'[web]\nhost = "127.0.0.1"\nport = {port}\npublic_url = "{public}"\n',
        encoding="utf-8",
    )
    return config, backups


async def doctor(config: Path, backups: Path, time_url: str) -> tuple[int, list[str]]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "doctor", "--config", str(config),
        "--backups", str(backups), "--time-url", time_url,
        cwd=ROOT, env=clean_env(**storage_env(config)), stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert not err, err.decode()
    assert process.returncode is not None
    return process.returncode, out.decode().splitlines()


async def test_a_good_deployment_is_all_green(
    tmp_path: Path, fake: FakeTelegram, twilio: FakeTwilio, time_server: str
) -> None:
    config, backups = deployment(tmp_path, fake, twilio, broken=False)
    status, lines = await doctor(config, backups, f"{time_server}/now")
    assert [line.split(":")[0] for line in lines] == [
        "ok    config",
        "ok    keys",
        "ok    data folder",
        # On PostgreSQL the server, its schema and pg_dump are checked too.
        *(["ok    database"] if storage_env(config) else []),
        "ok    channels",
        "ok    webhook",
        "ok    clock",
        "ok    backups",
    ], "\n".join(lines)
    assert status == 0
    assert fake.calls_to("getMe"), "Telegram was asked"
    assert any("Accounts" in c.path for c in twilio.calls), "Twilio was asked"


async def test_a_broken_deployment_names_each_fault_with_its_fix(
    tmp_path: Path, fake: FakeTelegram, twilio: FakeTwilio, time_server: str
) -> None:
    config, backups = deployment(tmp_path, fake, twilio, broken=True)
    status, lines = await doctor(config, backups, f"{time_server}/late")
    said = dict(line.split(": ", 1) for line in lines)
    assert status == 1
    assert said["ok    config"].endswith("is valid")
    assert "beside the database" in said["FAIL  keys"] and "keys_dir" in said["FAIL  keys"]
    assert "chmod 700" in said["FAIL  data folder"]
    assert "token" in said["FAIL  channels"]
    assert "cannot be reached" in said["FAIL  webhook"]
    assert "timedatectl" in said["FAIL  clock"] and said["FAIL  clock"].startswith("+6")
    assert "hours old" in said["FAIL  backups"]
    assert "123:wrong" not in "\n".join(lines), "no secret is printed"


async def test_an_invalid_configuration_is_one_red_line(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text("[web]\nport = 'eighty'\n", encoding="utf-8")
    status, lines = await doctor(config, tmp_path, "")
    assert status == 1
    assert len(lines) == 1 and lines[0].startswith("FAIL  config: Config 'web.port'")
