"""Helpers for the running-bot tests: a small driver of the app (tests/support has the channel)."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import subprocess
import sys
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from support import RecordingChannel
from support.stores import storage_env, storage_env_for_args, with_storage

from bot.app import App
from bot.channels.base import Inbound
from bot.config import Config, load_config
from bot.core.outbox import OutboxSender

# A turn's replies reach the family joined into as few messages as fit, a blank line
# between them (bot.core.turns.merge_replies); a message with buttons ends at its question.
BETWEEN_REPLIES = "\n\n"


def paragraphs(texts: Iterable[str]) -> list[str]:
    """The messages' text split at blank lines, in order: the replies as the family reads them.

    A reply without a blank line of its own is found here whole, whether it was sent
    alone or joined with others, so a test can state what was said and in which order
    without depending on how many messages it took.
    """
    return [part for text in texts for part in text.split(BETWEEN_REPLIES)]


def asks(text: str, question: str) -> bool:
    """Whether a message ends with this question: the words its buttons belong to."""
    return paragraphs([text])[-1].startswith(question)


def make_config(data_dir: Path) -> Config:
    """The default config on this data folder (on PostgreSQL with `--db postgres`)."""
    return with_storage(dataclasses.replace(load_config(None, env={}), data_dir=data_dir))


@dataclasses.dataclass
class Bot:
    app: App
    channel: RecordingChannel
    counter: int = 0

    async def send(self, address: str, text: str, kind: str = "text") -> bool:
        self.counter += 1
        stored = await self.app.receive(Inbound("test", f"m{self.counter}", address, kind, text))
        await self.app.wait_idle()
        return stored

    async def start(self, address: str) -> None:
        await self.app.receive(Inbound("test", f"start-{address}", address, "start", ""))
        await self.app.wait_idle()


def soon() -> datetime:
    """A moment just after now, for asking what is due."""
    return datetime.now(UTC) + timedelta(seconds=1)


async def eventually(predicate: Callable[[], bool], *, within: float = 10.0) -> None:
    """Waits (bounded) for something the sender does in the background."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError("condition not reached")
        await asyncio.sleep(0.01)


ROOT = Path(__file__).resolve().parents[2]


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without any LK3_/TWILIO_ setting, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LK3_", "TWILIO_"))}
    env.update(extra)
    return env


async def spawn_lk3_run(
    config: Path, *, failpoint: str = "", **env: str
) -> asyncio.subprocess.Process:
    """`lk3 run --config CONFIG` as an operator starts it (stderr piped for the test)."""
    if failpoint:
        env["LK3_FAILPOINTS"] = failpoint
    env = {**storage_env(config), **env}
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        "--config",
        str(config),
        cwd=ROOT,
        env=clean_env(**env),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )


def run_lk3(
    *args: str,
    cwd: Path,
    stdin: str = "",
    wrap: tuple[str, ...] = (),
    timeout: float = 60,
) -> subprocess.CompletedProcess[str]:
    """One `lk3` command run to its end as an operator runs it (after `wrap`, e.g. setpriv)."""
    return subprocess.run(
        [*wrap, sys.executable, "-m", "bot", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd,
        env=clean_env(PYTHONPATH=str(ROOT), **storage_env_for_args(args, cwd)),
        check=False,
    )


async def drain(sender: OutboxSender) -> None:
    """Runs a sender of the test's own until nothing is due, then stops it."""
    task = asyncio.create_task(sender.run())
    try:
        await sender.wait_idle()
    finally:
        await sender.stop()
        task.cancel()
