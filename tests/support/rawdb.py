"""Reading and tampering with a test's database directly, bypassing storage, as an
attacker with a copy of it would: the SQLite file, or with `--db postgres` the database
standing for it on the session's server (`support.pgserver`), with the same SQL
(translated as the store translates it).
"""

from __future__ import annotations

import re
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

import asyncpg

from storage.engine.dialect import pg_ddl, pg_sql
from support import pgserver

__all__ = ["database_bytes", "database_exists", "raw_query", "raw_update", "read_only_query"]


def raw_query(path: Path, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Reads the file directly, as an attacker with a copy of it would.

    With `--db postgres`, the database standing for that file, with the same SQL
    (translated as the store translates it).
    """
    server = pgserver.ACTIVE
    if server is not None and server.knows(path):
        info = _TABLE_INFO.fullmatch(sql.strip())
        if info is not None:  # (position, name) of each column, as SQLite's pragma lists them
            return server.fetch(
                path,
                "SELECT ordinal_position - 1, column_name::text FROM information_schema.columns"
                " WHERE table_schema = current_schema() AND table_name = $1"
                " ORDER BY ordinal_position",
                (info.group(1),),
            )
        return server.fetch(path, pg_sql(sql), params)
    with closing(sqlite3.connect(path)) as conn:
        return [tuple(row) for row in conn.execute(sql, params).fetchall()]


_TABLE_INFO = re.compile(r"PRAGMA table_info\((\w+)\)", re.IGNORECASE)
_DROP_TRIGGER = re.compile(r"DROP TRIGGER (\w+)", re.IGNORECASE)


def _pg_statements(path: Path, sql: str) -> list[str]:
    """What `raw_update` runs on PostgreSQL: a trigger as the migrations would make it."""
    server = pgserver.ACTIVE
    assert server is not None
    if sql.lstrip().upper().startswith(("CREATE", "ALTER")):
        return list(pg_ddl(sql))
    dropped = _DROP_TRIGGER.fullmatch(sql.strip())
    if dropped is not None:
        name = dropped.group(1)
        table = server.fetch(
            path, "SELECT tgrelid::regclass::text FROM pg_trigger WHERE tgname = $1", (name,)
        )[0][0]
        return [f"DROP TRIGGER {name} ON {table}", f"DROP FUNCTION {name}_fn()"]
    return [pg_sql(sql)]


def raw_update(path: Path, sql: str, params: tuple[Any, ...] = ()) -> None:
    """Tampers with the file directly, bypassing storage.

    On PostgreSQL a refusal by a constraint or trigger is raised as SQLite's
    `IntegrityError`, so one test states the rule for both databases.
    """
    server = pgserver.ACTIVE
    if server is not None and server.knows(path):
        try:
            for statement in _pg_statements(path, sql):
                # SQLite's own connections check no foreign keys unless asked: nor does this.
                server.fetch(path, statement, params, foreign_keys=False)
        except asyncpg.IntegrityConstraintViolationError as exc:
            raise sqlite3.IntegrityError(str(exc)) from exc
        return
    with closing(sqlite3.connect(path)) as conn, conn:
        conn.execute(sql, params)


def read_only_query(path: Path, sql: str) -> list[tuple[Any, ...]]:
    """`raw_query` that never writes: a running `lk3` owns the file (opened read-only, with
    a wait for its lock), or on PostgreSQL the database standing for it."""
    server = pgserver.ACTIVE
    if server is not None and server.knows(path):
        return raw_query(path, sql)
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)) as conn:
        return [tuple(row) for row in conn.execute(sql).fetchall()]


def database_exists(path: Path) -> bool:
    """Whether the database of this file was made (on PostgreSQL: by this test)."""
    server = pgserver.ACTIVE
    if server is not None and server.knows(path):
        return True
    return path.exists()


def database_bytes(path: Path) -> bytes:
    """Everything the database holds, as an attacker with a copy reads it: the SQLite
    file's bytes, or every row of every table on PostgreSQL (a dump's content: text as
    UTF-8, blobs as they are), for a test that no person's words are readable."""
    server = pgserver.ACTIVE
    if server is None or not server.knows(path):
        return path.read_bytes()
    tables = server.fetch(
        path,
        "SELECT table_name::text FROM information_schema.tables"
        " WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'",
        (),
    )
    out = bytearray()
    for (table,) in tables:
        for row in server.fetch(path, f'SELECT * FROM "{table}"', ()):
            for value in row:
                if isinstance(value, bytes):
                    out += value
                elif value is not None:
                    out += str(value).encode("utf-8", "replace")
                out += b"\n"
    return bytes(out)
