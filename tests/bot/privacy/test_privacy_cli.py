"""A family's rights and the office's privacy commands, through the real `lk3` processes.

Each right is exercised in `lk3 chat` (the terminal channel, the whole message
path); backups, restores, purges, the audit check, case flags and key rotation
through their commands, on the same data folder, as an office would.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from support import keys_of
from support.rawdb import raw_query, raw_update
from support.stores import environ_with, restore_target, storage_env_for_args

from bot.cli import main

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[3]
MARK_A = "RAHASIA-ANNA-2718"
MARK_B = "RAHASIA-BUDI-1618"


def lk3(*args: str, lines: list[str] | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LK3_")}
    env.update(storage_env_for_args(args, ROOT))
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        input="".join(line + "\n" for line in lines or []),
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        env=env,
    )


@dataclass(frozen=True)
class Ran:
    returncode: int
    stdout: str
    stderr: str


def admin(capsys: pytest.CaptureFixture[str], *args: str) -> Ran:
    """An office command, run in this process (the same `main` as the `lk3` script)."""
    capsys.readouterr()
    with environ_with(storage_env_for_args(args, ROOT)):
        code = main(list(args))
    out, err = capsys.readouterr()
    return Ran(code, out, err)


def chat(data: Path, who: str, lines: list[str]) -> str:
    run = lk3("chat", "--as", who, "--data", str(data), lines=lines)
    assert run.returncode == 0, run.stderr
    return run.stdout


def messages(output: str) -> list[str]:
    return [block.strip() for block in output.split("\n\n") if block.strip()]


def test_declining_in_the_terminal_chat_keeps_no_word_written(tmp_path: Path) -> None:
    data = tmp_path / "data"
    said = messages(chat(data, "ibu-c", [f"halo saya mau cerita {MARK_A}", "2", "dataku"]))
    assert said[0].startswith("Halo, selamat datang di layanan chat")
    export = "\n".join(said[next(i for i, m in enumerate(said) if "Berikut data" in m) :])
    assert "tidak setuju (teks persetujuan versi" in export
    assert MARK_A not in export and "(isi pesan tidak disimpan)" in export
    assert "consent" not in export and "limited_choice" not in export


def test_each_right_works_in_the_terminal_chat(tmp_path: Path) -> None:
    data = tmp_path / "data"
    script = [
        "1",
        f"aku cerita {MARK_A}",
        "dataku",  # my data
        "keluar",  # quick exit
        "hapus",  # delete: asks first
        "ya",
        "halo",  # a new person now: greeted afresh
        "1",
        "berhenti",  # withdraw consent
        "halo",
    ]
    said = messages(chat(data, "ibu-a", script))
    export = next(i for i, m in enumerate(said) if m.startswith("Berikut data yang kami simpan"))
    assert any(MARK_A in m for m in said[export:])
    assert any("setuju (teks persetujuan versi 2026-12-07)" in m for m in said[export:])
    done = next(i for i, m in enumerate(said) if m.startswith("Itu semua data tentang Anda"))
    assert said[done + 1] == "Oke, terima kasih."
    assert "tidak bisa dibatalkan" in said[done + 2]
    farewell = next(i for i, m in enumerate(said) if m.startswith("Data Anda sudah kami hapus."))
    assert said[farewell + 1].startswith("Yang kami hapus:\n• ")  # what went, item by item
    assert said[farewell + 2].startswith("Yang tetap ada hanya angka untuk laporan kantor")
    assert said[farewell + 4].startswith("Halo, selamat datang di layanan chat")
    assert any("persetujuan Anda sudah kami catat sebagai ditarik" in m for m in said[farewell:])
    assert said[-1].startswith("Anda sudah menghentikan layanan ini")
    database = data / "lk3.db"
    assert raw_query(database, "SELECT contact_id, stage FROM erasures") == [(1, "done")]
    assert raw_query(database, "SELECT id FROM contacts") == [(2,)]
    assert raw_query(database, "SELECT withdrawal FROM consents ORDER BY id") == [(0,), (1,)]


def test_an_older_backup_restored_does_not_bring_a_deleted_family_back(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data, restored = tmp_path / "data", tmp_path / "restored"
    chat(data, "ibu-a", ["1", f"aku cerita {MARK_A}"])
    chat(data, "pak-b", ["1", f"aku cerita {MARK_B}"])
    backup = tmp_path / "monday.db"
    made = admin(capsys, "db", "backup", str(backup), "--data", str(data))
    assert made.returncode == 0, made.stderr
    assert MARK_A.encode() not in backup.read_bytes()
    chat(data, "ibu-a", ["hapus", "ya"])

    # The office restores Monday's backup on a new machine: key file and key tree in the
    # keys folder beside the new data folder.
    keys_of(restored).mkdir(mode=0o700, parents=True)
    for name in ("master.key", "lk3.keytree"):
        shutil.copy2(keys_of(data) / name, keys_of(restored) / name)
    restore_target(restored / "lk3.db")
    run = admin(capsys, "db", "restore", str(backup), "--data", str(restored))
    assert run.returncode == 0, run.stderr
    assert "1 contact(s) readable; 1 erased since the backup was taken" in run.stdout
    mine = chat(restored, "pak-b", ["dataku"])
    assert MARK_B in mine and "selamat datang" not in mine.lower(), "his conversation goes on"
    assert raw_query(restored / "lk3.db", "SELECT id FROM contacts") == [(2,)]


def test_purge_flag_and_audit_commands_show_ids_and_counts_never_words(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    chat(data, "pak-b", ["1", f"suami saya memukuli saya sekarang {MARK_B}"])
    chat(data, "ibu-a", ["1", f"aku cerita {MARK_A}", "berhenti"])

    dry = admin(capsys, "db", "purge", "--dry-run", "--data", str(data))
    assert dry.returncode == 0, dry.stderr
    assert dry.stdout == "would erase 1 contact(s)\n  withdrawal: 1 (contact ids 2)\n"
    purged = admin(capsys, "db", "purge", "--data", str(data))
    assert purged.stdout.startswith("erased 1 contact(s)")

    [(code,)] = raw_query(data / "lk3.db", "SELECT code FROM cases")
    flagged = admin(capsys, "cases", "flag", code, "--safety-risk", "--data", str(data))
    assert flagged.returncode == 0 and code in flagged.stdout
    withheld = messages(chat(data, "pak-b", ["dataku"]))
    assert withheld[-1].startswith("Maaf, data Anda tidak dapat kami kirim lewat chat.")

    verified = admin(capsys, "audit", "verify", "--data", str(data))
    assert verified.returncode == 0, verified.stdout
    assert verified.stdout.startswith("audit log intact: 4 rows")
    raw_update(data / "lk3.db", "DROP TRIGGER audit_append_only_update")
    raw_update(data / "lk3.db", "UPDATE audit SET actor = 'system' WHERE seq = 3")
    tampered = admin(capsys, "audit", "verify", "--data", str(data))
    assert tampered.returncode == 1
    assert "row 3: edited: its content does not match its hash" in tampered.stdout
    for run in (dry, purged, flagged, verified, tampered):
        assert MARK_A not in run.stdout + run.stderr and MARK_B not in run.stdout + run.stderr


def test_a_new_key_rotated_in_lets_the_old_one_go(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    chat(data, "ibu-a", ["1", f"aku cerita {MARK_A}"])
    key_file = keys_of(data) / "master.key"
    old_id = [line for line in key_file.read_text().splitlines() if ":" in line and "#" not in line]
    added = admin(capsys, "keys", "add", "--key-file", str(key_file))
    assert added.returncode == 0, added.stderr
    assert (key_file.stat().st_mode & 0o777) == 0o600
    early = admin(capsys, "keys", "rotate", "--data", str(data))
    assert early.returncode == 1 and "Restart the bot first" in early.stderr
    rotated = admin(capsys, "keys", "rotate", "--data", str(data), "--batch", "1", "--bot-stopped")
    assert rotated.returncode == 0, rotated.stderr
    assert "done: 1 rewrapped, 0 remaining" in rotated.stdout
    assert f"no stored key is wrapped under {old_id[0].split(':')[0]}" in rotated.stdout
    # Remove the old key: the conversation still reads and goes on.
    key_file.write_text("\n".join(x for x in key_file.read_text().splitlines() if x not in old_id))
    mine = chat(data, "ibu-a", ["dataku"])
    assert MARK_A in mine
