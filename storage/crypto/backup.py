"""Backups: a consistent copy of the database taken while the bot runs, and its restore.

`backup_database` opens its own query-only connection and copies the whole
database in one step of SQLite's online backup API, so the copy is one
consistent snapshot even while the bot's writer commits (WAL lets readers and
the writer work side by side). It needs no key: personal data is ciphertext in
the database and stays ciphertext in the copy. The copy holds neither the master
keys nor the key tree (`storage.crypto.keytree`), which are kept apart; that is what
lets an erasure made after a backup reach the backup too.

`restore_database` copies a backup into a data folder that holds no database
yet (refusing any other), after checking that the file is an intact LK3
database. Opening the restored database with the keys and the current key tree
then shows which contacts were erased since the backup: their keys cannot be
unwrapped any more, and `ErasureRepo.reapply` removes their rows.

These functions block (file I/O and SQLite calls): run them in a thread.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from storage.errors import BackupError

__all__ = ["BackupInfo", "backup_database", "database_files", "restore_database"]

_TIMEOUT_SECONDS = 5.0
_SIDE_FILES = ("-wal", "-shm", "-journal")


@dataclass(frozen=True, slots=True)
class BackupInfo:
    path: Path
    bytes: int
    migrations: tuple[str, ...]
    contacts: int


def database_files(db_path: Path) -> list[Path]:
    """The database file and the side files SQLite keeps next to it, those that exist."""
    candidates = [db_path, *(db_path.with_name(db_path.name + s) for s in _SIDE_FILES)]
    return [p for p in candidates if p.exists()]


def _describe(conn: sqlite3.Connection, where: str) -> tuple[tuple[str, ...], int]:
    """The migrations a database has, and its contact count; BackupError if it is not ours."""
    try:
        check = conn.execute("PRAGMA quick_check").fetchone()
        if check is None or check[0] != "ok":
            raise BackupError(f"{where} is damaged (SQLite quick_check failed)")
        names = tuple(
            str(row[0]) for row in conn.execute("SELECT name FROM migrations ORDER BY name")
        )
        contacts = conn.execute("SELECT count(*) FROM contacts").fetchone()
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{where} is not an LK3 database ({exc})") from None
    if "0001_initial" not in names:
        raise BackupError(f"{where} is not an LK3 database (no initial migration)")
    return names, 0 if contacts is None else int(contacts[0])


def _copy(source: sqlite3.Connection, dest: Path) -> None:
    """Copies `source` into a new private file at `dest` (complete, or nothing at all)."""
    tmp = dest.with_name(f".{dest.name}.partial")
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.close(fd)
    try:
        target = sqlite3.connect(tmp)
        try:
            source.backup(target)  # one step: a single consistent snapshot
            target.execute("PRAGMA journal_mode = DELETE")
            target.commit()
        finally:
            target.close()
        os.chmod(tmp, 0o600)
        with open(tmp, "rb") as handle:
            os.fsync(handle.fileno())
        if dest.exists():
            raise BackupError(f"{dest} appeared while the backup was written; nothing replaced")
        os.replace(tmp, dest)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise
    fd = os.open(dest.parent, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def backup_database(db_path: Path, dest: Path) -> BackupInfo:
    """Writes a consistent copy of the live database to `dest` (mode 0600); never overwrites."""
    if not db_path.exists():
        raise BackupError(f"there is no database at {db_path} to back up")
    if dest.exists():
        raise BackupError(f"{dest} already exists; a backup never overwrites a file")
    if not dest.parent.is_dir():
        raise BackupError(f"the folder {dest.parent} does not exist")
    try:
        source = sqlite3.connect(db_path, timeout=_TIMEOUT_SECONDS)
    except sqlite3.Error as exc:
        raise BackupError(f"cannot open {db_path}: {exc}") from None
    try:
        source.execute("PRAGMA query_only = ON")
        migrations, contacts = _describe(source, str(db_path))
        try:
            _copy(source, dest)
        except sqlite3.Error as exc:
            raise BackupError(f"backup of {db_path} failed: {exc}") from None
    finally:
        source.close()
    return BackupInfo(dest, dest.stat().st_size, migrations, contacts)


def restore_database(backup: Path, db_path: Path, keep: frozenset[str] = frozenset()) -> BackupInfo:
    """Copies a backup to `db_path` in a folder holding nothing but the files named in `keep`.

    `keep` names the files that may already be there: the key file and the key
    tree, which a restore needs and no backup holds.
    """
    if not backup.is_file():
        raise BackupError(f"backup file {backup} does not exist")
    folder = db_path.parent
    if folder.exists():
        present = sorted(p.name for p in folder.iterdir() if p.name not in keep)
        if present:
            raise BackupError(
                f"the data folder {folder} is not empty ({', '.join(present[:5])}); restore"
                " only into a new folder, with at most the key file and the key tree in it"
            )
    else:
        folder.mkdir(parents=True, mode=0o700)
    try:
        source = sqlite3.connect(f"file:{backup}?mode=ro", uri=True, timeout=_TIMEOUT_SECONDS)
    except sqlite3.Error as exc:
        raise BackupError(f"cannot open backup {backup}: {exc}") from None
    try:
        _describe(source, f"backup {backup}")
        try:
            _copy(source, db_path)
        except sqlite3.Error as exc:
            raise BackupError(f"restore of {backup} failed: {exc}") from None
    finally:
        source.close()
    check = sqlite3.connect(db_path)
    try:
        migrations, contacts = _describe(check, str(db_path))
    finally:
        check.close()
    return BackupInfo(db_path, db_path.stat().st_size, migrations, contacts)
