"""`lk3 run` as a real process for the fault tests: its config, its start, what it holds open.

The fault tests and `make soak` drive the service from outside, as an operator runs
it, against the fake Bot API and the fake Twilio; what they read of the process is
what an operator could: its file descriptors (`/proc/PID/fd`), its health endpoint,
and plain counts in its database (no personal data is ever read).
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from support.rawdb import database_exists, read_only_query
from support.stores import storage_env

__all__ = [
    "ROOT",
    "counts",
    "lk3_config",
    "listening",
    "open_fds",
    "report",
    "start_lk3",
    "until",
]

ROOT = Path(__file__).resolve().parents[2]


def lk3_config(
    folder: Path,
    *,
    port: int,
    telegram: tuple[str, str] | None = None,
    whatsapp: tuple[str, str, str, str] | None = None,
) -> Path:
    """A config.toml in `folder` (data in `folder/data`): Telegram as (token, api base
    url), WhatsApp as (account sid, auth token, sender, api base url)."""
    lines = ['data_dir = "data"', ""]
    if telegram is not None:
        token, base = telegram
        lines += ["[telegram]", f'token = "{token}"', f'api_base_url = "{base}"', ""]
    if whatsapp is not None:
        sid, auth, sender, base = whatsapp
        lines += [
            "[whatsapp]",
            f'account_sid = "{sid}"',
            f'auth_token = "{auth}"',
            f'from_number = "{sender}"',
            f'api_base_url = "{base}"',
            "",
        ]
    lines += ["[web]", 'host = "127.0.0.1"', f"port = {port}"]
    lines += [f'public_url = "http://127.0.0.1:{port}"', ""]
    path = folder / "config.toml"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


async def start_lk3(
    config: Path, *, stderr: bool = False, storage_url: str | None = None
) -> asyncio.subprocess.Process:
    """`lk3 run --config CONFIG` without any LK3_ setting of this environment; on the
    database at `storage_url` when given, else the test run's (`storage_env`)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LK3_", "TWILIO_"))}
    storage = storage_env(config) if storage_url is None else {"LK3_STORAGE_URL": storage_url}
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        "--config",
        str(config),
        cwd=config.parent,
        env={**env, "PYTHONPATH": str(ROOT), **storage},
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE if stderr else asyncio.subprocess.DEVNULL,
    )


async def listening(port: int, process: asyncio.subprocess.Process) -> None:
    """Waits until the process answers its health endpoint."""
    async with httpx.AsyncClient() as client:
        for _ in range(600):
            assert process.returncode is None, "lk3 run stopped before listening"
            try:
                if (await client.get(f"http://127.0.0.1:{port}/healthz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.05)
    raise AssertionError("lk3 run never listened")


def open_fds(pid: int) -> int:
    """How many file descriptors the process holds now."""
    return len(os.listdir(f"/proc/{pid}/fd"))


async def until(predicate: Callable[[], bool], within: float, what: str = "") -> float:
    """Polls `predicate` (bounded); returns the seconds it took."""
    start = time.monotonic()
    while not predicate():
        assert time.monotonic() - start < within, f"not reached within {within}s: {what}"
        await asyncio.sleep(0.1)
    return time.monotonic() - start


def stored_inbox(database: Path) -> int:
    """How many inbound messages the database holds; 0 until the first start made its tables.

    A poll can meet the file between its creation and the first migration's commit
    (SQLite's catalogue: the deleted-WAL phase that asks is SQLite's).
    """
    if not database_exists(database):
        return 0
    made = read_only_query(database, "SELECT 1 FROM sqlite_master WHERE name = 'inbox'")
    return int(read_only_query(database, "SELECT count(*) FROM inbox")[0][0]) if made else 0


def counts(database: Path) -> dict[str, int]:
    """Plain counts (no personal data) read straight from the database file."""
    one = lambda sql: int(read_only_query(database, sql)[0][0])  # noqa: E731
    return {
        "inbox": one("SELECT count(*) FROM inbox"),
        "unprocessed": one("SELECT count(*) FROM inbox WHERE processed_at IS NULL"),
        "unanswered": one(
            "SELECT count(*) FROM inbox i WHERE NOT EXISTS "
            "(SELECT 1 FROM outbox o WHERE o.inbox_id = i.id)"
        ),
        "outbox": one("SELECT count(*) FROM outbox"),
        "pending": one("SELECT count(*) FROM outbox WHERE status = 'pending'"),
        "failed": one("SELECT count(*) FROM outbox WHERE status = 'failed'"),
        "sent": one("SELECT count(*) FROM outbox WHERE status = 'sent'"),
    }


def report(
    phase: str,
    *,
    messages: int,
    replies: int,
    lost: int,
    twice: int,
    fallbacks: int,
    resume: float | None,
    extra: str = "",
) -> str:
    """One line of `make soak`'s figures for a phase (printed; shown with -s)."""
    resumed = "-" if resume is None else f"{resume:.1f}s"
    line = (
        f"soak {phase}: messages {messages}, replies {replies}, lost {lost}, "
        f"sent twice {twice}, fallback replies {fallbacks}, time to resume {resumed}"
        + (f" ({extra})" if extra else "")
    )
    print("\n" + line)
    return line
