"""What the command line reads about a database without opening the store, on either backend.

`lk3 db status`, `lk3 db migrate --status`, `lk3 run`'s check before migrating and
`lk3 keys rotate`'s check of recorded master keys read a few facts straight from
the database: which migrations it has, a few counts, its size, the master keys it
was opened with. On SQLite that is the file (`mode=ro`); on PostgreSQL the server,
through one short read-only connection. Nothing here writes, nothing here decrypts,
and nothing here creates a database: "is there an LK3 database" is a question too.

These functions block: run them in a thread from async code.
"""

from __future__ import annotations

import contextlib
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from storage.engine.migrations import MIGRATIONS, MigrationStatus, migration_status
from storage.engine.pgtools import blocking, connect, split_password
from storage.errors import BackupError, MigrationError

__all__ = [
    "COUNTS",
    "DatabaseFacts",
    "database_facts",
    "has_database",
    "master_key_ids",
    "migrations_of",
    "written_with_key",
]

COUNTS: dict[str, str] = {
    "contacts": "SELECT count(*) FROM contacts",
    "open cases": "SELECT count(*) FROM cases WHERE status = 'open'",
    "messages not yet processed": "SELECT count(*) FROM inbox WHERE processed_at IS NULL",
    "replies waiting to be sent": "SELECT count(*) FROM outbox WHERE status = 'pending'",
    "erasures recorded": "SELECT count(*) FROM erasures",
}
"""What `lk3 db status` counts: the same SQL on both databases, no personal data."""


@dataclass(frozen=True, slots=True)
class DatabaseFacts:
    backend: str  # "sqlite" or "postgresql"
    where: str  # the file, or the URL without its password
    size_bytes: int
    server: str  # "SQLite 3.x" or the server's version
    migrations: MigrationStatus
    counts: dict[str, int]
    keytree_id: str | None


def _status(rows: list[tuple[str, int]]) -> MigrationStatus:
    applied = tuple(sorted((str(n), int(a)) for n, a in rows))
    names = {name for name, _ in applied}
    known = {m.name for m in MIGRATIONS}
    return MigrationStatus(
        applied=applied,
        pending=tuple(m.name for m in MIGRATIONS if m.name not in names),
        unknown=tuple(sorted(names - known)),
    )


def has_database(path: Path, url: str | None) -> bool:
    """Whether an LK3 database is there (a file, or a server database with migrations)."""
    if url is None:
        return path.exists()
    return blocking(_pg_has(url))


async def _pg_has(url: str) -> bool:
    conn = await connect(url)
    try:
        return bool(await conn.fetchval("SELECT to_regclass('migrations') IS NOT NULL"))
    finally:
        await conn.close()


def written_with_key(path: Path, url: str | None) -> bool:
    """Whether data was written under a master key: the SQLite file exists, or the server
    database records its key tree (the first `Store.open` with a key does). A database
    only migrated (`lk3 db migrate`, a test's template) holds nothing a new key loses."""
    if url is None:
        return path.exists()
    return blocking(_pg_written(url))


async def _pg_written(url: str) -> bool:
    conn = await connect(url)
    try:
        if not await conn.fetchval("SELECT to_regclass('meta') IS NOT NULL"):
            return False
        return bool(await conn.fetchval("SELECT count(*) FROM meta WHERE name = 'keytree_id'"))
    finally:
        await conn.close()


def migrations_of(path: Path, url: str | None) -> MigrationStatus:
    """Applied, pending and unknown migrations (MigrationError when they cannot be read)."""
    if url is None:
        return migration_status(path)
    try:
        return blocking(_pg_migrations(url))
    except BackupError as exc:
        raise MigrationError(str(exc)) from None


async def _pg_migrations(url: str) -> MigrationStatus:
    conn = await connect(url)
    try:
        if not await conn.fetchval("SELECT to_regclass('migrations') IS NOT NULL"):
            return _status([])
        rows = await conn.fetch("SELECT name, applied_at FROM migrations")
    finally:
        await conn.close()
    return _status([(str(r[0]), int(r[1])) for r in rows])


def master_key_ids(path: Path, url: str | None) -> set[str]:
    """The master key ids the database has been opened with."""
    if url is None:
        uri = f"file:{path}?mode=ro"
        with contextlib.closing(sqlite3.connect(uri, uri=True, timeout=5.0)) as conn:
            return {str(row[0]) for row in conn.execute("SELECT key_id FROM master_keys")}
    return blocking(_pg_keys(url))


async def _pg_keys(url: str) -> set[str]:
    conn = await connect(url)
    try:
        return {str(r[0]) for r in await conn.fetch("SELECT key_id FROM master_keys")}
    finally:
        await conn.close()


def database_facts(path: Path, url: str | None) -> DatabaseFacts:
    """What `lk3 db status` shows (MigrationError when the database cannot be read)."""
    if url is not None:
        try:
            return blocking(_pg_facts(url))
        except BackupError as exc:
            raise MigrationError(str(exc)) from None
    status = migration_status(path)
    size = sum(
        p.stat().st_size for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")) if p.exists()
    )
    uri = f"file:{path}?mode=ro"
    try:
        with contextlib.closing(sqlite3.connect(uri, uri=True, timeout=5.0)) as conn:
            counts = {k: int(conn.execute(sql).fetchone()[0]) for k, sql in COUNTS.items()}
            tree = conn.execute("SELECT value FROM meta WHERE name = 'keytree_id'").fetchone()
    except sqlite3.Error as exc:
        raise MigrationError(f"cannot read {path}: {exc}") from None
    return DatabaseFacts(
        "sqlite",
        str(path),
        size,
        f"SQLite {sqlite3.sqlite_version}",
        status,
        counts,
        None if tree is None else str(tree[0]),
    )


async def _pg_facts(url: str) -> DatabaseFacts:
    info = split_password(url)
    conn = await connect(url, info)
    try:
        async with conn.transaction(readonly=True, isolation="repeatable_read"):
            rows = await conn.fetch("SELECT name, applied_at FROM migrations")
            counts = {k: int(await conn.fetchval(sql)) for k, sql in COUNTS.items()}
            tree = await conn.fetchval("SELECT value FROM meta WHERE name = 'keytree_id'")
            size = int(await conn.fetchval("SELECT pg_database_size(current_database())"))
            server = str(await conn.fetchval("SHOW server_version"))
    except asyncpg.UndefinedTableError:
        raise MigrationError(f"{info.url} holds no LK3 database") from None
    finally:
        await conn.close()
    return DatabaseFacts(
        "postgresql",
        info.url,
        size,
        f"PostgreSQL {server}",
        _status([(str(r[0]), int(r[1])) for r in rows]),
        counts,
        None if tree is None else str(tree),
    )
