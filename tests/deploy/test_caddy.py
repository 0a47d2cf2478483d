"""Caddy in front of the real `lk3 run`, on loopback, with Caddy's own local certificate.

Caddy runs deploy/Caddyfile itself: the test only puts a global options block
before it (test ports, `local_certs`, which is `tls internal` for every site,
and no trust-store install) and sets the two variables the file reads. The bot
runs with lk3.service's own arguments (`--log-format journal`). Through Caddy a
signed Twilio webhook is answered and a counsellor signs in to the console with
a secure cookie; the client trusts only Caddy's local root certificate.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import shutil
import signal
import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from deploy_support import DEPLOY, ROOT, Unit, as_here, bot, clean_env, lk3, until_healthy
from support import free_port
from twilio.request_validator import RequestValidator
from twilio_api import FakeTwilio

pytestmark = pytest.mark.e2e

FAMILY = "+6281234567077"
WORDS = "halo, saya butuh bantuan RAHASIA-CADDY-5"
PASSWORD = "kata-sandi-yang-panjang-sekali"
CSRF = re.compile(r'name="csrf" value="([0-9a-f]{64})"')


def caddy_config(tmp_path: Path, http_port: int, https_port: int) -> Path:
    """deploy/Caddyfile as it is, after the test's global options."""
    options = (
        "{\n"
        "\tadmin off\n"
        f"\thttp_port {http_port}\n"
        f"\thttps_port {https_port}\n"
        "\tdefault_bind 127.0.0.1\n"
        "\tlocal_certs\n"
        "\tskip_install_trust\n"
        "}\n\n"
    )
    path = tmp_path / "Caddyfile"
    path.write_text(options + (DEPLOY / "Caddyfile").read_text(encoding="utf-8"))
    return path


@contextlib.asynccontextmanager
async def caddy(tmp_path: Path, upstream: int) -> AsyncIterator[tuple[int, ssl.SSLContext]]:
    program = shutil.which("caddy")
    if program is None:
        pytest.skip("caddy is missing: `make caddy` installs Debian's package (as root)")
    http_port, https_port = free_port(), free_port()
    home = tmp_path / "caddy-home"
    home.mkdir()
    env = {
        "HOME": str(home),
        "XDG_DATA_HOME": str(home / "data"),
        "XDG_CONFIG_HOME": str(home / "config"),
        "LK3_DOMAIN": "localhost",
        "LK3_UPSTREAM": f"127.0.0.1:{upstream}",
        "PATH": "/usr/bin:/bin",
    }
    config = caddy_config(tmp_path, http_port, https_port)
    process = await asyncio.create_subprocess_exec(
        program,
        "run",
        "--config",
        str(config),
        "--adapter",
        "caddyfile",
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    root = home / "data/caddy/pki/authorities/local/root.crt"
    try:
        # Ready once a TLS handshake for localhost succeeds: the port opens before Caddy
        # has issued its certificate, and a handshake then fails with "internal error"
        # (found by CI from a clean clone on a loaded machine).
        deadline = asyncio.get_running_loop().time() + 60
        while True:
            if process.returncode is not None:
                assert process.stderr is not None
                raise AssertionError((await process.stderr.read()).decode()[-2000:])
            if root.exists():
                trust = ssl.create_default_context(cafile=str(root))
                with contextlib.suppress(OSError, ssl.SSLError):
                    _, writer = await asyncio.open_connection(
                        "127.0.0.1", https_port, ssl=trust, server_hostname="localhost"
                    )
                    writer.close()
                    break
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError("caddy never answered a TLS handshake for localhost")
            await asyncio.sleep(0.05)
        yield https_port, trust
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), timeout=15)
            except TimeoutError:
                process.kill()
                await process.wait()


