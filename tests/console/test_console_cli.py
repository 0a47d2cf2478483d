"""`lk3 staff passwd`: the first admin's way into the console."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from support.stores import storage_env

pytestmark = pytest.mark.e2e


def lk3(config: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args, "--config", str(config)],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, **storage_env(config)},
    )


@pytest.mark.parametrize(
    ("password", "rc", "says"),
    [
        ("sandi-yang-cukup-panjang", 0, "console password set for ana"),
        ("pendek", 1, "paling sedikit 10 karakter"),
    ],
)
def test_passwd_sets_a_password_from_standard_input(
    tmp_path: Path, password: str, rc: int, says: str
) -> None:
    config = tmp_path / "config.toml"
    config.write_text('data_dir = "data"\n', encoding="utf-8")
    assert lk3(config, "staff", "add", "ana", "--name", "Ana", "--role", "admin").returncode == 0
    done = lk3(config, "staff", "passwd", "ana", stdin=password + "\n")
    assert done.returncode == rc
    assert says in done.stdout + done.stderr
    assert password not in done.stdout + done.stderr


def test_passwd_for_an_unknown_user_fails_kindly(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('data_dir = "data"\n', encoding="utf-8")
    done = lk3(config, "staff", "passwd", "nobody", stdin="sandi-yang-cukup-panjang\n")
    assert done.returncode == 1 and "nama pengguna 'nobody'" in done.stderr
