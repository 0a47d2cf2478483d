"""The commit mark: how many write transactions committed, kept in the database and beside it.

Why: after a crash, the last commits may live only in SQLite's write-ahead log
(`lk3.db-wal`). Delete that file (and `-shm`) and SQLite opens the database as
of its last checkpoint without a word: messages acknowledged to Telegram or
Twilio, and what was done with them, are gone. The database cannot tell what it
never saw, so the count is kept twice:

- a row of SQLite's own `sqlite_sequence` table, named `lk3 commits` (no table
  has that name), goes up by one in every write transaction: one statement the
  writer runs on the connection it already holds, just before COMMIT (no extra
  thread hop: see `storage.engine.db.Writer`). That table's page is the one an
  insert into any AUTOINCREMENT table (the inbox, the outbox, contacts...)
  rewrites anyway, so the transactions of the message path write no extra page;
  a row in a table of our own would add one to every commit;
- after each COMMIT the same number is written over the mark file beside the
  database (`lk3.db` -> `lk3.commits`): one `pwrite` of a fixed-width line, no
  sync. The page cache keeps it through a killed process; a sync at most once a
  second, off the event loop, keeps it through a power cut too.

At open, a mark ahead of the database means committed work is missing, and the
store refuses to open (`MissingCommitsError`). Written only after its COMMIT,
the mark may lag the database (a kill between the two) but never leads it: a
clean stop, a kill with the log intact, a first start (no database, no mark) or
a folder from before the mark existed (no mark yet) never raise the alarm. The
line also says whether the last process to write closed the database
(`stopped`) or not (`running`), which the message uses to say what happened.

A restored backup is told apart by its header: `lk3 db backup` writes its copy
in rollback-journal mode (the header's bytes 18-19), which a database the bot
has opened never is. Opening such a file means a restore, so the mark starts
again from it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

import aiosqlite

from storage.errors import MissingCommitsError

__all__ = [
    "CommitMark",
    "MarkLine",
    "check_database_against_mark",
    "lost_commits",
    "mark_path",
    "read_mark",
    "recorded_mark",
]

log = logging.getLogger(__name__)

SYNC_SECONDS = 1.0
"""The mark is synced to disk at most this often while commits come (off the event loop)."""
RUNNING = "running"
STOPPED = "stopped"
_LINE = re.compile(rb"lk3-commits (\d{20}) (running|stopped)\n")
_ROW = "lk3 commits"
_NEXT = f"UPDATE sqlite_sequence SET seq = seq + 1 WHERE name = '{_ROW}' RETURNING seq"
_WAL_FORMAT = 2  # bytes 18 and 19 of an SQLite header: 1 rollback journal, 2 WAL


def mark_path(database: Path) -> Path:
    """Where the mark of a database lives: beside it, `lk3.db` -> `lk3.commits`.

    Not `lk3.db-something`: whoever deletes the side files SQLite keeps must not
    take the mark with them.
    """
    return database.with_suffix(".commits")


def _line(seq: int, state: str) -> bytes:
    return f"lk3-commits {seq:020d} {state}\n".encode("ascii")


@dataclass(frozen=True, slots=True)
class MarkLine:
    """What the mark file says: the last commit recorded, and how the writer left."""

    seq: int
    state: str


def read_mark(path: Path) -> MarkLine | None:
    """The mark, or None when there is none (or it cannot be read as one: never an alarm)."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    found = _LINE.fullmatch(raw)
    if found is None:
        log.warning("commit mark %s is not in its format; it starts again", path)
        return None
    return MarkLine(int(found.group(1)), found.group(2).decode("ascii"))


def _written_by_backup(database: Path) -> bool:
    """Whether the file is in rollback-journal mode, as `lk3 db backup` leaves its copies."""
    with contextlib.suppress(OSError), open(database, "rb") as handle:
        header = handle.read(20)
        if len(header) == 20 and header[:16] == b"SQLite format 3\x00":
            return header[18] != _WAL_FORMAT or header[19] != _WAL_FORMAT
    return False


async def _held(conn: aiosqlite.Connection) -> int:
    """The commit count the database holds (0 for a new database)."""
    cursor = await conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_sequence'"
    )
    if await cursor.fetchone() is None:
        return 0
    cursor = await conn.execute("SELECT seq FROM sqlite_sequence WHERE name = ?", (_ROW,))
    row = await cursor.fetchone()
    return 0 if row is None else int(row[0])


def _restore_hint(database: Path) -> str:
    wal = database.name + "-wal"
    return (
        f"If a copy of {wal} (with {database.name}-shm) still exists, put it back beside"
        f" {database.name}; otherwise restore the latest backup into a new data folder"
        " (lk3 db restore, README 'Backups'), or, to go on with what the database still"
        f" holds and lose the rest, remove {mark_path(database)}"
    )


