"""Connections: one writer fed by a queue of jobs, a small pool of readers.

Every aiosqlite await is a thread hop and every COMMIT a sync, so the writer
takes whatever jobs are waiting and runs them in ONE `BEGIN IMMEDIATE ... COMMIT`,
each job inside its own SAVEPOINT: a failing job rolls back alone and its caller
gets the exception, the rest commit together. A caller's await returns only
after COMMIT, so whatever it was told is durable.

Only the statements that can wait go to the connection's thread: BEGIN IMMEDIATE
(it may wait out another process's lock, up to the busy timeout) and COMMIT (the
sync to disk, and any checkpoint). Between them the writer holds the write lock,
so a job's own statements cannot wait for a lock: they run on the event loop's
thread, directly on the same SQLite connection (made with check_same_thread off
and never used by two threads at once, since the writer awaits each hop). A hop
costs far more than an indexed statement, and a turn makes many of them (the
figures are in docs/performance.md).

Each transaction also counts itself (`storage.engine.commits`): one statement
on the same connection before COMMIT, one small file write after it, so that a
database that lost committed work is noticed at the next start.

Data keys met inside a transaction are staged on the `Tx` and published to the
shared cache only after COMMIT; a rolled-back contact can never leave a key in
memory that a later contact with the same id would pick up.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import time
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

import aiosqlite

from storage.crypto.vault import Vault
from storage.engine.commits import CommitMark
from storage.errors import (
    ConstraintError,
    DatabaseError,
    NotFoundError,
    StorageError,
    StorageFaultError,
    StoreClosedError,
    is_storage_fault,
)

__all__ = ["Readers", "Tx", "WriteStats", "Writer", "connect"]

log = logging.getLogger(__name__)

T = TypeVar("T")
Row = tuple[Any, ...]
Params = tuple[Any, ...]

BUSY_TIMEOUT_MS = 5000
_BUSY = (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
# The disk or the file failed, not the statement: full, I/O error, read-only, cannot open.
_FAULTS = frozenset(
    {sqlite3.SQLITE_FULL, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_READONLY, sqlite3.SQLITE_CANTOPEN}
)
YIELD_AFTER_SECONDS = 0.005  # the writer lets other tasks run after this long on jobs


# The writer's SQLite connection under each aiosqlite writer connection (see Writer).
_DIRECT: weakref.WeakKeyDictionary[aiosqlite.Connection, sqlite3.Connection] = (
    weakref.WeakKeyDictionary()
)


async def connect(path: Path, *, writer: bool) -> aiosqlite.Connection:
    """Opens one connection with the pragmas every connection here needs.

    Autocommit mode (isolation_level=None): transactions are begun explicitly.
    The writer turns on secure_delete so deleted rows (a shredded contact's
    wrapped key) are overwritten, not left in free pages. Readers are query-only.
    The writer's SQLite connection may be used from the event loop's thread too
    (`Writer` runs a job's statements there, never while its own thread runs one).
    """
    made: list[sqlite3.Connection] = []

    def open_direct() -> sqlite3.Connection:
        direct = sqlite3.connect(path, isolation_level=None, check_same_thread=not writer)
        made.append(direct)
        return direct

    conn = await aiosqlite.Connection(open_direct, iter_chunk_size=64)
    if writer:
        _DIRECT[conn] = made[0]
    try:
        await conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        if writer:
            cursor = await conn.execute("PRAGMA journal_mode = WAL")
            mode = await cursor.fetchone()
            if mode is None or str(mode[0]).lower() != "wal":
                # Readers beside the writer, and jobs that never wait for a lock (Writer),
                # both rest on WAL: a file system that refuses it is refused here.
                raise DatabaseError(f"the database could not use WAL mode (got {mode!r})")
            await conn.execute("PRAGMA secure_delete = ON")
        # FULL: a COMMIT is on disk before it returns, so a message acknowledged to
        # a transport survives a power cut; the writer's batching pays for the syncs.
        await conn.execute(f"PRAGMA synchronous = {'FULL' if writer else 'NORMAL'}")
        await conn.execute("PRAGMA foreign_keys = ON")
        if not writer:
            await conn.execute("PRAGMA query_only = ON")
    except BaseException:
        await conn.close()
        raise
    return conn


class Tx:
    """What a write job sees: the open transaction and the vault.

    Its statements run at once on the writer's connection (the writer holds the
    write lock, so none of them waits); they stay awaitable so that a job reads
    like any other coroutine and the writer may change how it runs them.
    """

    dialect = "sqlite"  # what SQL the catalog reads need (`storage.engine.catalog`)

    def __init__(self, direct: sqlite3.Connection, vault: Vault) -> None:
        self._direct = direct
        self.vault = vault
        self._job_deks: dict[int, bytes] = {}
        self._batch_deks: dict[int, bytes] = {}

    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        return [tuple(row) for row in self._direct.execute(sql, params).fetchall()]

    async def fetchone(self, sql: str, params: Params = ()) -> Row | None:
        rows = await self.fetchall(sql, params)
        return rows[0] if rows else None

    async def execute(self, sql: str, params: Params = ()) -> int:
        """Runs one statement; returns the number of rows it changed."""
        return int(self._direct.execute(sql, params).rowcount)

    def stage_dek(self, contact_id: int, dek: bytes) -> None:
        """Remembers a data key until COMMIT (dropped if this job rolls back)."""
        self._job_deks[contact_id] = dek

    async def dek(self, contact_id: int) -> bytes:
        """A contact's data key: staged, cached, or unwrapped from contact_keys."""
        dek = self._known_dek(contact_id)
        if dek is not None:
            return dek
        row = await self.fetchone(
            "SELECT master_key_id, wrapped FROM contact_keys WHERE contact_id = ?",
            (contact_id,),
        )
        if row is None:
            raise NotFoundError(f"contact {contact_id} does not exist (no data key)")
        return self.dek_from_row(contact_id, str(row[0]), bytes(row[1]))

    def dek_from_row(self, contact_id: int, master_key_id: str, wrapped: bytes) -> bytes:
        """A contact's data key, given its contact_keys columns read in this transaction."""
        dek = self._known_dek(contact_id)
        if dek is None:
            dek = self.vault.unwrap_dek_uncached(contact_id, master_key_id, wrapped)
            self.stage_dek(contact_id, dek)
        return dek

    def _known_dek(self, contact_id: int) -> bytes | None:
        dek = self._job_deks.get(contact_id) or self._batch_deks.get(contact_id)
        return dek if dek is not None else self.vault.cached_dek(contact_id)

    def _job_done(self, committed: bool) -> None:
        if committed:
            self._batch_deks.update(self._job_deks)
        self._job_deks.clear()

    def _publish(self) -> None:
        for contact_id, dek in self._batch_deks.items():
            self.vault.remember_dek(contact_id, dek)
        self._batch_deks.clear()


