"""Every start-up failure an operator can cause is said in one line: `lk3: cannot start: ...`.

Issue 19: a read-only database made `lk3 run` exit with a 61-line traceback. Here
a data folder made by one good start is broken one way at a time (read-only
files and folders, a folder without permissions, a damaged database, a database
locked by another program, bad key files, a missing key tree) and `lk3 run` must
exit 2 with one line that names the file and what to do, and nothing a family
wrote.

File permissions do not bind root, and CI runs as root: there `lk3 run` runs as
root without the capabilities that override them (`setpriv`), so a file's mode
binds it as it binds the bot's own user (skipped, and saying so, where that
cannot be done).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from subprocess import CompletedProcess

import pytest
from bot_support import run_lk3
from support import free_port, keys_of

from storage.crypto.keys import generate_key_file

pytestmark = [
    pytest.mark.e2e,
    # Breaks the SQLite file and folder (modes, bytes, a lock) and runs `lk3` as root
    # without the capabilities that override modes, which cannot reach the server's socket.
    pytest.mark.sqlite_only("breaks the SQLite file and its folder's permissions"),
]

WORDS = "ibu saya dipukul ayah semalam"  # what the family wrote in the template folder


# Root without these capabilities is bound by file modes like any other user.
NOT_ABOVE_MODES = ("setpriv", "--bounding-set=-dac_override,-dac_read_search,-fowner")


@dataclass(frozen=True)
class Operator:
    """Who runs `lk3` here: this user, bound by file modes (root too, through setpriv)."""

    base: Path
    wrap: tuple[str, ...]

    def lk3(self, *args: str, stdin: str = "", cwd: Path | None = None) -> CompletedProcess[str]:
        return run_lk3(*args, cwd=cwd or self.base, stdin=stdin, wrap=self.wrap)


@pytest.fixture(scope="module")
def operator(tmp_path_factory: pytest.TempPathFactory) -> Operator:
    base = tmp_path_factory.mktemp("startup")
    op = Operator(base, NOT_ABOVE_MODES if os.geteuid() == 0 else ())
    probe = base / "read-only"
    probe.write_text("", encoding="utf-8")
    os.chmod(probe, 0o400)
    code = f"open({str(probe)!r}, 'a')"
    try:
        bound = subprocess.run([*op.wrap, sys.executable, "-c", code], capture_output=True)
    except OSError:
        pytest.skip("setpriv is not installed: file modes cannot bind root here")
    if bound.returncode == 0:
        pytest.skip("file modes do not bind the user the tests run as")
    return op


def _config(folder: Path) -> Path:
    path = folder / "config.toml"
    path.write_text(
        f'data_dir = "data"\n\n[web]\nhost = "127.0.0.1"\nport = {free_port()}\nwebchat = true\n',
        encoding="utf-8",
    )
    os.chmod(path, 0o644)
    return path


@pytest.fixture(scope="module")
def template(operator: Operator) -> Path:
    """A data folder as one good start leaves it, with a family's message in it."""
    folder = operator.base / "template"
    folder.mkdir()
    chat = operator.lk3("chat", "--data", str(folder / "data"), stdin=WORDS + "\n", cwd=folder)
    assert chat.returncode == 0, chat.stderr
    return folder / "data"


@pytest.fixture
def folder(operator: Operator, template: Path, tmp_path: Path) -> Iterator[Path]:
    """A copy of the template for one test (its modes given back at the end, to clean up)."""
    shutil.copytree(template, tmp_path / "data", symlinks=True)
    shutil.copytree(keys_of(template), keys_of(tmp_path / "data"), symlinks=True)
    _config(tmp_path)
    yield tmp_path
    for root, dirs, _files in os.walk(tmp_path):
        for name in dirs:
            os.chmod(os.path.join(root, name), 0o700)
    os.chmod(tmp_path / "data", 0o700)


def _read_only_database(data: Path) -> None:
    os.chmod(data / "lk3.db", 0o400)


