"""The keys folder: the master key file and the key tree, kept apart from the database.

Crypto-shredding holds only while no copy of the key tree travels with copies of
the database (storage.crypto.keytree): a nightly copy of a folder holding both
would keep every erased contact readable. So the default layout puts the keys in a
folder BESIDE the data folder, never inside it (a naive copy of the data folder
then carries no key):

    <data_dir>/lk3.db (+ -wal, -shm)    the database: what backups copy
    <data_dir>/backups/                 dated copies of the database (`backup_dir`)
    <data_dir>-keys/master.key          the master key (or `key_file`, or LK3_MASTER_KEYS)
    <data_dir>-keys/lk3.keytree         the key tree (only its latest copy, never with backups)

and `keys_dir` moves the keys folder elsewhere (deploy/ puts it in its own state
folder). A data folder made before this layout kept `master.key` and
`lk3.keytree` beside the database: `settle_keys` moves them into the keys folder,
only while the caller holds the data folder (bot.datadir), so no other lk3
process is using them. Until then they are read where they are (bot.config).
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import shutil
from pathlib import Path

from bot.config import KEY_FILE_NAME, KEYTREE_NAME, Config
from bot.datadir import DataDirError

__all__ = ["ensure_keys_folder", "settle_keys"]

log = logging.getLogger(__name__)


def ensure_keys_folder(config: Config) -> Path:
    """Creates the keys folder with mode 0700 (or narrows it); DataDirError if it cannot."""
    folder = config.keys_folder
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        if folder.stat().st_mode & 0o077:
            os.chmod(folder, 0o700)
    except OSError as exc:
        raise DataDirError(
            f"cannot use the keys folder {folder} ({exc.strerror}): it must belong to the user"
            " the bot runs as"
        ) from None
    return folder


def settle_keys(config: Config) -> list[str]:
    """Moves the key file and the key tree of an older data folder into the keys folder.

    Call only while holding the data folder's lock. Returns one line per file moved
    (paths only). A file is never overwritten: when both places hold one, nothing moves
    and the keys folder's copy is the one read.
    """
    folder = ensure_keys_folder(config)
    pairs = [(config.data_dir / KEYTREE_NAME, folder / KEYTREE_NAME)]
    if config.key_file is None:
        pairs.append((config.data_dir / KEY_FILE_NAME, folder / KEY_FILE_NAME))
    moved: list[str] = []
    for old, new in pairs:
        if old == new or not old.is_file() or new.exists():
            continue
        try:
            _move(old, new)
        except OSError as exc:
            raise DataDirError(
                f"cannot move {old} into the keys folder {folder} ({exc.strerror}); nothing"
                " was lost: it is still at its old place"
            ) from None
        line = f"moved {old} to {new}: the keys are kept apart from the database"
        log.warning("%s", line)
        moved.append(line)
    with contextlib.suppress(OSError):
        (config.data_dir / (KEYTREE_NAME + ".lock")).unlink()
    return moved


def _move(old: Path, new: Path) -> None:
    """Renames `old` to `new`; across file systems, copies (fsynced, mode 0600) first."""
    try:
        os.rename(old, new)
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
        partial = new.with_name(f".{new.name}.partial")
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with open(old, "rb") as source, os.fdopen(fd, "wb") as target:
                fd = -1
                shutil.copyfileobj(source, target)
                target.flush()
                os.fsync(target.fileno())
        finally:
            if fd >= 0:
                os.close(fd)
        os.rename(partial, new)
        _fsync_dir(new.parent)
        old.unlink()
    _fsync_dir(new.parent)
    _fsync_dir(old.parent)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
