"""nginx in front of the real `lk3 run`, on loopback, with a certificate made here.

nginx runs deploy/nginx.conf's own server blocks: the test changes only what
belongs to the machine (the server name, the ports, now on 127.0.0.1 alone, the
certificate paths and the bot's address) and includes the result from a main
config shaped like Debian's /etc/nginx/nginx.conf (its http-level access log and
`gzip on` included), with everything nginx writes kept in a folder of the test's.
The bot runs with lk3.service's own arguments and `[web] trusted_proxies` set to
loopback, as deploy/nginx.conf's header asks. Through nginx over TLS: Twilio's
signed webhook is answered and a forged one refused, a counsellor signs in with
Secure HttpOnly cookies, the console's event stream brings a new case while it
is open, each client is known by its own address, an oversized body stops at
nginx, and /metrics and /readyz are not served. Nothing is written to the
access log.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import os
import re
import shutil
import signal
import ssl
import subprocess
import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pyotp
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from deploy_support import DEPLOY, ROOT, Unit, as_here, bot, clean_env, lk3, until_healthy
from support import free_port
from twilio.request_validator import RequestValidator
from twilio_api import FakeTwilio

pytestmark = pytest.mark.e2e

FAMILY = "+6281234567088"
WORDS = "halo, saya butuh bantuan RAHASIA-NGINX-6"
CRISIS = "saya mau bunuh diri malam ini"
PASSWORD = "kata-sandi-yang-panjang-sekali"
CSRF = re.compile(r'name="csrf" value="([0-9a-f]{64})"')
SECRET = re.compile(r'<code class="secret">([A-Z2-7]+)</code>')
CASE = re.compile(r'data-case="([0-9A-Z]+)"')
SERVER_NAME = "lk3.example.org"
# The addresses clients connect from (any 127.x.y.z is this machine); nginx's own is 127.0.0.1.
GUESSER, COUNSELLOR = "127.0.0.2", "127.0.0.3"


@dataclass(frozen=True)
class Site:
    """What deploy/nginx.conf names on the office's machine, and what the test puts there."""

    http_port: int
    https_port: int
    certificate: Path
    key: Path
    upstream: int


def site_config(site: Site) -> str:
    """deploy/nginx.conf with the machine's names replaced, each found exactly where it is
    expected (a change to the file that a replacement no longer matches fails here)."""
    text = (DEPLOY / "nginx.conf").read_text(encoding="utf-8")
    live = f"/etc/letsencrypt/live/{SERVER_NAME}"
    for old, new, count in (
        (f"server_name {SERVER_NAME};", "server_name localhost;", 2),
        ("listen 80;", f"listen 127.0.0.1:{site.http_port};", 1),
        ("listen 443 ssl http2;", f"listen 127.0.0.1:{site.https_port} ssl http2;", 1),
        # IPv6 may be off in a container: the IPv4 listener carries the test.
        ("listen [::]:80;", "", 1),
        ("listen [::]:443 ssl http2;", "", 1),
        (f"{live}/fullchain.pem", str(site.certificate), 1),
        (f"{live}/privkey.pem", str(site.key), 1),
        ("server 127.0.0.1:8080;", f"server 127.0.0.1:{site.upstream};", 1),
    ):
        assert text.count(old) == count, f"deploy/nginx.conf: {old!r} found {text.count(old)} times"
        text = text.replace(old, new)
    return text


def main_config(folder: Path, site: Path) -> Path:
    """A main config as Debian's nginx.conf has it (access log and gzip at http level), with
    the pid, logs and temporary files in `folder`; nginx stays in the foreground."""
    lines = [
        "daemon off;",
        "worker_processes 1;",
        f"pid {folder}/nginx.pid;",
        f"lock_file {folder}/nginx.lock;",
        "error_log stderr;",
        "events { worker_connections 64; }",
        "http {",
        "    sendfile on;",
        "    tcp_nopush on;",
        "    default_type application/octet-stream;",
        "    ssl_protocols TLSv1 TLSv1.1 TLSv1.2 TLSv1.3;",
        "    ssl_prefer_server_ciphers on;",
        f"    access_log {folder}/access.log;",
        "    gzip on;",
        *(f"    {kind}_temp_path {folder}/{kind};" for kind in TEMPS),
        f"    include {site};",
        "}",
    ]
    path = folder / "nginx.conf"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


TEMPS = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")


SIGNS_CERTIFICATES = x509.KeyUsage(
    digital_signature=False,
    content_commitment=False,
    key_encipherment=False,
    data_encipherment=False,
    key_agreement=False,
    key_cert_sign=True,
    crl_sign=True,
    encipher_only=False,
    decipher_only=False,
)


