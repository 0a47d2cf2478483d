"""`lk3 doctor --config FILE`: checks a deployment before it goes live, one line a check.

    ok    config        the file is valid
    ok    keys          the master key is readable, private, and kept apart from the database
    ok    data folder   exists, belongs to this user, closed to others
    ok    database      on PostgreSQL only: the server answers, its schema, pg_dump is there
    ok    channels      each channel's credentials are accepted (Telegram getMe, Twilio account)
    ok    webhook       the public URL reaches this server (a probe answered on [web] port)
    ok    clock         within 30 s of the Date a --time-url answers (skipped without one)
    ok    backups       the newest dated copy (--backups, else backup_dir) is under 26 hours old
    ok    webhooks      with [webhooks.*]: each receiver's delivered, pending, given up, failing

A red line says what to do. Exit status 1 on any red, 0 otherwise; nothing a person
wrote is read (the database is not opened; on PostgreSQL only its migrations are read).
"""

from __future__ import annotations

import os
import secrets
import stat
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from pathlib import Path

import httpx

from bot.app import utc_now
from bot.channels.base import ChannelSetupError
from bot.channels.registry import Setup, build
from bot.config import Config, ConfigError, load_config
from bot.core.texts import BotTexts
from bot.web import WebError, WebServer
from storage.crypto.dated import latest_copy
from storage.crypto.keys import KeyRing
from storage.errors import StorageError

__all__ = ["Check", "diagnose"]

CLOCK_TOLERANCE_SECONDS = 30.0
BACKUP_MAX_AGE_HOURS = 26
HTTP_TIMEOUT = 10.0


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    ok: bool | None  # None: skipped, with a note
    detail: str
    fix: str = ""

    def line(self, colour: bool) -> str:
        mark, tint = {True: ("ok  ", "32"), False: ("FAIL", "31"), None: ("skip", "33")}[self.ok]
        head = f"\033[{tint}m{mark}\033[0m" if colour else mark
        tail = f" -> {self.fix}" if self.fix and self.ok is False else ""
        return f"{head}  {self.name}: {self.detail}{tail}"


def _keys(config: Config, env: dict[str, str]) -> Check:
    database_dir = config.database_path.resolve().parent
    if env.get("LK3_MASTER_KEYS"):
        try:
            KeyRing.load(None, env)
        except StorageError as exc:
            return Check("keys", False, str(exc), "fix LK3_MASTER_KEYS in the EnvironmentFile")
        return Check("keys", True, "master keys from LK3_MASTER_KEYS (not on disk)")
    key_file = config.resolved_key_file
    if not key_file.exists():
        return Check(
            "keys",
            False,
            f"no key file at {key_file}",
            "run `lk3 keys generate --config FILE` (kept outside data_dir), or set LK3_MASTER_KEYS",
        )
    try:
        KeyRing.load(key_file, env)
    except (StorageError, OSError) as exc:
        return Check("keys", False, f"the key file cannot be read ({exc})", "check its owner")
    mode = stat.S_IMODE(key_file.stat().st_mode)
    if mode & 0o077:
        return Check("keys", False, f"{key_file} is mode {mode:o}", f"chmod 600 {key_file}")
    inside = _inside(key_file, database_dir) or _inside(config.keytree_path, database_dir)
    if inside:
        return Check(
            "keys",
            False,
            f"the master key or the key tree sits beside the database in {database_dir}: a"
            " copy of that folder carries the keys with the data, and erasure is no longer final",
            "start `lk3 run` once (it moves them to keys_dir), or set key_file/keys_dir elsewhere",
        )
    return Check("keys", True, f"{key_file} readable, mode 600, apart from the database")


def _inside(path: Path, folder: Path) -> bool:
    return path.exists() and path.resolve().is_relative_to(folder)


def _data_dir(config: Config) -> Check:
    folder = config.data_dir
    if not folder.is_dir():
        return Check("data folder", False, f"{folder} does not exist", f"mkdir -m 700 {folder}")
    info = folder.stat()
    if info.st_uid != os.geteuid():
        return Check(
            "data folder",
            False,
            f"{folder} belongs to uid {info.st_uid}, not this user ({os.geteuid()})",
            "chown the folder to the bot's user, or run doctor as it",
        )
    mode = stat.S_IMODE(info.st_mode)
    if mode & 0o077:
        return Check("data folder", False, f"{folder} is mode {mode:o}", f"chmod 700 {folder}")
    if not os.access(folder, os.W_OK):
        return Check("data folder", False, f"{folder} is not writable", "check the mount")
    return Check("data folder", True, f"{folder} mode 700, owned by this user")


async def _channels(config: Config) -> Check:
    names = config.channels
    if not names:
        return Check("channels", False, "no channel is enabled", "see [telegram] / [whatsapp]")
    try:
        texts = BotTexts.load(languages=config.languages)
        channels = build(names, Setup(config, texts, utc_now, {}))
    except Exception as exc:
        return Check("channels", False, f"cannot be built ({exc})", "check the channel sections")
    try:
        await channels.open()
    except ChannelSetupError as exc:
        return Check("channels", False, str(exc), "fix the credentials named")
    finally:
        await channels.close()
    return Check("channels", True, f"credentials accepted: {', '.join(names)}")


