"""The systemd units under deploy/: systemd itself accepts them, and they say what we promise.

`systemd-analyze verify` reads each unit as systemd would load it, in a private
root holding the system's own units and the program at the path ExecStart
names (there is no running systemd in a container, and none is needed: verify
loads units offline). Any warning it prints, an unknown key or a value it
ignores, fails the test.
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
from deploy_support import DEPLOY, Unit

UNITS = ("lk3.service", "lk3-backup.service", "lk3-backup.timer")
SYSTEM_UNITS = Path("/usr/lib/systemd/system")


def test_systemd_analyze_verify_accepts_every_unit_without_a_warning(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None or not SYSTEM_UNITS.is_dir():
        pytest.skip("systemd-analyze is missing: `make systemd-analyze` installs Debian's systemd")
    root = tmp_path / "root"
    shutil.copytree(SYSTEM_UNITS, root / "usr/lib/systemd/system", symlinks=True)
    units = root / "etc/systemd/system"
    units.mkdir(parents=True)
    for name in UNITS:
        shutil.copy(DEPLOY / name, units / name)
        unit = Unit.read(name)
        for line in unit.all("ExecStart"):
            program = root / shlex.split(line)[0].lstrip("/")
            program.parent.mkdir(parents=True, exist_ok=True)
            program.write_text("#!/bin/sh\n")
            program.chmod(0o755)
    run = subprocess.run(
        [analyze, "verify", f"--root={root}", *(f"/etc/systemd/system/{n}" for n in UNITS)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert run.stderr.strip() == "", run.stderr


def test_the_bot_runs_as_its_own_user_hardened_restarted_and_logging_to_the_journal() -> None:
    unit = Unit.read("lk3.service")
    expected = {
        "User": "lk3",
        "Group": "lk3",
        "EnvironmentFile": "/etc/lk3/lk3.env",
        "Restart": "on-failure",
        "NoNewPrivileges": "yes",
        "ProtectSystem": "strict",
        "ProtectHome": "yes",
        "PrivateTmp": "yes",
        "PrivateDevices": "yes",
        "StandardError": "journal",
        "UMask": "0077",
        "CapabilityBoundingSet": "",
    }
    for key, value in expected.items():
        assert unit.get(key) == value, key
    assert unit.get("ExecStart").endswith("run --config /etc/lk3/config.toml --log-format journal")
    assert unit.get("StateDirectory").split() == ["lk3", "lk3-keys", "lk3-backups"]
    assert unit.get("WantedBy", "Install") == "multi-user.target"


def test_the_keys_folder_is_neither_the_data_folder_nor_the_backups_folder() -> None:
    env = Unit.read("lk3.service").environment()
    data, keys, backups = (Path(env[k]) for k in ("LK3_DATA_DIR", "LK3_KEYS_DIR", "LK3_BACKUP_DIR"))
    for one, other in ((keys, data), (keys, backups), (backups, keys)):
        assert not one.is_relative_to(other) and not other.is_relative_to(one)
    state = Unit.read("lk3.service").get("StateDirectory").split()
    assert {p.relative_to("/var/lib").as_posix() for p in (data, keys, backups)} == set(state)


def test_the_nightly_backup_uses_the_same_folders_and_checks_each_copy() -> None:
    bot, backup = Unit.read("lk3.service"), Unit.read("lk3-backup.service")
    assert backup.environment() == bot.environment()
    assert backup.get("StateDirectory") == bot.get("StateDirectory")
    assert backup.get("User") == bot.get("User")
    assert backup.get("Type") == "oneshot"
    command = shlex.split(backup.get("ExecStart"))
    assert command[1:3] == ["db", "backup"] and "--dated" in command and "--check" in command
    timer = Unit.read("lk3-backup.timer")
    assert timer.get("OnCalendar", "Timer") == "*-*-* 02:30:00"
    assert timer.get("Persistent", "Timer") == "true"