def certificates(folder: Path) -> tuple[Path, Path, Path]:
    """A throwaway root, and a certificate for localhost it signed: (root, chain, key)."""
    now = datetime.datetime.now(datetime.UTC)
    root_key = ec.generate_private_key(ec.SECP256R1())
    root_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "LK3 test root")])
    root = (
        x509.CertificateBuilder()
        .subject_name(root_name)
        .issuer_name(root_name)
        .public_key(root_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(SIGNS_CERTIFICATES, critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(root_key.public_key()), False)
        .sign(root_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(root_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()), False
        )
        .sign(root_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    paths = folder / "root.pem", folder / "fullchain.pem", folder / "privkey.pem"
    paths[0].write_bytes(root.public_bytes(pem))
    paths[1].write_bytes(leaf.public_bytes(pem) + root.public_bytes(pem))
    paths[2].write_bytes(
        key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    paths[2].chmod(0o600)
    return paths


def nginx_program() -> str:
    program = shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/sbin/nginx") if os.access(p, os.X_OK)), None
    )
    if program is None:
        pytest.skip("nginx is missing: `make nginx` installs Debian's package (as root)")
    return program


@contextlib.contextmanager
def nginx_folder() -> Iterator[Path]:
    """nginx's own folder. As root nginx's workers run as `nobody`, and pytest's tmp_path sits
    in a folder only root may enter: this one is open to them (nginx makes its temporary
    folders there and gives them to the workers)."""
    folder = Path(tempfile.mkdtemp(prefix="lk3-nginx-"))
    try:
        folder.chmod(0o755)
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def prepared(folder: Path, upstream: int) -> tuple[Site, Path, Path]:
    """(site, main config, the root certificate clients trust), all written to `folder`."""
    root, chain, key = certificates(folder)
    site = Site(free_port(), free_port(), chain, key, upstream)
    server = folder / "lk3.conf"
    server.write_text(site_config(site), encoding="utf-8")
    return site, main_config(folder, server), root


def test_nginx_accepts_the_server_blocks() -> None:
    """`nginx -t` on deploy/nginx.conf as the office installs it: no error, no warning."""
    program = nginx_program()
    with nginx_folder() as folder:
        _, config, _ = prepared(folder, free_port())
        checked = subprocess.run(
            [program, "-t", "-p", str(folder), "-c", str(config), "-e", "stderr"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    assert checked.returncode == 0, checked.stderr
    assert "test is successful" in checked.stderr
    assert "[warn]" not in checked.stderr and "[emerg]" not in checked.stderr, checked.stderr


@contextlib.asynccontextmanager
async def nginx(upstream: int) -> AsyncIterator[tuple[Site, ssl.SSLContext, Path]]:
    """nginx running deploy/nginx.conf for the bot at 127.0.0.1:`upstream`:
    (the site, a TLS context trusting only the test's root, nginx's folder)."""
    program = nginx_program()
    with nginx_folder() as folder:
        site, config, root = prepared(folder, upstream)
        process = await asyncio.create_subprocess_exec(
            program, "-p", str(folder), "-c", str(config), "-e", "stderr",
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        try:
            for _ in range(400):
                if process.returncode is not None:
                    assert process.stderr is not None
                    raise AssertionError((await process.stderr.read()).decode()[-2000:])
                with contextlib.suppress(OSError):
                    _, writer = await asyncio.open_connection("127.0.0.1", site.https_port)
                    writer.close()
                    break
                await asyncio.sleep(0.05)
            else:
                raise AssertionError("nginx never listened")
            yield site, ssl.create_default_context(cafile=str(root)), folder
        finally:
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
                try:
                    await asyncio.wait_for(process.wait(), timeout=15)
                except TimeoutError:
                    process.kill()
                    await process.wait()


def client(public: str, trust: ssl.SSLContext, source: str) -> httpx.AsyncClient:
    """A client connecting to nginx from `source`, trusting the test's root alone."""
    transport = httpx.AsyncHTTPTransport(verify=trust, local_address=source)
    return httpx.AsyncClient(base_url=public, transport=transport, timeout=30)


async def test_nginx_passes_webhooks_the_console_and_its_event_stream_to_lk3_run() -> None:
    port = free_port()
    async with FakeTwilio() as fake, nginx(port) as (site, trust, folder):
        public = f"https://localhost:{site.https_port}"
        machine = folder / "machine"
        config = folder / "config.toml"
        config.write_text(
            f'[whatsapp]\naccount_sid = "{fake.account_sid}"\nfrom_number = "{fake.sender}"\n'
            f'api_base_url = "{fake.url}"\n\n'
            f'[web]\nhost = "127.0.0.1"\nport = {port}\npublic_url = "{public}"\nconsole = true\n'
            'trusted_proxies = ["127.0.0.1"]\n',
            encoding="utf-8",
        )
        command, env = as_here(Unit.read("lk3.service"), config, machine)
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
            async with (
                client(public, trust, GUESSER) as guesser,
                client(public, trust, COUNSELLOR) as counsellor,
            ):
                await _webhook(counsellor, fake, public)
                await _each_client_is_known_by_its_own_address(guesser)
                await _console_login(counsellor, public)
                await _event_stream(counsellor, fake, public)
                await _oversized_body(counsellor, fake, public)
                await _not_served(counsellor)
                await _plain_http(site)
                await _offers_http2(site, trust)
            process.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(process.wait(), timeout=30) == 0
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
        logged = folder / "access.log"
        assert not logged.exists() or logged.read_text() == "", "nothing in the access log"
    assert process.stderr is not None
    journal = (await process.stderr.read()).decode()
    for secret in (FAMILY, FAMILY.removeprefix("+"), "RAHASIA-NGINX", fake.auth_token, PASSWORD):
        assert secret not in journal


def _signed(fake: FakeTwilio, public: str, words: str) -> tuple[dict[str, str], str]:
    params = fake.incoming(FAMILY, Body=words)
    signature = RequestValidator(fake.auth_token).compute_signature(
        f"{public}/twilio/whatsapp", params
    )
    return params, signature


async def _webhook(client: httpx.AsyncClient, fake: FakeTwilio, public: str) -> None:
    """Twilio signs for the public https address; nginx passes path and body unchanged."""
    fake.open_window(FAMILY)
    params, signature = _signed(fake, public, WORDS)
    forged = await client.post("/twilio/whatsapp", data=params, headers={"X-Twilio-Signature": "x"})
    assert forged.status_code == 403
    answer = await client.post(
        "/twilio/whatsapp", data=params, headers={"X-Twilio-Signature": signature}
    )
    assert answer.status_code == 200, answer.text
    await fake.wait_for(lambda: fake.texts_to(FAMILY), timeout=30)
    assert "selamat datang" in fake.texts_to(FAMILY)[0].lower()


async def _csrf(client: httpx.AsyncClient) -> str:
    page = await client.get("/console/login")
    assert page.status_code == 200
    match = CSRF.search(page.text)
    assert match is not None
    return match.group(1)


async def _each_client_is_known_by_its_own_address(guesser: httpx.AsyncClient) -> None:
    """The console counts failed sign-ins per client address (20 in 15 minutes). Behind nginx
    every connection comes from 127.0.0.1, so the bot must read the client from nginx's
    X-Forwarded-For, and nginx must put the address it saw there (without it, the guesser's
    own header would pass through): a guesser claiming a fresh address each time is still
    stopped, and the counsellor, connecting from elsewhere, is not (the next step signs her
    in)."""
    token = await _csrf(guesser)
    for attempt in range(20):
        refused = await guesser.post(
            "/console/login",
            data={"csrf": token, "username": f"nobody-{attempt}", "password": "wrong"},
            headers={"X-Forwarded-For": f"203.0.113.{attempt + 1}"},
        )
        assert refused.status_code == 401, refused.text
        assert "Wrong username or password" in refused.text or "salah" in refused.text
    # The 21st guess, claiming yet another address, is refused unchecked. (A clean
    # account's right password would still pass: strangers cannot lock a user out.)
    locked = await guesser.post(
        "/console/login",
        data={"csrf": token, "username": "nobody-21", "password": "wrong"},
        headers={"X-Forwarded-For": "198.51.100.7"},
    )
    assert locked.status_code == 401
    assert "Too many attempts" in locked.text or "Terlalu banyak" in locked.text


async def _console_login(client: httpx.AsyncClient, public: str) -> None:
    """Password sign-in over https: the session cookie is Secure and HttpOnly."""
    form = {"csrf": await _csrf(client), "username": "rina", "password": PASSWORD}
    signed = await client.post("/console/login", data=form)
    assert signed.status_code in (302, 303), signed.text
    cookies = signed.headers.get_list("set-cookie")
    assert cookies and all("Secure" in c and "HttpOnly" in c for c in cookies)
    enrol = await client.get(signed.headers["location"])
    assert enrol.status_code == 200 and "/enrol" in str(enrol.url), "a counsellor needs a code"
    assert enrol.headers["strict-transport-security"] == "max-age=31536000"
    secret, csrf = SECRET.search(enrol.text), CSRF.search(enrol.text)
    assert secret is not None and csrf is not None
    code = pyotp.TOTP(secret.group(1)).now()
    confirmed = await client.post("/console/enrol", data={"csrf": csrf.group(1), "code": code})
    assert confirmed.status_code in (302, 303), confirmed.text
    home = await client.get(confirmed.headers["location"])
    assert home.status_code == 200
    assert "Rina" in home.text
    moved = await client.get("/console")
    assert moved.status_code == 308
    assert moved.headers["location"] == f"{public}/console/"


async def _event_stream(client: httpx.AsyncClient, fake: FakeTwilio, public: str) -> None:
    """The live queue is open while a family writes of a crisis: the new case comes through
    nginx on the open stream (a buffering proxy would hold it back)."""
    async with client.stream("GET", "/console/queue/events") as stream:
        assert stream.status_code == 200
        assert stream.headers["content-type"].startswith("text/event-stream")
        lines = stream.aiter_lines()
        first = await asyncio.wait_for(_next_queue_event(lines), timeout=15)
        assert CASE.findall(first) == []
        params, signature = _signed(fake, public, CRISIS)
        answer = await client.post(
            "/twilio/whatsapp", data=params, headers={"X-Twilio-Signature": signature}
        )
        assert answer.status_code == 200, answer.text
        fresh = await asyncio.wait_for(_next_queue_event(lines), timeout=15)
        assert len(CASE.findall(fresh)) == 1, fresh[-2000:]


async def _next_queue_event(lines: AsyncIterator[str]) -> str:
    event, data = "", []
    async for line in lines:
        if line.startswith("event: "):
            event = line[7:]
        elif line.startswith("data: "):
            data.append(line[6:])
        elif line == "" and event == "queue":
            return "\n".join(data)
        elif line == "":
            event, data = "", []
    raise AssertionError("the stream ended before a queue event")


async def _oversized_body(client: httpx.AsyncClient, fake: FakeTwilio, public: str) -> None:
    """A webhook body past the file's client_max_body_size stops at nginx (its own page)."""
    limit = re.search(r"^\s*client_max_body_size (\d+)k;", _server_block(), re.MULTILINE)
    assert limit is not None, "deploy/nginx.conf sets a body limit for the server"
    params, signature = _signed(fake, public, "x" * (int(limit.group(1)) * 1024 + 1))
    refused = await client.post(
        "/twilio/whatsapp", data=params, headers={"X-Twilio-Signature": signature}
    )
    assert refused.status_code == 413
    assert "<center>nginx" in refused.text


def _server_block() -> str:
    return (DEPLOY / "nginx.conf").read_text(encoding="utf-8")


async def _not_served(client: httpx.AsyncClient) -> None:
    """/metrics and /readyz stay on 127.0.0.1, however the path is spelled; so does the rest."""
    assert (await client.get("/healthz")).text == "ok"
    for path in ("/metrics", "/readyz", "//metrics", "/twilio/%2e%2e/metrics",
                 "/console/..%2freadyz", "/", "/docs"):  # fmt: skip
        answer = await client.get(path)
        assert answer.status_code in (403, 404), (path, answer.status_code)
        assert "lk3_" not in answer.text and "ready" not in answer.text, path


async def _plain_http(site: Site) -> None:
    """Port 80 only sends browsers to https (a calendar feed's token included, unlogged)."""
    async with httpx.AsyncClient(base_url=f"http://localhost:{site.http_port}") as plain:
        moved = await plain.get("/ical/SECRET-FEED-TOKEN.ics")
    assert moved.status_code == 301
    assert moved.headers["location"] == "https://localhost/ical/SECRET-FEED-TOKEN.ics"


async def _offers_http2(site: Site, trust: ssl.SSLContext) -> None:
    """Browsers are offered HTTP/2 (`listen ... http2`), with HTTP/1.1 for the rest."""
    context = ssl.create_default_context()
    context.load_verify_locations(cadata=trust.get_ca_certs(binary_form=True)[0])
    context.set_alpn_protocols(["h2", "http/1.1"])
    _, writer = await asyncio.open_connection(
        "127.0.0.1", site.https_port, ssl=context, server_hostname="localhost"
    )
    try:
        assert writer.get_extra_info("ssl_object").selected_alpn_protocol() == "h2"
    finally:
        writer.close()
