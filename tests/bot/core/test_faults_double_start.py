"""Two processes on one data folder: the second is refused, in one line, before it writes.

Issue 19: two `lk3 run` on one folder both ran and both sent the queued replies.
Here the first `lk3 run` is a real process; every other start on its folder, and
every command that writes, is refused with one line naming the process that holds
the folder, while the commands that only read run beside it. The lock dies with
its process: after a SIGKILL the next start needs nothing cleaned up.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from bot_support import ROOT, clean_env, run_lk3
from support import free_port

pytestmark = pytest.mark.e2e

# Commands that write: each refused while the bot runs (the console makes such changes then).
WRITERS = (
    ("staff", "add", "sari", "--name", "Sari", "--role", "counsellor"),
    ("roster", "add", "sari", "--day", "senin", "--from", "08:00", "--to", "16:00"),
    ("booking", "closures", "add", "2026-12-24", "--reason", "libur"),
    ("booking", "hours", "sari", "--day", "senin", "--from", "09:00", "--to", "12:00"),
    ("db", "purge", "--dry-run"),
    ("db", "restore", "backup.db"),
    ("db", "move", "--to", "postgresql://lk3@db.invalid/lk3"),
    ("cases", "flag", "K7F3Q2", "--safety-risk"),
    ("safety", "export-labels", "--out", "labels.tsv"),
)
# Commands that only read: they run beside the bot.
READERS = (
    ("staff", "list"),
    ("roster", "list"),
    ("booking", "closures", "list"),
    ("audit", "verify"),
    ("db", "backup", "backup.db"),
)


def _write_config(folder: Path, name: str = "config.toml") -> Path:
    port = free_port()
    path = folder / name
    path.write_text(
        f'data_dir = "data"\n\n[web]\nhost = "127.0.0.1"\nport = {port}\nwebchat = true\n',
        encoding="utf-8",
    )
    return path


def _port(config: Path) -> int:
    return int(config.read_text(encoding="utf-8").split("port = ")[1].split("\n")[0])


@pytest.fixture
def bots() -> Iterator[list[subprocess.Popen[str]]]:
    """The `lk3 run` processes a test starts, killed at the end whatever happened."""
    started: list[subprocess.Popen[str]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
        process.wait(30)
        if process.stderr is not None:
            process.stderr.close()


def _start(config: Path, bots: list[subprocess.Popen[str]]) -> subprocess.Popen[str]:
    """`lk3 run`, returned once it answers /healthz."""
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "run", "--config", str(config)],
        cwd=config.parent,
        env=clean_env(PYTHONPATH=str(ROOT)),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    bots.append(process)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, f"lk3 run stopped: {process.communicate()[1]}"
        try:
            if httpx.get(f"http://127.0.0.1:{_port(config)}/healthz").status_code == 200:
                return process
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise AssertionError("lk3 run never listened")


def _one_line(result: subprocess.CompletedProcess[str]) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    return lines[0]


def test_a_second_bot_on_the_same_folder_is_refused_and_the_first_runs_on(
    tmp_path: Path, bots: list[subprocess.Popen[str]]
) -> None:
    config = _write_config(tmp_path)
    first = _start(config, bots)
    # Another configuration naming the same folder (so it is the folder, not the port).
    other = _write_config(tmp_path, "other.toml")
    data = str(tmp_path / "data")
    log = tmp_path / "data" / "logs" / "lk3.log"
    logged = log.read_text(encoding="utf-8")
    with ThreadPoolExecutor(max_workers=3) as pool:
        second, demo, chat = pool.map(
            lambda args: run_lk3(*args, cwd=tmp_path),
            [
                ("run", "--config", str(other)),
                ("demo", "--data", data, "--port", "0"),
                ("chat", "--data", data),
            ],
        )
    for refused, command in ((second, "lk3 run"), (demo, "lk3 demo"), (chat, "lk3 chat")):
        assert refused.returncode == 2, (command, refused.stderr)
        said = _one_line(refused)
        assert said.startswith("lk3: cannot start: the data folder ")
        assert f"is in use by another lk3 process (pid {first.pid}: lk3 run, since " in said
    assert first.poll() is None, "the first bot runs on"
    assert log.read_text(encoding="utf-8") == logged, "a refused start writes nothing"


def test_commands_that_write_wait_for_the_bot_to_stop_and_readers_run_beside_it(
    tmp_path: Path, bots: list[subprocess.Popen[str]]
) -> None:
    config = _write_config(tmp_path)
    first = _start(config, bots)

    def lk3(args: tuple[str, ...]) -> subprocess.CompletedProcess[str]:
        return run_lk3(*args, "--config", str(config), cwd=tmp_path)

    with ThreadPoolExecutor(max_workers=3) as pool:
        written = list(pool.map(lk3, WRITERS))
        read = list(pool.map(lk3, READERS))
    for args, result in zip(WRITERS, written, strict=True):
        assert result.returncode != 0, args
        said = _one_line(result)
        assert f"is in use by another lk3 process (pid {first.pid}: lk3 run" in said, args
    for args, result in zip(READERS, read, strict=True):
        assert result.returncode == 0, (args, result.stderr)
    assert first.poll() is None
    # Once the bot has stopped, the same change is made.
    first.send_signal(signal.SIGTERM)
    assert first.wait(30) == 0
    added = lk3(WRITERS[0])
    assert added.returncode == 0, added.stderr


def test_a_killed_bot_leaves_no_lock_behind(
    tmp_path: Path, bots: list[subprocess.Popen[str]]
) -> None:
    config = _write_config(tmp_path)
    first = _start(config, bots)
    os.kill(first.pid, signal.SIGKILL)
    first.wait(30)
    assert (tmp_path / "data" / "lk3.lock").exists(), "the file stays; the lock does not"
    again = _start(config, bots)
    again.send_signal(signal.SIGTERM)
    assert again.wait(30) == 0
