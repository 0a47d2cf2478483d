"""`lk3 demo` (and `make demo`): the bot, the console and the web chat on 127.0.0.1.

For a newcomer: no token, no setup. It starts the web server with the console and
the web chat only (Telegram and WhatsApp stay off whatever the configuration
says), makes sure two demo staff members exist, gives them fresh one-time
passwords for this run, and prints the addresses:

- `konselor`: a counsellor (no second factor: optional for counsellors);
- `admin`: an admin and supervisor. Admins always need a second factor, so the
  demo enrols one and prints its secret (an otpauth URI for an authenticator app,
  and a one-line command that prints the current code).

Everything lives in the demo's own data folder (`var/demo` by default), never
the office's. Ctrl-C (SIGINT) or SIGTERM stops it cleanly, like `lk3 run`.

    (errors: the service's ServiceError, printed; exit status 2)
"""

from __future__ import annotations

import asyncio
import dataclasses
import secrets
import signal
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TextIO

import pyotp

from bot.app import utc_now
from bot.channels.webchat import CHAT_PATH
from bot.config import Config, Telegram, Web, WhatsApp
from bot.console.auth.login import ISSUER
from bot.console.auth.passwords import Hasher
from bot.run import Service, ServiceError
from storage.privacy.audit import AuditEntry
from storage.store import Store

__all__ = ["DEMO_STAFF", "DemoLogin", "demo_config", "ensure_demo_staff", "run_demo"]

# (username, display name, roles, second factor enrolled by the demo)
DEMO_STAFF: tuple[tuple[str, str, tuple[str, ...], bool], ...] = (
    ("konselor", "Konselor Demo", ("counsellor",), True),
    ("admin", "Admin Demo", ("admin", "supervisor"), True),
)


@dataclass(frozen=True, slots=True)
class DemoLogin:
    username: str
    roles: tuple[str, ...]
    password: str
    totp_secret: str | None


def demo_config(config: Config, port: int) -> Config:
    """The configuration with only the web server (console and web chat) on 127.0.0.1."""
    web = Web(host="127.0.0.1", port=port, public_url="", console=True, webchat=True)
    return dataclasses.replace(config, web=web, telegram=Telegram(), whatsapp=WhatsApp())


async def ensure_demo_staff(
    store: Store, hasher: Hasher, clock: Callable[[], datetime] = utc_now
) -> list[DemoLogin]:
    """Creates the demo staff when missing; every run gives them new passwords (and the admin
    a new second factor), so what was printed last time stops working."""
    logins = []
    for username, name, roles, totp in DEMO_STAFF:
        member = await store.staff.by_username(username)
        if member is None:
            member = await store.staff.add(username, name, roles, clock())
        elif not member.active:
            await store.staff.set_active(member.id, True, clock())
        password = "demo-" + secrets.token_urlsafe(9)
        await store.console.set_password(member.id, hasher.hash(password))
        secret = None
        await store.console.reset_totp(member.id)
        if totp:
            secret = pyotp.random_base32()
            await store.console.set_totp(member.id, secret)
            await store.console.confirm_totp(member.id, 0)
        await store.audit.record(
            AuditEntry("cli", "staff_password_set", f"staff:{member.id}", "lk3 demo")
        )
        logins.append(DemoLogin(username, roles, password, secret))
    return logins


def _print_welcome(out: TextIO, base: str, logins: list[DemoLogin]) -> None:
    print("", file=out)
    print("LK3 demo is running (stop with Ctrl-C).", file=out)
    print(f"  Family (web chat):     {base}{CHAT_PATH}", file=out)
    print(f"  Counsellor (console):  {base}/console/", file=out)
    print("", file=out)
    print("One-time demo logins (new ones each run):", file=out)
    for login in logins:
        roles = ", ".join(login.roles)
        print(f"  {login.username:<9} password {login.password}  ({roles})", file=out)
        if login.totp_secret is not None:
            uri = pyotp.TOTP(login.totp_secret).provisioning_uri(
                name=login.username, issuer_name=ISSUER
            )
            print(f"            second factor: {uri}", file=out)
            code = f"import pyotp; print(pyotp.TOTP('{login.totp_secret}').now())"
            print(f'            current code:  .venv/bin/python -c "{code}"', file=out)
    print("", file=out)
    print("Play a family in one tab (type e.g. 'suami saya memukul saya sekarang'),", file=out)
    print("and the counsellor in another: the case appears live in the queue.", file=out)
    print("The terminal chat is still there: lk3 chat", file=out)


async def run_demo(
    config: Config,
    *,
    port: int = 8080,
    stop: asyncio.Event | None = None,
    out: TextIO = sys.stdout,
    err: TextIO = sys.stderr,
    hasher: Hasher | None = None,
) -> int:
    """Runs the demo until `stop` is set (or SIGINT/SIGTERM when none is given)."""
    service = Service(demo_config(config, port))
    try:
        await service.start()
    except ServiceError as exc:
        print(f"lk3: cannot start the demo: {exc}", file=err)
        return 2
    loop = asyncio.get_running_loop()
    signals = stop is None
    stop = stop or asyncio.Event()
    if signals:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
    try:
        assert service.app is not None and service.web is not None
        logins = await ensure_demo_staff(service.app.store, hasher or Hasher())
        _print_welcome(out, f"http://127.0.0.1:{service.web.port}", logins)
        out.flush()
        await stop.wait()
    finally:
        if signals:
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)
        await service.stop()
    print("lk3: demo stopped", file=err)
    return 0
