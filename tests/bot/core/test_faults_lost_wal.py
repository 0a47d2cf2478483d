"""A write-ahead log deleted after a SIGKILL is noticed: the bot refuses to start, and says why.

Issue 19: after a SIGKILL, deleting `lk3.db-wal` and `-shm` made 20 accepted
messages and that contact's state vanish, and the bot started silently. Here
`lk3 chat` (the whole bot on the terminal channel) takes 20 messages and is
killed; the copy whose log was deleted is refused in one line that says what
happened and how to restore, the copy with its log intact starts with all 20, and
neither a clean stop, a first start nor a restored backup raises the alarm.
"""

from __future__ import annotations

import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

import pytest
from bot_support import ROOT, clean_env, run_lk3
from support import keys_of

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.sqlite_only("SQLite's write-ahead log file beside the database"),
]

MESSAGES = 20
TEXTS = ("halo", "1", "menu", "2", "terima kasih")


def _count(database: Path, where: str = "") -> int:
    """Messages stored (a plain count, read beside the running bot)."""
    if not database.exists():
        return 0
    with closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=5)) as db:
        try:
            row = db.execute(f"SELECT count(*) FROM inbox {where}")
        except sqlite3.OperationalError:  # not created yet
            return 0
        return int(row.fetchone()[0])


def _stored(database: Path) -> int:
    with closing(sqlite3.connect(database)) as db:
        return int(db.execute("SELECT count(*) FROM inbox").fetchone()[0])


def _chat_until_killed(data: Path) -> int:
    """20 messages through `lk3 chat`, each processed, then SIGKILL; the messages stored."""
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "chat", "--as", "ibu-a", "--data", str(data)],
        cwd=data.parent,
        env=clean_env(PYTHONPATH=str(ROOT)),
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdin is not None
        for n in range(MESSAGES):
            process.stdin.write(TEXTS[n % len(TEXTS)] + "\n")
        process.stdin.flush()
        deadline = time.monotonic() + 90
        # Every typed line processed (the greeting's `start` row is not one of them), so
        # nothing is still on its way in when the count is taken and the bot killed.
        typed = "WHERE kind = 'text' AND processed_at IS NOT NULL"
        while _count(data / "lk3.db", typed) < MESSAGES:
            assert process.poll() is None, "lk3 chat stopped"
            assert time.monotonic() < deadline, "the messages were not processed"
            time.sleep(0.1)
        stored = _count(data / "lk3.db")
        process.send_signal(signal.SIGKILL)
        process.wait(30)
        return stored
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(30)
        if process.stdin is not None:
            process.stdin.close()


def _start_and_stop(data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`lk3 chat` on the folder with no input: it opens everything, then stops cleanly."""
    return run_lk3("chat", "--as", "ibu-a", "--data", str(data), *args, cwd=data.parent)


def _one_line(result: subprocess.CompletedProcess[str]) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    return lines[0]


def test_a_deleted_log_after_a_kill_is_refused_and_an_intact_one_recovers_everything(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    accepted = _chat_until_killed(data)
    assert (data / "lk3.db-wal").stat().st_size > 0, "the kill left committed work in the log"
    intact = tmp_path / "intact"
    shutil.copytree(data, intact)
    shutil.copytree(keys_of(data), keys_of(intact))
    for side in ("lk3.db-wal", "lk3.db-shm"):
        (data / side).unlink()

    refused = _start_and_stop(data)
    assert refused.returncode == 2
    said = _one_line(refused)
    assert said.startswith(f"lk3: cannot start: the database {data / 'lk3.db'} has lost")
    assert "lk3.db-wal was removed after an unclean stop" in said
    assert "lk3 db restore" in said and "put it back" in said
    for text in TEXTS:
        assert f" {text} " not in said.lower()
    # A command that reads is refused the same way, before it shows anything.
    reading = run_lk3("audit", "verify", "--data", str(data), cwd=tmp_path)
    assert reading.returncode == 2 and "has lost committed work" in _one_line(reading)

    # The intact copy: SQLite recovers its log, nothing is missing, no alarm.
    recovered = _start_and_stop(intact)
    assert recovered.returncode == 0, recovered.stderr
    assert _stored(intact / "lk3.db") == accepted >= MESSAGES

    # What the message offers last: go on with what is left (and see what was lost).
    (data / "lk3.commits").unlink()
    going_on = _start_and_stop(data)
    assert going_on.returncode == 0, going_on.stderr
    assert _stored(data / "lk3.db") < accepted, "the deleted log held accepted messages"


def test_a_first_start_a_clean_stop_and_a_restored_backup_raise_no_alarm(tmp_path: Path) -> None:
    data = tmp_path / "data"
    first = _start_and_stop(data)
    assert first.returncode == 0, first.stderr
    again = _start_and_stop(data)
    assert again.returncode == 0, again.stderr
    backup = tmp_path / "backup.db"
    taken = run_lk3("db", "backup", str(backup), "--data", str(data), cwd=tmp_path)
    assert taken.returncode == 0, taken.stderr
    # lk3 db restore: a new folder holding the key file and the key tree (where an older
    # data folder kept them, beside the database: they are moved to keys/ at start).
    restored = tmp_path / "restored"
    restored.mkdir(mode=0o700)
    for name in ("master.key", "lk3.keytree"):
        shutil.copy2(keys_of(data) / name, restored / name)
    done = run_lk3("db", "restore", str(backup), "--data", str(restored), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    started = _start_and_stop(restored)
    assert started.returncode == 0, started.stderr