async def test_caddy_passes_a_signed_twilio_webhook_and_a_console_login_to_lk3_run(
    tmp_path: Path,
) -> None:
    port = free_port()
    async with FakeTwilio() as fake, caddy(tmp_path, port) as (https_port, trust):
        public = f"https://localhost:{https_port}"
        config = tmp_path / "config.toml"
        config.write_text(
            f'[whatsapp]\naccount_sid = "{fake.account_sid}"\nfrom_number = "{fake.sender}"\n'
            f'api_base_url = "{fake.url}"\n\n'
            f'[web]\nhost = "127.0.0.1"\nport = {port}\npublic_url = "{public}"\nconsole = true\n',
            encoding="utf-8",
        )
        command, env = as_here(Unit.read("lk3.service"), config, tmp_path / "machine")
        env["LK3_TWILIO_AUTH_TOKEN"] = fake.auth_token
        for step in (
            lk3(bot("staff", "add", "rina", "--name", "Rina", "--role", "counsellor",
                    "--config", str(config)), env),
            lk3(bot("staff", "passwd", "rina", "--config", str(config)), env, lines=(PASSWORD,)),
        ):  # fmt: skip
            assert step.returncode == 0, step.stderr
        process = await asyncio.create_subprocess_exec(
            *command,
            cwd=ROOT,
            env={**clean_env(), **env},
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            await until_healthy(port, process)
            async with httpx.AsyncClient(base_url=public, verify=trust, timeout=30) as client:
                await _webhook(client, fake, public)
                await _console_login(client)
                assert (await client.get("/healthz")).text == "ok"
                assert (await client.get("/metrics")).status_code == 404, "kept on loopback"
                assert (await client.get("/")).status_code == 404
            process.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(process.wait(), timeout=30) == 0
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
    assert process.stderr is not None
    journal = (await process.stderr.read()).decode()
    lines = journal.splitlines()
    assert lines and all(re.match(r"<[2-7]>\S+: ", line) for line in lines), journal[-2000:]
    assert any(line.startswith("<6>bot.run: running on WhatsApp") for line in lines)
    for secret in (FAMILY, FAMILY.removeprefix("+"), "RAHASIA-CADDY", fake.auth_token, PASSWORD):
        assert secret not in journal
    assert not (Path(env["LK3_DATA_DIR"]) / "logs").exists(), "the journal is the log"


async def _webhook(client: httpx.AsyncClient, fake: FakeTwilio, public: str) -> None:
    """Twilio signs for the public https address; Caddy passes path and body unchanged."""
    fake.open_window(FAMILY)
    params = fake.incoming(FAMILY, Body=WORDS)
    signature = RequestValidator(fake.auth_token).compute_signature(
        f"{public}/twilio/whatsapp", params
    )
    forged = await client.post("/twilio/whatsapp", data=params, headers={"X-Twilio-Signature": "x"})
    assert forged.status_code == 403
    answer = await client.post(
        "/twilio/whatsapp", data=params, headers={"X-Twilio-Signature": signature}
    )
    assert answer.status_code == 200, answer.text
    await fake.wait_for(lambda: fake.texts_to(FAMILY), timeout=30)
    assert "selamat datang" in fake.texts_to(FAMILY)[0].lower()


async def _console_login(client: httpx.AsyncClient) -> None:
    """Password sign-in over https: the session cookie is Secure, and the console answers."""
    page = await client.get("/console/login")
    assert page.status_code == 200
    match = CSRF.search(page.text)
    assert match is not None
    form = {"csrf": match.group(1), "username": "rina", "password": PASSWORD}
    signed = await client.post("/console/login", data=form)
    assert signed.status_code in (302, 303), signed.text
    cookies = signed.headers.get_list("set-cookie")
    assert cookies and all("Secure" in c and "HttpOnly" in c for c in cookies)
    home = await client.get(signed.headers["location"])
    assert home.status_code == 200
    assert "rina" in home.text.lower() or "Rina" in home.text
    assert home.headers["strict-transport-security"] == "max-age=31536000"


def test_the_nginx_server_block_serves_the_same_paths_as_the_caddyfile() -> None:
    """Both front ends pass the same paths to the bot and keep /metrics on loopback."""
    caddyfile = (DEPLOY / "Caddyfile").read_text(encoding="utf-8")
    nginx = (DEPLOY / "nginx.conf").read_text(encoding="utf-8")
    for path in ("/telegram/", "/twilio/", "/console/", "/chat", "/ical/", "/healthz"):
        assert path in caddyfile and path in nginx, path
    assert "flush_interval -1" in caddyfile
    assert re.search(r"location = /console/queue/events \{[^}]*proxy_buffering off;", nginx)
    assert "proxy_set_header X-Forwarded-For $remote_addr;" in nginx
    assert "/metrics" not in re.sub(r"#.*", "", nginx) + re.sub(r"#.*", "", caddyfile)
