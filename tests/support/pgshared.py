"""A PostgreSQL server for the tests of several processes on one database.

Those tests mean nothing on SQLite, so they run on every tier: on the server of
`--db postgres` when there is one, else on a throwaway server of their own
(`support.pgserver`), started on first use and stopped when the tests end.
Skipped, saying why, where PostgreSQL is not installed (`make postgresql`).
"""

from __future__ import annotations

import atexit
from pathlib import Path
from typing import Any

import pytest

from bot.config import KEY_FILE_NAME
from storage.crypto.keys import generate_key_file
from support import pgserver

__all__ = ["SharedDatabase", "older_database", "shared_database"]

_OWN: pgserver.PgServer | None = None


def _server() -> pgserver.PgServer:
    global _OWN
    if pgserver.ACTIVE is not None:
        return pgserver.ACTIVE
    if _OWN is None:
        reason = pgserver.skip_reason()
        if reason is not None:
            pytest.skip(reason)
        server = pgserver.PgServer()
        server.start()
        atexit.register(server.stop)
        _OWN = server
    return _OWN


class SharedDatabase:
    """One database on the server, its URL, and plain reads of it (no personal data)."""

    def __init__(self, server: pgserver.PgServer, path: Path) -> None:
        self._server = server
        self._path = path
        self.url = server.database_for(path)
        # The processes' shared keys folder, with the master key made first: the database
        # exists already (copied from the migrated template), so no process makes one.
        self.keys = path.parent / "keys"
        generate_key_file(self.keys / KEY_FILE_NAME)

    def rows(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        return self._server.fetch(self._path, sql, params)

    def one(self, sql: str, *params: Any) -> int:
        return int(self.rows(sql, *params)[0][0])

    def counts(self) -> dict[str, int]:
        """What the kill and sharing tests count: every message stored once, processed,
        answered; every reply sent."""
        return {
            "inbox": self.one("SELECT count(*) FROM inbox"),
            "unprocessed": self.one("SELECT count(*) FROM inbox WHERE processed_at IS NULL"),
            "unanswered": self.one(
                "SELECT count(*) FROM inbox i WHERE NOT EXISTS "
                "(SELECT 1 FROM outbox o WHERE o.inbox_id = i.id)"
            ),
            "outbox": self.one("SELECT count(*) FROM outbox"),
            "pending": self.one("SELECT count(*) FROM outbox WHERE status = 'pending'"),
            "failed": self.one("SELECT count(*) FROM outbox WHERE status = 'failed'"),
        }

    def out_of_order(self) -> list[int]:
        """The contacts whose messages were not processed in the order they were stored:
        by each turn's processed mark and its first reply's id (rows written in its commit)."""
        rows = self.rows(
            "SELECT i.contact_id, i.processed_at, min(o.id) FROM inbox i"
            " JOIN outbox o ON o.inbox_id = i.id GROUP BY i.id ORDER BY i.contact_id, i.id"
        )
        turns: dict[int, list[tuple[int, int]]] = {}
        for contact, processed, first_reply in rows:
            turns.setdefault(int(contact), []).append((int(processed), int(first_reply)))
        return [contact for contact, seen in turns.items() if seen != sorted(seen)]

    def processed_twice(self) -> int:
        """Messages whose replies came from more than one commit (a turn's rows share one
        creation time): a message processed twice."""
        return self.one(
            "SELECT count(*) FROM (SELECT inbox_id FROM outbox WHERE inbox_id IS NOT NULL"
            " GROUP BY inbox_id HAVING count(DISTINCT created_at) > 1) AS t"
        )

    def drop(self) -> None:
        if self._server is not pgserver.ACTIVE:  # `--db postgres` drops its own
            self._server.drop_all()


def shared_database(folder: Path) -> SharedDatabase:
    """A fresh migrated database standing for `folder / "lk3.db"`, and the keys folder
    `folder / "keys"` holding a master key for it."""
    return SharedDatabase(_server(), folder / "lk3.db")


def older_database(folder: Path, migrations: int) -> SharedDatabase:
    """A database for `folder / "lk3.db"` as an older version left it: only its first
    `migrations` migrations applied, no keys yet (the rest pending: an upgrade's start)."""
    import asyncpg

    from storage.engine.pgschema import PG_MIGRATIONS, apply_pg_migrations

    server = _server()
    url = server.empty_database_for(folder / "lk3.db")

    async def migrate() -> None:
        conn = await asyncpg.connect(url)
        try:
            await apply_pg_migrations(conn, 0, PG_MIGRATIONS[:migrations])
        finally:
            await conn.close()

    server.call(migrate())
    return SharedDatabase(server, folder / "lk3.db")