def _read_only_folder(data: Path) -> None:
    os.chmod(data, 0o500)


def _folder_without_permissions(data: Path) -> None:
    os.chmod(data, 0o000)


def _read_only_logs(data: Path) -> None:
    os.chmod(data / "logs", 0o500)
    for log in (data / "logs").iterdir():
        os.chmod(log, 0o400)


def _damaged_database(data: Path) -> None:
    (data / "lk3.db").write_bytes(bytes(range(256)) * 256)


def _database_cut_short(data: Path) -> None:
    with open(data / "lk3.db", "r+b") as handle:
        handle.truncate(4096)


def _malformed_key_file(data: Path) -> None:
    (keys_of(data) / "master.key").write_text("not a key\n", encoding="utf-8")


def _key_file_open_to_others(data: Path) -> None:
    os.chmod(keys_of(data) / "master.key", 0o644)


def _unreadable_key_file(data: Path) -> None:
    os.chmod(keys_of(data) / "master.key", 0o000)


def _key_file_is_a_folder(data: Path) -> None:
    (keys_of(data) / "master.key").unlink()
    (keys_of(data) / "master.key").mkdir(mode=0o700)


def _another_key(data: Path) -> None:
    (keys_of(data) / "master.key").unlink()
    generate_key_file(keys_of(data) / "master.key")


def _missing_key_file(data: Path) -> None:
    (keys_of(data) / "master.key").unlink()


def _missing_key_tree(data: Path) -> None:
    (keys_of(data) / "lk3.keytree").unlink()


# How the folder is broken, and what the one line must say.
FAULTS: dict[str, tuple[Callable[[Path], None], str]] = {
    "read-only database": (_read_only_database, "lk3.db is read-only for this user"),
    "read-only data folder": (_read_only_folder, "data is read-only for this user"),
    "folder without permissions": (_folder_without_permissions, "Permission denied"),
    "read-only logs": (_read_only_logs, "cannot write the log"),
    "damaged database": (_damaged_database, "is not a readable SQLite database"),
    "database cut short": (_database_cut_short, "is not a readable SQLite database"),
    "malformed key file": (_malformed_key_file, "master.key line 1"),
    "key file open to others": (_key_file_open_to_others, "it must be 0600"),
    "unreadable key file": (_unreadable_key_file, "cannot be opened: Permission denied"),
    "key file is a folder": (_key_file_is_a_folder, "is not a regular file"),
    "another master key": (_another_key, "master key"),
    "missing key file": (_missing_key_file, "Restore the key file"),
    "missing key tree": (_missing_key_tree, "lk3.keytree"),
}


def _one_line(result: subprocess.CompletedProcess[str]) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert lines[0].startswith("lk3: cannot start: "), lines[0]
    assert WORDS not in result.stderr and "dipukul" not in result.stderr
    return lines[0]


@pytest.mark.parametrize("fault", list(FAULTS))
def test_a_start_up_failure_is_one_line_that_names_the_file(
    operator: Operator, folder: Path, fault: str
) -> None:
    breaks, expected = FAULTS[fault]
    breaks(folder / "data")
    result = operator.lk3("run", "--config", str(folder / "config.toml"))
    assert result.returncode == 2, result.stderr
    assert expected in _one_line(result)


def test_a_database_locked_by_another_program_is_one_line_after_the_wait(
    operator: Operator, folder: Path
) -> None:
    locked, release = threading.Event(), threading.Event()

    def hold() -> None:
        with closing(sqlite3.connect(folder / "data" / "lk3.db", timeout=10)) as other:
            other.execute("BEGIN EXCLUSIVE")
            locked.set()
            release.wait(60)
            other.execute("ROLLBACK")

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert locked.wait(10)
        result = operator.lk3("run", "--config", str(folder / "config.toml"))
    finally:
        release.set()
        holder.join(30)
    assert result.returncode == 2, result.stderr
    assert "is locked by another program (waited 5 s)" in _one_line(result)
