"""Opening a store on PostgreSQL: connect, migrate, unlock the vault, start the writer.

The same order as on SQLite (`storage.store.Store.open`) without what is SQLite's
alone (the commit mark and its checks, WAL): the server keeps its own log.
Anything that fails on the way closes what was opened.
"""

from __future__ import annotations

from pathlib import Path

import asyncpg

from storage.crypto.keys import KeyRing
from storage.crypto.vault import Vault
from storage.engine.pgdb import (
    PgReaders,
    PgSetupConn,
    PgWriter,
    close_quietly,
    pg_connect,
    pg_pool,
)
from storage.engine.pgschema import apply_pg_migrations

__all__ = ["open_postgres"]


async def open_postgres(
    url: str, keyring: KeyRing, now: int, tree_path: Path, readers: int
) -> tuple[asyncpg.Connection, PgWriter, PgReaders, Vault]:
    """The writer's connection, the started writer, the readers and the vault."""
    conn = await pg_connect(url)
    try:
        await apply_pg_migrations(conn, now)
        vault = await Vault.unlock(PgSetupConn(conn), keyring, now, tree_path=tree_path)
        pool = await pg_pool(url, max(1, readers))
    except BaseException:
        await close_quietly(conn)
        raise
    writer = PgWriter(conn, vault)
    writer.start()
    return conn, writer, PgReaders(pool), vault