Job = Callable[[Tx], Awaitable[T]]


@dataclass(slots=True)
class _Pending(Generic[T]):
    name: str
    job: Job[T]
    future: asyncio.Future[T]


@dataclass(frozen=True, slots=True)
class WriteStats:
    """How the writer has grouped work so far (benchmarks and tests read it)."""

    jobs: int
    failed_jobs: int
    batches: int
    largest_batch: int


def translate(exc: Exception, name: str) -> Exception:
    """Storage errors pass through; SQLite errors become ours, naming the job."""
    if isinstance(exc, StorageError):
        return exc
    if isinstance(exc, sqlite3.IntegrityError):
        error: Exception = ConstraintError(f"{name}: {exc}")
    elif isinstance(exc, sqlite3.Error) and (getattr(exc, "sqlite_errorcode", 0) & 0xFF) in _FAULTS:
        error = StorageFaultError(f"{name}: {exc}")
    elif isinstance(exc, sqlite3.Error):
        error = DatabaseError(f"{name}: {exc}")
    else:
        return exc
    error.__cause__ = exc
    return error


class Writer:
    """The single writer: runs queued jobs in grouped transactions."""

    def __init__(
        self,
        conn: aiosqlite.Connection,
        vault: Vault,
        *,
        max_batch: int = 256,
        mark: CommitMark | None = None,
    ) -> None:
        direct = _DIRECT.get(conn)
        if direct is None:
            raise ValueError("Writer needs a connection opened by connect(path, writer=True)")
        self._conn = conn
        self._direct = direct
        self._setup(vault, max_batch, mark)

    def _setup(self, vault: Vault, max_batch: int, mark: CommitMark | None) -> None:
        """What every writer keeps, whatever its database (`storage.engine.pgdb` too)."""
        self._vault = vault
        self._max_batch = max_batch
        self._mark = mark
        self._queue: asyncio.Queue[_Pending[Any] | None] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self._jobs = 0
        self._failed = 0
        self._batches = 0
        self._largest = 0
        # Told of each job that failed because the disk did (bot.core.writehealth).
        self.on_fault: Callable[[StorageFaultError], None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="storage-writer")

    @property
    def stats(self) -> WriteStats:
        return WriteStats(self._jobs, self._failed, self._batches, self._largest)

    async def run(self, name: str, job: Job[T]) -> T:
        """Queues a job and returns its result once its transaction has committed.

        If the caller is cancelled before the job starts, the job is skipped.
        """
        if self._closing or self._task is None or self._task.done():
            raise StoreClosedError(f"{name}: the store is closed")
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait(_Pending(name, job, future))
        return await future

    async def close(self) -> None:
        """Runs every job already queued, then stops."""
        if self._closing:
            return
        self._closing = True
        if self._task is not None and not self._task.done():
            self._queue.put_nowait(None)
            await self._task

    async def _loop(self) -> None:
        stop = False
        try:
            while not stop:
                first = await self._queue.get()
                if first is None:
                    break
                batch: list[_Pending[Any]] = [first]
                while len(batch) < self._max_batch and not self._queue.empty():
                    item = self._queue.get_nowait()
                    if item is None:
                        stop = True
                        break
                    batch.append(item)
                live = [p for p in batch if not p.future.done()]
                if live:
                    await self._run_batch(live)
        finally:
            # Whatever is still queued (the loop was cancelled) must not hang its caller.
            while not self._queue.empty():
                item = self._queue.get_nowait()
                if item is not None and not item.future.done():
                    item.future.set_exception(StoreClosedError(f"{item.name}: the store closed"))

    async def _run_batch(self, batch: list[_Pending[Any]]) -> None:
        tx = Tx(self._direct, self._vault)
        solo = len(batch) == 1
        outcomes: list[tuple[bool, Any]] = []
        seq: int | None = None
        try:
            await self._conn.execute("BEGIN IMMEDIATE")
            ran_since = time.monotonic()
            for pending in batch:
                outcomes.append(await self._run_job(tx, pending, solo))
                if time.monotonic() - ran_since > YIELD_AFTER_SECONDS:
                    # Jobs run on the loop's thread: a long batch lets the rest of the bot
                    # (a crisis turn, a send) have a turn now and then. Nothing else uses
                    # this connection meanwhile: the writer task alone does.
                    await asyncio.sleep(0)
                    ran_since = time.monotonic()
            if self._direct.in_transaction:
                if self._mark is not None:
                    seq = self._mark.next(self._direct)
                await self._conn.execute("COMMIT")
        except Exception as exc:
            # The transaction as a whole failed: nothing in it was committed.
            with contextlib.suppress(sqlite3.Error):
                if self._direct.in_transaction:
                    await self._conn.execute("ROLLBACK")
            self._batch_failed(batch, exc, translate(exc, "write batch"))
            return
        if seq is not None and self._mark is not None:
            self._mark.committed(seq)
        self._batch_committed(tx, batch, outcomes)

    def _batch_failed(self, batch: list[_Pending[Any]], exc: Exception, seen: Exception) -> None:
        """Every job of a transaction that failed as a whole gets the error (`seen`: translated)."""
        fault = is_storage_fault(seen)
        if not fault:
            log.warning("write batch of %d job(s) rolled back: %s", len(batch), type(exc).__name__)
        self._batches += 1
        self._jobs += len(batch)
        self._failed += len(batch)
        # SQLite's words for a disk fault are fixed ("database or disk is full").
        why = f"{type(exc).__name__}: {exc}" if fault else type(exc).__name__
        kind = StorageFaultError if fault else DatabaseError
        error: Exception | None = None
        for pending in batch:
            error = kind(
                f"{pending.name}: the transaction it shared failed and was rolled back ({why})"
            )
            error.__cause__ = exc
            _settle(pending.future, False, error)
        if isinstance(error, StorageFaultError):
            self._fault(error)

    def _batch_committed(
        self, tx: Tx, batch: list[_Pending[Any]], outcomes: list[tuple[bool, Any]]
    ) -> None:
        """After COMMIT: keys published, counters kept, each caller told its job's outcome."""
        tx._publish()
        self._batches += 1
        self._jobs += len(batch)
        self._largest = max(self._largest, len(batch))
        for pending, (ok, value) in zip(batch, outcomes, strict=True):
            if not ok:
                self._failed += 1
                if isinstance(value, StorageFaultError):
                    self._fault(value)
            _settle(pending.future, ok, value)

    def _fault(self, error: StorageFaultError) -> None:
        if self.on_fault is not None:
            try:
                self.on_fault(error)
            except Exception:
                log.exception("the storage fault listener failed")

    async def _run_job(self, tx: Tx, pending: _Pending[Any], solo: bool) -> tuple[bool, Any]:
        if not solo:
            self._direct.execute("SAVEPOINT job")
        try:
            result = await pending.job(tx)
        except Exception as exc:
            error = translate(exc, pending.name)
            tx._job_done(committed=False)
            if not self._direct.in_transaction:
                # SQLite ended the whole transaction (I/O error, disk full): with a
                # batch, the jobs before this one are lost too, so all must fail.
                if solo:
                    return False, error
                raise error from exc
            if solo:
                await self._conn.execute("ROLLBACK")
            else:
                self._direct.execute("ROLLBACK TO job")
                self._direct.execute("RELEASE job")
            return False, error
        if not solo:
            self._direct.execute("RELEASE job")
        tx._job_done(committed=True)
        return True, result


