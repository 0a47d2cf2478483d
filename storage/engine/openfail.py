"""What a failure to open the database means, in one line an operator can act on.

SQLite says `attempt to write a readonly database` or `unable to open database
file`; the operator needs to know which file, and what to check. These messages
name the file and the fix, never a row's content (SQLite's own words carry none).
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from storage.engine.db import BUSY_TIMEOUT_MS
from storage.errors import DatabaseError, StorageError

__all__ = ["open_failure"]


def open_failure(exc: BaseException, database: Path) -> StorageError | None:
    """The storage error to raise for what went wrong opening `database`; None: not ours."""
    if isinstance(exc, StorageError):
        return exc
    if isinstance(exc, OSError):
        where = exc.filename if exc.filename is not None else database
        return DatabaseError(
            f"cannot use {where} ({exc.strerror or type(exc).__name__}): the database's folder"
            " and the files in it must belong to the user the bot runs as, and be writable"
        )
    if not isinstance(exc, sqlite3.Error):
        return None
    code = (getattr(exc, "sqlite_errorcode", 0) or 0) & 0xFF
    side = f"{database.name}-wal and {database.name}-shm"
    if code in (sqlite3.SQLITE_READONLY, sqlite3.SQLITE_CANTOPEN):
        which = _not_writable(database)
        if which is not None:
            message = (
                f"cannot write the database {database}: {which} is read-only for this user;"
                f" the file, {side} beside it and its folder must be writable by the user"
                " the bot runs as"
            )
        elif code == sqlite3.SQLITE_READONLY:
            message = (
                f"the database {database} is read-only (a read-only disk?): the file, {side}"
                " beside it and its folder must be writable by the user the bot runs as"
            )
        else:
            message = (
                f"cannot open the database {database}: its folder must exist and be writable"
                f" (SQLite keeps {side} there), and the file readable and writable, by the"
                " user the bot runs as"
            )
    elif code in (sqlite3.SQLITE_NOTADB, sqlite3.SQLITE_CORRUPT):
        message = (
            f"{database} is not a readable SQLite database (damaged, or another file in its"
            " place): restore the latest backup into a new data folder (lk3 db restore,"
            " README 'Backups')"
        )
    elif code in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
        message = (
            f"the database {database} is locked by another program (waited"
            f" {BUSY_TIMEOUT_MS / 1000:g} s): close whatever holds it open, then start again"
        )
    elif code == sqlite3.SQLITE_FULL:
        message = f"the disk holding {database} is full: free some space, then start again"
    else:
        message = f"the database {database} cannot be opened: {exc}"
    error = DatabaseError(message)
    error.__cause__ = exc
    return error


def _not_writable(database: Path) -> Path | None:
    """The first of the folder, the file and its side files that this user cannot write."""
    folder = database.parent if str(database.parent) else Path(".")
    side = [database.with_name(database.name + s) for s in ("-wal", "-shm")]
    for path in (folder, database, *side):
        if path.exists() and not os.access(path, os.W_OK):
            return path
    return None
