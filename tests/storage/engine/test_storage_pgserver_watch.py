"""The tests' throwaway PostgreSQL server goes with the test process that started it:
a run killed before its teardown (SIGKILL, an interrupted CI job) leaves no server
running and no folder in /tmp (tests/support/pgserver.py's watcher)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from support.pgserver import skip_reason

ROOT = Path(__file__).resolve().parents[3]

STARTS_AND_WAITS = """
import sys, time
sys.path[:0] = ["tests", "tests/fakes", "."]
from support.pgserver import PgServer
server = PgServer()
server.start()
print(server.folder, flush=True)
time.sleep(600)
"""


def _postmaster(folder: Path) -> int:
    return int((folder / "data" / "postmaster.pid").read_text().split()[0])


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and ") Z" not in stat.read_text()


def test_a_killed_test_process_leaves_no_server_and_no_folder() -> None:
    reason = skip_reason()
    if reason is not None:
        pytest.skip(reason)
    child = subprocess.Popen(
        [sys.executable, "-c", STARTS_AND_WAITS], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout is not None
        folder = Path(child.stdout.readline().strip())
        server = _postmaster(folder)
        assert _alive(server)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
        if child.stdout is not None:
            child.stdout.close()
    deadline = time.monotonic() + 60  # the watcher looks twice a second
    while (folder.exists() or _alive(server)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(server), "the server outlived the process that started it"
    assert not folder.exists(), "its folder was left in /tmp"
