"""The data folder: created private, kept private, and written by one lk3 process at a time.

It holds the database, the key tree, logs and (by default) the master key file;
nobody but the bot's own user should be able to list or read it.

Two bots on one folder would both process the inbox and both send the outbox,
so `lk3 run`, `lk3 demo`, `lk3 chat` and the commands that write hold the
folder's lock (`lk3.lock`, an `flock` taken without waiting) for as long as
they run. The kernel lets go of it when the process ends, however it ends: a
SIGKILL or a power cut never leaves a stale lock behind, and nothing needs
cleaning up before the next start. Commands that only read take no lock and run
beside the bot.

    DataDirError       the folder cannot be made, entered or locked (names the path)
     └── FolderInUseError  another lk3 process holds the folder (says which)
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import stat
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

from bot.errors import BotError

__all__ = ["LOCK_NAME", "DataDirError", "FolderInUseError", "FolderLock", "secure_data_dir"]

log = logging.getLogger(__name__)

LOCK_NAME = "lk3.lock"


class DataDirError(BotError):
    """The data folder cannot be used: the message names the path and what the system said."""


class FolderInUseError(DataDirError):
    """Another lk3 process writes to this data folder; the message says which one."""


def _refused(what: str, exc: OSError) -> DataDirError:
    where = exc.filename if exc.filename is not None else ""
    return DataDirError(
        f"cannot {what} {where} ({exc.strerror or type(exc).__name__}): the data folder and"
        " the files in it must belong to the user the bot runs as"
    )


def secure_data_dir(path: Path) -> None:
    """Creates the folder with mode 0700, or narrows an existing one to 0700."""
    try:
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            os.chmod(path, 0o700)
            log.warning("data folder %s was open to others (mode %o); now 0700", path, mode)
    except OSError as exc:
        raise _refused("use the data folder", exc) from None


class FolderLock:
    """The data folder's lock, held from `acquire` until `release` (or the process's end)."""

    def __init__(self, folder: Path, fd: int) -> None:
        self.folder = folder
        self._fd = fd

    @classmethod
    def acquire(cls, folder: Path, command: str) -> FolderLock:
        """Takes the lock at once, or raises FolderInUseError naming the process that holds it."""
        secure_data_dir(folder)
        path = folder / LOCK_NAME
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise _refused("open the lock file", exc) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder(fd)
            os.close(fd)
            raise FolderInUseError(
                f"the data folder {folder} is in use by another lk3 process ({holder});"
                " only one may write to it at a time: stop that one first"
            ) from None
        except OSError as exc:
            os.close(fd)
            raise _refused("lock", OSError(exc.errno, exc.strerror, str(path))) from None
        # Who holds it, for the message a second start prints (no personal data: a pid,
        # a command name, a time).
        since = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"pid {os.getpid()}: {command}, since {since}\n".encode(), 0)
        return cls(folder, fd)

    def release(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)  # closing lets go of the lock
            self._fd = -1

    def __enter__(self) -> FolderLock:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()


def _holder(fd: int) -> str:
    with contextlib.suppress(OSError):
        text = os.pread(fd, 200, 0).decode("utf-8", "replace").strip()
        if text:
            return text
    return "its pid not yet written"
