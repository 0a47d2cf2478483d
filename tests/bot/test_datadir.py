"""The data folder's lock: one holder at a time, named to whoever is refused, gone with it.

Between processes this is tested with real `lk3` processes (tests/bot/core/
test_faults_double_start.py); `flock` also refuses a second holder inside one
process, which is what these quick tests use.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bot.datadir import LOCK_NAME, DataDirError, FolderInUseError, FolderLock


def test_a_second_holder_is_refused_and_told_who_holds_the_folder(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with FolderLock.acquire(data, "lk3 run"):
        assert (data / LOCK_NAME).stat().st_mode & 0o777 == 0o600
        with pytest.raises(FolderInUseError) as refused:
            FolderLock.acquire(data, "lk3 staff add")
    said = str(refused.value)
    assert f"the data folder {data} is in use by another lk3 process" in said
    assert f"(pid {os.getpid()}: lk3 run, since " in said and "\n" not in said


def test_the_lock_is_free_again_once_released(tmp_path: Path) -> None:
    lock = FolderLock.acquire(tmp_path, "lk3 run")
    lock.release()
    lock.release()  # twice is harmless
    with FolderLock.acquire(tmp_path, "lk3 demo"):
        assert "lk3 demo" in (tmp_path / LOCK_NAME).read_text(encoding="utf-8")


def test_the_folder_is_made_private_before_it_is_locked(tmp_path: Path) -> None:
    data = tmp_path / "new" / "data"
    with FolderLock.acquire(data, "lk3 run"):
        assert data.stat().st_mode & 0o777 == 0o700


def test_a_folder_that_cannot_be_made_is_said_in_one_line(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("", encoding="utf-8")
    with pytest.raises(DataDirError) as refused:
        FolderLock.acquire(tmp_path / "file" / "data", "lk3 run")
    said = str(refused.value)
    assert "cannot use the data folder" in said and "\n" not in said
