"""The nightly backup as the timer runs it, the drill that proves a copy reads, and a restore.

The command is lk3-backup.service's own ExecStart and Environment, with the
machine's folders moved under the test's: families talk to the bot, the unit's
command writes a dated, checked copy and prunes the oldest, and the copy holds
no key and no words. A family erased after the copy cannot be read from it any
more (the key tree is kept apart), while everyone else can.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from deploy_support import Unit, as_here, bot, lk3

pytestmark = pytest.mark.e2e

MARK_A = "RAHASIA-ANNA-3141"
MARK_B = "RAHASIA-BUDI-2236"


def test_the_timer_command_writes_a_checked_copy_that_restores_without_the_erased(
    tmp_path: Path,
) -> None:
    config = tmp_path / "config.toml"
    config.write_text('languages = ["id", "en"]\n', encoding="utf-8")
    machine = tmp_path / "machine"
    command, env = as_here(Unit.read("lk3-backup.service"), config, machine)
    data, keys, backups = (Path(env[k]) for k in ("LK3_DATA_DIR", "LK3_KEYS_DIR", "LK3_BACKUP_DIR"))

    def chat(who: str, *lines: str) -> str:
        run = lk3(bot("chat", "--as", who, "--config", str(config)), env, lines=lines)
        assert run.returncode == 0, run.stderr
        return run.stdout

    chat("ibu-a", "1", f"aku cerita {MARK_A}")
    chat("pak-b", "1", f"aku cerita {MARK_B}")
    assert sorted(p.name for p in keys.iterdir()) == ["lk3.keytree", "master.key"]
    assert not (data / "master.key").exists() and not (data / "lk3.keytree").exists()
    # Two weeks of older copies already there: the oldest goes, fourteen stay.
    backups.mkdir(mode=0o700)
    for day in range(1, 15):
        (backups / f"lk3-202601{day:02d}-023000Z.db").write_bytes(b"")
    (backups / "notes.txt").write_text("not a backup: never pruned\n")

    nightly = lk3(command, env)

    assert nightly.returncode == 0, nightly.stderr
    assert "1 older copy removed, the newest 14 kept" in nightly.stdout
    assert "2 contact(s): 2 readable, 0 erased since it was taken" in nightly.stdout
    assert "opens and reads" in nightly.stdout
    copies = sorted(backups.glob("lk3-*.db"))
    assert len(copies) == 14 and (backups / "notes.txt").exists()
    assert not (backups / "lk3-20260101-023000Z.db").exists()
    copy = copies[-1]
    assert copy.stat().st_mode & 0o777 == 0o600
    content = copy.read_bytes()
    for secret in (MARK_A, MARK_B, *(f.read_text() for f in keys.iterdir())):
        assert secret.encode() not in content
    assert not any(p.name in ("master.key", "lk3.keytree") for p in backups.rglob("*"))

    chat("ibu-a", "hapus", "ya")  # erased after the copy was taken
    drill = lk3(bot("db", "restore", "--check", str(copy), "--config", str(config)), env)
    assert drill.returncode == 0, drill.stderr
    assert "2 contact(s): 1 readable, 1 erased since it was taken" in drill.stdout
    assert "The live data was not touched." in drill.stdout
    assert not list(backups.glob(".lk3-check-*")), "the scratch copy is removed"
    for run in (nightly, drill):
        assert MARK_A not in run.stdout + run.stderr and MARK_B not in run.stdout + run.stderr

    # A new machine: the database copy from off-site, the keys folder from its own place.
    other = {k: v.replace(str(machine), str(tmp_path / "new")) for k, v in env.items()}
    shutil.copytree(keys, other["LK3_KEYS_DIR"])
    restored = lk3(bot("db", "restore", str(copy), "--config", str(config)), other)
    assert restored.returncode == 0, restored.stderr
    assert "1 contact(s) readable; 1 erased since the backup was taken" in restored.stdout
    env = other
    assert MARK_B in chat("pak-b", "dataku")


def test_a_copy_that_does_not_read_fails_the_drill_and_says_so(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text("", encoding="utf-8")
    machine = tmp_path / "machine"
    _, env = as_here(Unit.read("lk3-backup.service"), config, machine)
    chat = lk3(bot("chat", "--as", "ibu-c", "--config", str(config)), env, lines=("1",))
    assert chat.returncode == 0, chat.stderr
    made = lk3(bot("db", "backup", "--dated", "--config", str(config)), env)
    assert made.returncode == 0, made.stderr
    (copy,) = Path(env["LK3_BACKUP_DIR"]).glob("lk3-*.db")
    # Another office's keys: the copy cannot be read with them.
    strange = {**env, "LK3_KEYS_DIR": str(tmp_path / "strange")}
    key = lk3(bot("keys", "generate", "--config", str(config)), strange)
    assert key.returncode == 0, key.stderr
    shutil.copy(Path(env["LK3_KEYS_DIR"]) / "lk3.keytree", tmp_path / "strange")
    drill = lk3(bot("db", "restore", "--check", str(copy), "--config", str(config)), strange)
    assert drill.returncode == 1
    assert f"backup {copy} FAILED the check" in drill.stderr
    garbage = tmp_path / "lk3-20260101-000000Z.db"
    garbage.write_bytes(b"SQLite format 3\x00" + bytes(4096))
    broken = lk3(bot("db", "restore", "--check", str(garbage), "--config", str(config)), env)
    assert broken.returncode == 1 and "FAILED the check" in broken.stderr