def recorded_mark(database: Path) -> MarkLine | None:
    """Before the database is opened: the mark to check it against (None: nothing to check).

    Raises MissingCommitsError when the database file is gone but its mark is not.
    Read before connecting, since connecting puts the file in WAL mode.
    """
    mark = read_mark(mark_path(database))
    if mark is None or mark.seq == 0:
        return None
    if not database.exists():
        raise MissingCommitsError(
            f"the database {database} is gone, though {mark_path(database)} records"
            f" {mark.seq} commits to it. {_restore_hint(database)}"
        )
    if _written_by_backup(database):
        log.info("database %s is a restored backup; its commit mark starts again", database)
        return None
    return mark


def lost_commits(database: Path) -> bool:
    """Without opening the store (nothing written): whether the database holds fewer
    commits than its mark records, which opening it would refuse.

    For what runs before the store is opened (the backup taken before migrations): a
    database that lost its log must be refused for that, not for something else.
    """
    try:
        mark = recorded_mark(database)
    except MissingCommitsError:
        return True
    if mark is None:
        return False
    try:
        with contextlib.closing(
            sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=5.0)
        ) as conn:
            table = conn.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_sequence'"
            ).fetchone()
            row = (
                conn.execute("SELECT seq FROM sqlite_sequence WHERE name = ?", (_ROW,)).fetchone()
                if table
                else None
            )
    except sqlite3.Error:
        return False  # opening the store says what is wrong, in its own words
    return mark.seq > (0 if row is None else int(row[0]))


async def check_database_against_mark(
    database: Path, conn: aiosqlite.Connection, mark: MarkLine | None
) -> None:
    """After connecting, before anything is written: MissingCommitsError if work is missing."""
    if mark is None:
        return
    held = await _held(conn)
    if mark.seq <= held:
        return
    how = (
        f"its write-ahead log {database.name}-wal was removed after an unclean stop"
        if mark.state == RUNNING
        else "the file was replaced by an older copy"
    )
    raise MissingCommitsError(
        f"the database {database} has lost committed work: {mark_path(database).name} records"
        f" commit {mark.seq}, the database holds only {held}, probably because {how};"
        f" what was accepted since is not in it. {_restore_hint(database)}"
    )


class CommitMark:
    """The mark file of an open store: counts each commit, synced now and then, closed clean."""

    def __init__(self, path: Path, fd: int, seq: int) -> None:
        self.path = path
        self._fd = fd
        self._seq = seq
        self._synced_at = time.monotonic()
        self._sync: asyncio.Future[None] | None = None
        self._failed = False

    @classmethod
    async def open(cls, database: Path, conn: aiosqlite.Connection) -> CommitMark:
        """Counts one commit (which also proves the database writable) and writes the mark."""
        await conn.execute("BEGIN IMMEDIATE")
        try:
            await conn.execute(
                "INSERT INTO sqlite_sequence (name, seq) SELECT ?, 0 WHERE NOT EXISTS"
                " (SELECT 1 FROM sqlite_sequence WHERE name = ?)",
                (_ROW, _ROW),
            )
            cursor = await conn.execute(_NEXT)
            row = await cursor.fetchone()
            await cursor.close()
            await conn.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                await conn.execute("ROLLBACK")
            raise
        seq = 0 if row is None else int(row[0])
        path = mark_path(database)
        new = not path.exists()
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, _line(seq, RUNNING), 0)
            os.fsync(fd)
            if new:
                _sync_folder(path.parent)
        except BaseException:
            os.close(fd)
            raise
        return cls(path, fd, seq)

    def next(self, direct: sqlite3.Connection) -> int | None:
        """Inside the writer's open transaction, just before COMMIT: the number it will have."""
        rows = direct.execute(_NEXT).fetchall()
        return int(rows[0][0]) if rows else None

    def committed(self, seq: int) -> None:
        """After COMMIT: the mark says so (a failed write is logged once, never raised)."""
        self._seq = max(self._seq, seq)
        try:
            os.pwrite(self._fd, _line(self._seq, RUNNING), 0)
        except OSError as exc:
            self._warn(exc)
            return
        if self._sync is None and time.monotonic() - self._synced_at >= SYNC_SECONDS:
            self._synced_at = time.monotonic()
            self._sync = asyncio.get_running_loop().run_in_executor(None, os.fdatasync, self._fd)
            self._sync.add_done_callback(self._synced)

    def _synced(self, future: asyncio.Future[None]) -> None:
        self._sync = None
        if not future.cancelled() and (exc := future.exception()) is not None:
            if isinstance(exc, OSError):
                self._warn(exc)

    def _warn(self, exc: OSError) -> None:
        if not self._failed:
            self._failed = True
            log.warning("commit mark %s cannot be written: %s", self.path, exc.strerror)

    async def close(self) -> None:
        """After the database is closed: the mark says the writer stopped cleanly, on disk."""
        if self._fd < 0:
            return
        try:
            if self._sync is not None:
                with contextlib.suppress(OSError):
                    await self._sync
            os.pwrite(self._fd, _line(self._seq, STOPPED), 0)
            os.fsync(self._fd)
        except OSError as exc:
            self._warn(exc)
        finally:
            os.close(self._fd)
            self._fd = -1


def _sync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