def _settle(future: asyncio.Future[Any], ok: bool, value: Any) -> None:
    if future.done():
        return
    if ok:
        future.set_result(value)
    else:
        future.set_exception(value)


class Readers:
    """A small pool of query-only connections; WAL lets them read while the writer writes.

    `quick=True` is for the few small, indexed reads every message makes (starting
    its turn, loading a reply to send, the sender's look for due rows): they run at
    once on the event loop's thread, on a connection of their own, instead of a hop
    to a reader's thread that costs more than the query. A WAL reader never waits
    for the writer; should SQLite still answer busy (a checkpoint restarting the
    log), the read goes to a reader's thread instead of waiting on the loop.
    """

    dialect = "sqlite"

    def __init__(
        self, conns: list[aiosqlite.Connection], quick: sqlite3.Connection | None = None
    ) -> None:
        self._all = list(conns)
        self._free: asyncio.Queue[aiosqlite.Connection] = asyncio.Queue()
        for conn in conns:
            self._free.put_nowait(conn)
        self._quick = quick
        self._closed = False

    @staticmethod
    def open_quick(path: Path) -> sqlite3.Connection:
        """The connection for quick reads, used from the event loop's thread only."""
        conn = sqlite3.connect(path, isolation_level=None)
        try:
            conn.execute("PRAGMA busy_timeout = 0")  # busy: go to a reader's thread instead
            conn.execute("PRAGMA query_only = ON")
        except BaseException:
            conn.close()
            raise
        return conn

    @contextlib.asynccontextmanager
    async def _borrow(self, what: str) -> AsyncIterator[aiosqlite.Connection]:
        if self._closed:
            raise StoreClosedError(f"{what}: the store is closed")
        conn = await self._free.get()
        try:
            yield conn
        finally:
            self._free.put_nowait(conn)

    async def fetchall(
        self, sql: str, params: Params = (), *, what: str = "read", quick: bool = False
    ) -> list[Row]:
        """Runs one query (one consistent snapshot) on a free reader."""
        if quick and self._quick is not None:
            if self._closed:
                raise StoreClosedError(f"{what}: the store is closed")
            try:
                return [tuple(row) for row in self._quick.execute(sql, params).fetchall()]
            except sqlite3.OperationalError as exc:
                if getattr(exc, "sqlite_errorcode", None) not in _BUSY:
                    raise translate(exc, what) from exc
            except sqlite3.Error as exc:
                raise translate(exc, what) from exc
        async with self._borrow(what) as conn:
            try:
                rows = await conn.execute_fetchall(sql, params)
            except sqlite3.Error as exc:
                raise translate(exc, what) from exc
        return [tuple(row) for row in rows]

    async def fetchone(
        self, sql: str, params: Params = (), *, what: str = "read", quick: bool = False
    ) -> Row | None:
        rows = await self.fetchall(sql, params, what=what, quick=quick)
        return rows[0] if rows else None

    async def close(self) -> None:
        self._closed = True
        if self._quick is not None:
            self._quick.close()
        for conn in self._all:
            await conn.close()
