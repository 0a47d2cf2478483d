"""The PostgreSQL engine: the same Tx, Writer and Readers, over asyncpg.

Repositories do not know which database they write to: they write SQLite's SQL
and this engine passes each statement through `storage.engine.dialect.pg_sql`.
The writer is the same single writer as on SQLite (one connection, queued jobs
grouped into one transaction, each job in its own SAVEPOINT, a caller told only
after COMMIT), so every promise the repositories rest on holds unchanged; the
readers are a pool. What is SQLite's alone stays there: the commit mark (a
server keeps its own write-ahead log and says so), WAL and busy timeouts, the
online backup API.

Numbers: PostgreSQL sums integers as `numeric`; the codec here returns an
integral numeric as `int` and any other as `float`, as SQLite's `sum` and `avg`
do, so no repository sees a `Decimal`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import asyncpg

from storage.crypto.vault import Vault
from storage.engine.db import Params, Readers, Row, Tx, Writer, _Pending
from storage.engine.dialect import pg_sql
from storage.engine.pgretry import ATTEMPTS, is_conflict, pause_before
from storage.errors import (
    ConstraintError,
    DatabaseError,
    StorageError,
    StorageFaultError,
    StoreClosedError,
)

__all__ = ["PgReaders", "PgSetupConn", "PgTx", "PgWriter", "pg_connect", "pg_pool", "pg_translate"]

log = logging.getLogger(__name__)


def _numeric(text: str) -> int | float:
    return float(text) if any(ch in text for ch in ".eEn") else int(text)


async def _init(conn: asyncpg.Connection) -> None:
    await conn.set_type_codec(
        "numeric", encoder=str, decoder=_numeric, schema="pg_catalog", format="text"
    )


async def pg_connect(url: str) -> asyncpg.Connection:
    """One connection with the codecs every connection here needs."""
    conn = await asyncpg.connect(url)
    try:
        await _init(conn)
    except BaseException:
        await conn.close()
        raise
    return conn


async def pg_pool(url: str, size: int) -> asyncpg.Pool:
    """The readers' pool (read only: a reader can never write by mistake)."""
    pool = await asyncpg.create_pool(
        url,
        min_size=size,
        max_size=size,
        init=_init,
        server_settings={"default_transaction_read_only": "on"},
    )
    assert pool is not None
    return pool


_FAULT_STATES = ("53", "58")  # insufficient resources (disk full), system error (I/O)


def pg_translate(exc: BaseException, name: str) -> BaseException:
    """Storage errors pass through; PostgreSQL's become ours, naming the job."""
    if isinstance(exc, StorageError):
        return exc
    error: Exception
    if isinstance(exc, asyncpg.IntegrityConstraintViolationError):
        error = ConstraintError(f"{name}: {exc}")
    elif isinstance(exc, asyncpg.PostgresError):
        state = str(getattr(exc, "sqlstate", "") or "")
        if state[:2] in _FAULT_STATES:
            error = StorageFaultError(f"{name}: {exc}")
        else:
            error = DatabaseError(f"{name}: {exc}")
    elif isinstance(exc, (asyncpg.InterfaceError, OSError)):
        # The server is gone or unreachable: the work is tried again, never answered as a bug.
        error = StorageFaultError(f"{name}: {type(exc).__name__}: {exc}")
    else:
        return exc
    error.__cause__ = exc
    return error


def _changed(status: str) -> int:
    """The rows a command changed, from its status (`UPDATE 3`, `INSERT 0 1`)."""
    last = status.rsplit(" ", 1)[-1]
    return int(last) if last.isdigit() else 0


class PgTx(Tx):
    """A write job's view of the open PostgreSQL transaction."""

    dialect = "postgres"

    def __init__(self, conn: asyncpg.Connection, vault: Vault) -> None:  # noqa: D107
        self._conn = conn
        self.vault = vault
        self._job_deks: dict[int, bytes] = {}
        self._batch_deks: dict[int, bytes] = {}

    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        return [tuple(row) for row in await self._conn.fetch(pg_sql(sql), *params)]

    async def execute(self, sql: str, params: Params = ()) -> int:
        return _changed(await self._conn.execute(pg_sql(sql), *params))


