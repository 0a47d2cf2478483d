"""`lk3 demo`: a newcomer gets the web chat and the console on 127.0.0.1 with working logins."""

from __future__ import annotations

import asyncio
import io
import re
from pathlib import Path

import httpx
from bot_support import make_config

from bot.console.auth.passwords import Hasher
from bot.demo import run_demo

FAST = Hasher(memory_kib=8, time_cost=1)
_CSRF = re.compile(r'name="csrf" value="([0-9a-f]{64})"')


async def _start(data: Path) -> tuple[asyncio.Event, asyncio.Task[int], io.StringIO]:
    stop, out = asyncio.Event(), io.StringIO()
    config = make_config(data)
    task = asyncio.create_task(run_demo(config, port=0, stop=stop, out=out, hasher=FAST))
    while "running" not in out.getvalue():
        assert not task.done(), "the demo stopped at start"
        await asyncio.sleep(0.02)
    return stop, task, out


async def _signs_in(base: str, username: str, password: str) -> bool:
    async with httpx.AsyncClient(base_url=base) as http:
        page = await http.get("/console/login")
        found = _CSRF.search(page.text)
        assert found is not None
        response = await http.post(
            "/console/login",
            data={"csrf": found.group(1), "username": username, "password": password},
        )
        # The password is accepted: next comes the second factor every role has.
        return response.status_code == 303 and response.headers["location"] == "/console/totp"


async def test_the_demo_prints_addresses_and_one_time_logins_that_work(tmp_path: Path) -> None:
    stop, task, out = await _start(tmp_path / "data")
    try:
        text = out.getvalue()
        base = re.search(r"http://127\.0\.0\.1:[0-9]+", text)
        assert base is not None
        assert f"{base.group(0)}/chat" in text and f"{base.group(0)}/console/" in text
        passwords = dict(re.findall(r"^  (\w+) +password (\S+)", text, flags=re.M))
        assert set(passwords) == {"konselor", "admin"}
        assert "otpauth://totp/" in text and "secret=" in text
        async with httpx.AsyncClient(base_url=base.group(0)) as http:
            assert (await http.get("/chat")).status_code == 200
        assert await _signs_in(base.group(0), "konselor", passwords["konselor"])
        assert not await _signs_in(base.group(0), "konselor", "wrong-password-here")
    finally:
        stop.set()
        assert await task == 0


async def test_each_run_replaces_the_previous_runs_passwords(tmp_path: Path) -> None:
    stop, task, out = await _start(tmp_path / "data")
    first = dict(re.findall(r"^  (\w+) +password (\S+)", out.getvalue(), flags=re.M))
    stop.set()
    assert await task == 0
    stop, task, out = await _start(tmp_path / "data")
    try:
        second = dict(re.findall(r"^  (\w+) +password (\S+)", out.getvalue(), flags=re.M))
        assert first["konselor"] != second["konselor"]
        base = re.search(r"http://127\.0\.0\.1:[0-9]+", out.getvalue())
        assert base is not None
        assert not await _signs_in(base.group(0), "konselor", first["konselor"])
        assert await _signs_in(base.group(0), "konselor", second["konselor"])
    finally:
        stop.set()
        assert await task == 0