async def _webhook(config: Config) -> Check:
    """The public URL reaches this server: an lk3 already running, or a probe started here."""
    needs = config.web.public_url or (
        config.telegram.webhook_url if config.telegram.mode == "webhook" else ""
    )
    if not needs:
        return Check("webhook", None, "no public URL configured (polling only)")
    base = needs.split("/telegram/")[0].rstrip("/")
    nonce = secrets.token_hex(16)

    # The probe answers on /healthz, the one path every documented proxy passes on
    # (deploy/Caddyfile answers 404 to anything it does not know), with a nonce in
    # place of "ok": an answer from some other server is told apart.
    web: WebServer | None = WebServer(config.web.host, config.web.port)
    assert web is not None
    web.report_health(lambda: nonce)
    try:
        await web.start()
    except WebError:
        web = None  # the port is taken: lk3 run answers /healthz there
    try:
        async with httpx.AsyncClient(timeout=HTTP_TIMEOUT, follow_redirects=False) as http:
            if web is not None:
                answer = await http.get(base + "/healthz")
                reached = answer.text == nonce
            else:
                answer = await http.get(base + "/healthz")
                reached = answer.status_code in (200, 503)
    except httpx.HTTPError as exc:
        return Check(
            "webhook",
            False,
            f"{base} cannot be reached from here ({type(exc).__name__})",
            "check DNS, the firewall and the reverse proxy in front of [web] port",
        )
    finally:
        if web is not None:
            await web.stop()
    if not reached:
        return Check(
            "webhook",
            False,
            f"{base} answered {answer.status_code}, but not from this server",
            f"point the reverse proxy at {config.web.host}:{config.web.port}",
        )
    return Check("webhook", True, f"{base} reaches this server")


async def _clock(time_url: str | None) -> Check:
    if not time_url:
        return Check("clock", None, "not compared (give --time-url https://... to compare)")
    try:
        async with httpx.AsyncClient(timeout=HTTP_TIMEOUT) as http:
            before = time.time()
            answer = await http.head(time_url)
            after = time.time()
        date = parsedate_to_datetime(answer.headers["date"]).timestamp()
    except (httpx.HTTPError, KeyError, TypeError, ValueError) as exc:
        return Check("clock", False, f"{time_url} gave no Date ({type(exc).__name__})", "")
    # The header's second is truncated: compare with the middle of the exchange.
    skew = (before + after) / 2 - (date + 0.5)
    if abs(skew) > CLOCK_TOLERANCE_SECONDS:
        return Check(
            "clock",
            False,
            f"{skew:+.0f}s from {time_url} (TOTP logins and bookings depend on it)",
            "enable time sync: timedatectl set-ntp true (systemd-timesyncd)",
        )
    return Check("clock", True, f"{skew:+.1f}s from {time_url}")


def _backups(folder: Path) -> Check:
    """The newest dated copy (`lk3-YYYYMMDD-HHMMSSZ.db`, storage.crypto.dated), by its name."""
    latest = latest_copy(folder)
    if latest is None:
        return Check(
            "backups",
            False,
            f"no dated backup in {folder}",
            "enable lk3-backup.timer, or run `lk3 db backup --dated` once",
        )
    hours = (utc_now() - latest.taken_at).total_seconds() / 3600
    if hours > BACKUP_MAX_AGE_HOURS:
        return Check(
            "backups",
            False,
            f"the newest backup {latest.path.name} is {hours:.0f} hours old",
            "check `systemctl status lk3-backup.timer` and its journal",
        )
    return Check("backups", True, f"{latest.path.name}, {hours:.1f} hours old")


async def diagnose(
    config_path: Path,
    *,
    env: dict[str, str] | None = None,
    time_url: str | None = None,
    backups: Path | None = None,
) -> list[Check]:
    env = dict(os.environ if env is None else env)
    try:
        config = load_config(config_path, env)
    except ConfigError as exc:
        return [Check("config", False, str(exc), f"edit {config_path}")]
    checks = [Check("config", True, f"{config_path} is valid")]
    checks.append(_keys(config, env))
    checks.append(_data_dir(config))
    from bot.monitoring.pgcheck import postgres_check  # on PostgreSQL only: the server

    database = postgres_check(config)
    if database is not None:
        checks.append(database)
    steps: list[Callable[[], Awaitable[Check]]] = [
        lambda: _channels(config),
        lambda: _webhook(config),
        lambda: _clock(time_url),
    ]
    for step in steps:
        checks.append(await step())
    checks.append(_backups(backups if backups is not None else config.backups_folder))
    from bot.figures.hookcheck import webhooks_check  # with `[webhooks.*]` only

    receivers = webhooks_check(config)
    if receivers is not None:
        checks.append(receivers)
    return checks
