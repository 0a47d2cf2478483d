"""deploy/Caddyfile with Caddy itself in front of the bot's web server: its body limits
(the console takes 1MB, the web chat its longest message and more, the bot answering
kindly past its own limit, and nothing larger reaches the bot), and `lk3 doctor`'s
probe, which must use a path Caddy passes on."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from deploy_support import DEPLOY
from starlette.requests import ClientDisconnect, Request
from starlette.responses import PlainTextResponse, Response
from support import free_port
from test_caddy import caddy

from bot.channels.webchat.page import MAX_POST_BYTES
from bot.monitoring.doctor import diagnose
from bot.web import WebServer

pytestmark = pytest.mark.e2e

READ: list[int] = []


async def echo(request: Request) -> Response:
    try:
        body = await request.body()
    except ClientDisconnect:  # Caddy stopped passing an over-size body on
        return PlainTextResponse("cut", status_code=400)
    READ.append(len(body))
    return PlainTextResponse(str(len(body)))


async def test_caddy_caps_request_bodies_per_path(tmp_path: Path) -> None:
    web = WebServer("127.0.0.1", 0, max_body=8 * 1024 * 1024)
    web.add_route("/console/echo", echo, methods=["POST"])
    web.add_route("/chat/send", echo, methods=["POST"])
    await web.start()
    try:
        async with caddy(tmp_path, web.port) as (https_port, trust):
            base = f"https://localhost:{https_port}"
            async with httpx.AsyncClient(base_url=base, verify=trust, timeout=30) as http:
                form = await http.post("/console/echo", content=b"c" * 900_000)
                chat = await http.post("/chat/send", content=b"t" * (MAX_POST_BYTES + 1000))
                big_form = await http.post("/console/echo", content=b"c" * 1_100_000)
                big_chat = await http.post("/chat/send", content=b"t" * 600_000)
    finally:
        await web.stop()
    assert form.status_code == 200 and chat.status_code == 200
    # Caddy stops passing the body on at its limit: 413, or 502 from Debian's Caddy 2.6,
    # which answers so when it cuts a streamed body short.
    assert big_form.status_code in (413, 502) and big_chat.status_code in (413, 502)
    assert READ == [900_000, MAX_POST_BYTES + 1000], "nothing larger reached the bot"


@contextlib.asynccontextmanager
async def plain_caddy(tmp_path: Path, site_port: int, upstream: int) -> AsyncIterator[None]:
    """deploy/Caddyfile as it is, served over plain http on `site_port` (no certificate)."""
    program = shutil.which("caddy")
    if program is None:
        pytest.skip("caddy is missing: `make caddy` installs Debian's package (as root)")
    options = "{\n\tadmin off\n\tauto_https off\n\tdefault_bind 127.0.0.1\n}\n\n"
    config = tmp_path / "Caddyfile"
    config.write_text(options + (DEPLOY / "Caddyfile").read_text(encoding="utf-8"))
    home = tmp_path / "caddy-home"
    home.mkdir()
    env = {
        "HOME": str(home),
        "XDG_DATA_HOME": str(home / "data"),
        "XDG_CONFIG_HOME": str(home / "config"),
        "LK3_DOMAIN": f"http://localhost:{site_port}",
        "LK3_UPSTREAM": f"127.0.0.1:{upstream}",
        "PATH": "/usr/bin:/bin",
    }
    process = await asyncio.create_subprocess_exec(
        program, "run", "--config", str(config), "--adapter", "caddyfile",
        env=env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        for _ in range(400):
            if process.returncode is not None:
                assert process.stderr is not None
                raise AssertionError((await process.stderr.read()).decode()[-2000:])
            with contextlib.suppress(OSError):
                _, writer = await asyncio.open_connection("127.0.0.1", site_port)
                writer.close()
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError("caddy never listened")
        yield
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), timeout=15)
        except TimeoutError:
            process.kill()
            await process.wait()


async def test_lk3_doctor_reaches_its_probe_through_the_documented_caddy(tmp_path: Path) -> None:
    """Caddy answers 404 to any path it does not pass on: the probe is on /healthz."""
    site_port, bot_port = free_port(), free_port()
    data = tmp_path / "data"
    data.mkdir(mode=0o700)
    config = tmp_path / "config.toml"
    config.write_text(
        f'data_dir = "{data}"\n\n[web]\nhost = "127.0.0.1"\nport = {bot_port}\n'
        f'public_url = "http://localhost:{site_port}"\n',
        encoding="utf-8",
    )
    async with plain_caddy(tmp_path, site_port, bot_port):
        checks = await diagnose(config, env={})
    (webhook,) = [c for c in checks if c.name == "webhook"]
    assert webhook.ok is True, webhook