class PgWriter(Writer):
    """The single writer over one asyncpg connection (see `storage.engine.db.Writer`)."""

    def __init__(self, conn: asyncpg.Connection, vault: Vault, *, max_batch: int = 256) -> None:
        self._pg = conn
        self._setup(vault, max_batch, None)
        self.retries = 0  # batches run again after a deadlock or serialization failure

    async def _run_batch(self, batch: list[_Pending[Any]]) -> None:
        """Runs the batch; a deadlock or serialization failure runs it again, whole
        (`storage.engine.pgretry`), so its callers never see one."""
        attempt = 1
        while True:
            live = [p for p in batch if not p.future.done()]
            if not live:
                return
            conflict = await self._attempt(live, final=attempt >= ATTEMPTS)
            if conflict is None:
                return
            self.retries += 1
            log.info("write batch of %d job(s) met a %s: run again", len(live), conflict)
            await asyncio.sleep(pause_before(attempt))
            attempt += 1

    async def _attempt(self, batch: list[_Pending[Any]], *, final: bool) -> str | None:
        """One run of the batch; the conflict's name when it must run again, else None."""
        tx = PgTx(self._pg, self._vault)
        solo = len(batch) == 1
        outcomes: list[tuple[bool, Any]] = []
        try:
            await self._pg.execute("BEGIN")
            for pending in batch:
                outcomes.append(await self._run_pg_job(tx, pending, solo, retry=not final))
            if self._pg.is_in_transaction():
                await self._pg.execute("COMMIT")
        except Exception as exc:
            with contextlib.suppress(Exception):
                if self._pg.is_in_transaction():
                    await self._pg.execute("ROLLBACK")
            if not final and is_conflict(exc):
                return type(exc.__cause__ or exc).__name__
            seen = pg_translate(exc, "write batch")
            self._batch_failed(batch, exc, seen if isinstance(seen, Exception) else exc)
            return None
        self._batch_committed(tx, batch, outcomes)
        return None

    async def _run_pg_job(
        self, tx: PgTx, pending: _Pending[Any], solo: bool, *, retry: bool = False
    ) -> tuple[bool, Any]:
        if not solo:
            await self._pg.execute("SAVEPOINT job")
        try:
            result = await pending.job(tx)
        except Exception as exc:
            error = pg_translate(exc, pending.name)
            tx._job_done(committed=False)
            if retry and is_conflict(exc):
                raise _Conflict() from exc  # the whole batch runs again
            if isinstance(error, StorageFaultError) and not solo:
                raise error from exc  # the connection may be gone: the whole batch fails
            if solo:
                await self._pg.execute("ROLLBACK")
            else:
                await self._pg.execute("ROLLBACK TO SAVEPOINT job")
                await self._pg.execute("RELEASE SAVEPOINT job")
            return False, error
        if not solo:
            await self._pg.execute("RELEASE SAVEPOINT job")
        tx._job_done(committed=True)
        return True, result


class _Conflict(Exception):
    """A job met a deadlock or serialization failure: its batch is rolled back and run again."""


class PgReaders(Readers):
    """A pool of read-only connections; `quick` means nothing here (every read is a hop)."""

    dialect = "postgres"

    def __init__(self, pool: asyncpg.Pool) -> None:  # noqa: D107
        self._pool = pool
        self._closed = False

    async def fetchall(
        self, sql: str, params: Params = (), *, what: str = "read", quick: bool = False
    ) -> list[Row]:
        if self._closed:
            raise StoreClosedError(f"{what}: the store is closed")
        try:
            async with self._pool.acquire() as conn:
                rows = await conn.fetch(pg_sql(sql), *params)
        except Exception as exc:
            error = pg_translate(exc, what)
            if error is exc:
                raise
            raise error from exc
        return [tuple(row) for row in rows]

    async def close(self) -> None:
        self._closed = True
        await self._pool.close()


class PgSetupConn:
    """The writer's connection before the queue starts, as `Vault.unlock` uses one."""

    dialect = "postgres"

    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn

    async def execute(self, sql: str, parameters: Any = (), /) -> None:
        if sql.strip().upper() == "BEGIN IMMEDIATE":
            # The vault's first write takes the lock SQLite's IMMEDIATE would have.
            await self._conn.execute("BEGIN")
            await self._conn.execute("SELECT pg_advisory_xact_lock(7243001)")
            return
        await self._conn.execute(pg_sql(sql), *tuple(parameters))

    async def execute_fetchall(self, sql: str, parameters: Any = (), /) -> list[Row]:
        return [tuple(r) for r in await self._conn.fetch(pg_sql(sql), *tuple(parameters))]


async def close_quietly(conn: asyncpg.Connection) -> None:
    """Closes a connection, not waiting long for a server that is gone."""
    try:
        await asyncio.wait_for(conn.close(), timeout=5)
    except (TimeoutError, OSError, asyncpg.InterfaceError):
        conn.terminate()
