"""`lk3 chat` as a person uses it: scripted conversations, resuming, and crashes.

Each run is a real process on a real data folder. The crash tests kill the
process with a failpoint at every step a message passes (no cleanup, like a
power cut) and show that the next start loses nothing.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from support import keys_of
from support.stores import storage_env

from bot.core.failpoints import EXIT_CODE, MESSAGE_POINTS

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[3]


def chat(
    data: Path, who: str, lines: list[str], *, failpoint: str = "", extra: list[str] | None = None
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LK3_")}
    if failpoint:
        env["LK3_FAILPOINTS"] = failpoint
    env.update(storage_env(data_dir=data))
    return subprocess.run(
        [sys.executable, "-m", "bot", "chat", "--as", who, "--data", str(data), *(extra or [])],
        input="".join(line + "\n" for line in lines),
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        env=env,
    )


def messages(output: str) -> list[str]:
    """The printed replies, paragraph by paragraph (a reply may hold blank lines too)."""
    return [block.strip() for block in output.split("\n\n") if block.strip()]


def without_repeats(seen: list[str]) -> list[str]:
    """`seen` with every run of paragraphs that repeats the run just before it dropped.

    A reply sent again after a crash (at least once) is printed again whole, and a
    reply holding several paragraphs (a turn's replies joined, bot.core.turns.merge_replies)
    repeats as a run of them.
    """
    kept: list[str] = []
    i = 0
    while i < len(seen):
        run = next(
            (n for n in range(1, len(kept) + 1) if seen[i : i + n] == kept[len(kept) - n :]),
            0,
        )
        if run:
            i += run
        else:
            kept.append(seen[i])
            i += 1
    return kept


def test_a_scripted_conversation_runs_in_indonesian(tmp_path: Path) -> None:
    run = chat(tmp_path, "ibu-a", ["1", "1"])
    assert run.returncode == 0, run.stderr
    assert "selamat datang" in run.stdout.lower()
    assert "1. Setuju" in run.stdout  # choices are a numbered list
    assert "Terima kasih atas kepercayaan Anda." in run.stdout
    assert (keys_of(tmp_path) / "master.key").stat().st_mode & 0o777 == 0o600


def test_running_again_resumes_where_the_conversation_stopped(tmp_path: Path) -> None:
    first = chat(tmp_path, "ibu-b", [])
    assert "selamat datang" in first.stdout.lower()
    second = chat(tmp_path, "ibu-b", ["1"])
    assert second.returncode == 0, second.stderr
    assert "selamat datang" not in second.stdout.lower(), "no second greeting on resume"
    assert "Terima kasih atas kepercayaan Anda." in second.stdout


def test_two_people_sharing_a_data_folder_do_not_see_each_others_replies(tmp_path: Path) -> None:
    chat(tmp_path, "ibu-c", ["1"])
    other = chat(tmp_path, "bapak-d", [])
    assert "Terima kasih atas kepercayaan Anda." not in other.stdout


SCRIPT = ["1", "2", "1"]  # consent, then "information" from the menu, then onwards


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[str], int]:
    """The uncrashed conversation, and how many replies the greeting alone has."""
    base = tmp_path_factory.mktemp("reference")
    # A reply may hold blank lines, so count the greeting's replies by the sends
    # it takes: after_send@k crashes only if the greeting has at least k replies.
    greeting_replies = 0
    while chat(
        base / f"probe{greeting_replies}", "x", [], failpoint=f"after_send@{greeting_replies + 1}"
    ).returncode:
        greeting_replies += 1
    assert 0 < greeting_replies < 10
    return messages(chat(base / "whole", "ibu-e", SCRIPT).stdout), greeting_replies


@pytest.mark.parametrize("point", sorted(MESSAGE_POINTS))
@pytest.mark.parametrize("nth", [1, 2])
def test_a_crash_at_any_step_loses_nothing(
    tmp_path: Path, point: str, nth: int, reference: tuple[list[str], int]
) -> None:
    """Crash while handling the greeting (nth=1) or the first answer (nth=2), then restart."""
    expected, greeting_replies = reference
    # Each message passes each point once, except after_send: once per reply.
    count = greeting_replies * (nth - 1) + 1 if point == "after_send" else nth
    crashed = chat(tmp_path, "ibu-e", SCRIPT, failpoint=f"{point}@{count}")
    assert crashed.returncode == EXIT_CODE, crashed.stderr
    recovered = chat(tmp_path, "ibu-e", [])
    assert recovered.returncode == 0, recovered.stderr
    # The message that crashed the process was stored; the person types the rest again.
    resumed = chat(tmp_path, "ibu-e", SCRIPT[nth - 1 :])
    seen = messages(crashed.stdout) + messages(recovered.stdout) + messages(resumed.stdout)

    # Every reply of the uncrashed run arrives, in order (a reply may repeat: at least once).
    assert without_repeats(seen) == expected


@pytest.mark.sqlite_only("scans the bytes of the SQLite file and its WAL left by a crash")
def test_nothing_a_person_typed_is_readable_in_the_database_or_logs(tmp_path: Path) -> None:
    marker = "ZEBRA-7731-RAHASIA"
    who = "+6281234567890"
    # Crash after the commit so that the write-ahead log still holds the turn.
    chat(tmp_path, who, ["1", f"aku cerita {marker}"], failpoint="")
    chat(tmp_path, who, [f"lagi {marker}"], failpoint="after_commit")
    files = [p for p in tmp_path.rglob("*") if p.is_file() and p.name != "master.key"]
    assert any(p.name.endswith("-wal") for p in files), "expected a WAL left by the crash"
    assert any(p.suffix == ".log" for p in files)
    for path in files:
        data = path.read_bytes()
        for secret in (marker, who, who.lstrip("+"), "6281234567890"):
            assert secret.encode() not in data, f"{secret!r} readable in {path.name}"


def test_a_missing_key_for_an_existing_database_stops_start_up_clearly(tmp_path: Path) -> None:
    chat(tmp_path, "ibu-f", [])
    (keys_of(tmp_path) / "master.key").unlink()
    run = chat(tmp_path, "ibu-f", ["1"])
    assert run.returncode == 2
    assert "key file" in run.stderr and "missing" in run.stderr
    assert not (keys_of(tmp_path) / "master.key").exists(), "never silently writes under a new key"


def test_a_wrong_key_stops_start_up_clearly(tmp_path: Path) -> None:
    chat(tmp_path, "ibu-g", [])
    key = keys_of(tmp_path) / "master.key"
    key.unlink()
    subprocess.run(
        [sys.executable, "-m", "bot", "keys", "generate", "--key-file", str(key)],
        check=True,
        capture_output=True,
        cwd=ROOT,
    )
    run = chat(tmp_path, "ibu-g", ["1"])
    assert run.returncode == 2
    assert "do not match this database" in run.stderr


def test_the_data_folder_and_everything_in_it_are_private(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    data.chmod(0o755)
    chat(data, "ibu-h", ["1"])
    assert data.stat().st_mode & 0o777 == 0o700
    for path in data.rglob("*"):
        assert path.stat().st_mode & 0o077 == 0, f"{path.name} is open to others"


def test_a_mistyped_failpoint_stops_start_up_instead_of_misbehaving(tmp_path: Path) -> None:
    run = chat(tmp_path, "ibu-i", ["1"], failpoint="after_comit")
    assert run.returncode == 2
    assert "unknown point 'after_comit'" in run.stderr
