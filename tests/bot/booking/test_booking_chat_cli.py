"""A booking made end to end through the terminal channel: an admin sets up a counsellor
(`lk3 staff add`, `lk3 booking hours`), a family books in `lk3 chat` (a real process),
comes back to see it, and a counsellor marks it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from support.stores import environ_with, storage_env

from bot.cli import main

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[3]


def chat(config: Path, who: str, lines: list[str]) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LK3_")}
    return subprocess.run(
        [sys.executable, "-m", "bot", "chat", "--as", who, "--config", str(config)],
        input="".join(line + "\n" for line in lines),
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        env={**env, **storage_env(config)},
    )


def lk3(config: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """An admin command, run in this process (the chat is the real separate process)."""
    with environ_with(storage_env(config)):
        code = main([*args, "--config", str(config)])
    out, err = capsys.readouterr()
    return code, out, err


def test_a_family_books_through_the_terminal_and_staff_see_and_mark_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.toml"
    config.write_text('data_dir = "data"\n\n[booking]\nurgent_share = 0\n', "utf-8")
    assert (
        lk3(config, capsys, "staff", "add", "sari", "--name", "Ibu Sari", "--role", "counsellor")[0]
        == 0
    )
    week = "senin,selasa,rabu,kamis,jumat,sabtu,minggu"
    status, out, err = lk3(
        config, capsys, "booking", "hours", "sari", "--day", week, "--from", "08:00",
        "--to", "16:00", "--modes", "kantor",
    )  # fmt: skip
    assert status == 0, err
    assert "minggu  08:00-16:00  kantor" in out

    # Consent, "janji" (no appointment yet: make one), the office, the first day,
    # the first time, yes.
    run = chat(config, "ibu-maria", ["1", "janji", "1", "1", "1", "1"])
    assert run.returncode == 0, run.stderr
    assert "Anda belum punya janji konsultasi. Mari kita buat." in run.stdout
    assert "1. Datang ke kantor LK3\n2. Nanti saja" in run.stdout
    assert "Waktu ini kami tahan untuk Anda selama 10 menit." in run.stdout
    found = re.search(r"Kode janji: \*([A-Z0-9]{6})\*", run.stdout)
    assert found is not None, run.stdout
    code = found.group(1)
    assert re.search(r"Waktu: \w+, \d{1,2} \w+, pukul \d\d\.\d\d WIT", run.stdout)

    again = chat(config, "ibu-maria", ["janji saya"])
    assert f"Kode: *{code}*" in again.stdout, "the booking is kept across runs"

    assert lk3(config, capsys, "booking", "mark", code.lower(), "attended")[1] == (
        f"{code}: attended recorded\n"
    )
    status, _, err = lk3(config, capsys, "booking", "mark", "ZZZZZZ", "attended")
    assert status == 1 and "lk3: tidak ada janji dengan kode ZZZZZZ." in err
    assert "there is no appointment with the code ZZZZZZ." in err


def test_closures_are_added_listed_with_holidays_and_removed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.toml"
    config.write_text('data_dir = "data"\n', "utf-8")
    assert (
        lk3(config, capsys, "booking", "closures", "add", "2099-12-24", "--reason", "cuti")[0] == 0
    )
    _, listed, _ = lk3(config, capsys, "booking", "closures", "list")
    assert "2099-12-24  cuti" in listed
    assert re.search(r"\d{4}-12-25  Hari Raya Natal", listed), "holidays ahead are listed"
    assert lk3(config, capsys, "booking", "closures", "remove", "2099-12-24")[0] == 0
    status, _, err = lk3(config, capsys, "booking", "closures", "remove", "2099-12-24")
    assert status == 1 and "kantor tidak dijadwalkan tutup pada 2099-12-24" in err
    status, _, err = lk3(
        config, capsys, "booking", "closures", "add", "24-12-2099", "--reason", "x"
    )
    assert status == 1 and "Tulis seperti 2026-12-24" in err
