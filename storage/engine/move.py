"""Moving an office's SQLite database into an empty PostgreSQL database, whole or not at all.

An office that started on SQLite (one machine, the data folder) becomes the first
office of a province on PostgreSQL without losing a row. What moves is the
database as it is: ciphertext stays ciphertext (nothing is decrypted to be
copied), the master keys and the key tree stay files in the keys folder, and the
database's record of its key tree (`meta.keytree_id`) moves with it, so the same
tree opens the target and every family erased before the move stays unreadable.

Everything happens in ONE PostgreSQL transaction: the target is migrated to this
code's schema, every table's rows are copied in foreign-key order (`COPY`, the
parents first), each identity column is set past the highest id the source ever
gave (SQLite's `sqlite_sequence` remembers ids of deleted rows, which must never
be handed out again: an erased contact's id names a destroyed leaf), and then it
is checked (`storage.engine.moveverify`). Any failure, a mismatch included, rolls
the whole transaction back: the target is as empty as it was, and the message
names the table. A move that stopped half-way (a lost connection, a kill) leaves
nothing to clean up and is simply run again.

What is SQLite's alone stays behind: the commit mark (a row of `sqlite_sequence`
and the `lk3.commits` file beside the database; a server keeps its own log) and
the file itself, which is only read (`mode=ro`): it stays the way back.

While copying, the target's INSERT triggers are off (in the transaction only):
they derive rows from an arriving message (the contact's last activity, the web
chat's lines, WhatsApp's window) and tell other processes of a change, and the
rows they would derive are already among the rows copied. The audit table's
refusal of UPDATE and DELETE fires on neither event and stays on.
"""

from __future__ import annotations

import hashlib
import sqlite3
import time
from collections.abc import Iterable, Sequence
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg

from storage.crypto.keys import KeyRing
from storage.crypto.keytree import KeyTree
from storage.crypto.vault import KEYTREE_META
from storage.engine.migrations import MIGRATIONS
from storage.engine.pgschema import apply_pg_migrations
from storage.engine.pgtools import Conninfo, connect, split_password
from storage.errors import StorageError

__all__ = [
    "MoveError",
    "MoveReport",
    "TableMoved",
    "coerced",
    "move_to_postgres",
    "quoted",
    "row_digest",
    "source_problem",
    "target_columns",
]

_CHUNK = 2000
_COMMIT_MARK = "lk3 commits"  # storage.engine.commits: a row of sqlite_sequence, not a table

_RELATIONS = """
    SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
      AND n.nspname NOT IN ('pg_catalog', 'information_schema')
      AND n.nspname NOT LIKE 'pg_toast%' AND n.nspname NOT LIKE 'pg_temp%'
      AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype = 'e')
    ORDER BY 1 LIMIT 5
"""
_TABLES = "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY 1"
_COLUMNS = """
    SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.attidentity <> ''
    FROM pg_attribute a
    WHERE a.attrelid = (SELECT oid FROM pg_class WHERE relname = $1
                        AND relnamespace = current_schema()::regnamespace)
      AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
    ORDER BY a.attnum
"""
_FOREIGN_KEYS = """
    SELECT ch.relname, p.relname FROM pg_constraint c
    JOIN pg_class ch ON ch.oid = c.conrelid JOIN pg_class p ON p.oid = c.confrelid
    WHERE c.contype = 'f' AND ch.relnamespace = current_schema()::regnamespace
"""
# Row triggers that fire on INSERT (tgtype bit 2), not those behind constraints.
_INSERT_TRIGGERS = """
    SELECT c.relname, t.tgname, t.tgenabled::text FROM pg_trigger t
    JOIN pg_class c ON c.oid = t.tgrelid
    WHERE NOT t.tgisinternal AND (t.tgtype & 4) <> 0
      AND c.relnamespace = current_schema()::regnamespace
    ORDER BY 1, 2
"""
_ENABLE = {"O": "ENABLE", "A": "ENABLE ALWAYS", "R": "ENABLE REPLICA"}


class MoveError(StorageError):
    """The move was refused or undone; `table` names the table when one is to blame."""

    def __init__(self, message: str, *, table: str = "") -> None:
        super().__init__(message)
        self.table = table


@dataclass(frozen=True, slots=True)
class TableMoved:
    name: str
    rows: int


@dataclass(frozen=True, slots=True)
class MoveReport:
    target: str  # the URL without its password
    tables: tuple[TableMoved, ...]
    contacts: int
    keytree_id: str
    sampled: int  # contacts whose address was decrypted on the target
    sampled_erased: int  # of those, erased: refused on the target as on the source
    messages_sampled: int  # inbox messages decrypted on the target
    audit_rows: int
    seconds: float

    @property
    def rows(self) -> int:
        return sum(t.rows for t in self.tables)


def quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _open_source(path: Path) -> sqlite3.Connection:
    """The SQLite file, read-only: nothing is ever written to the way back."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5.0, isolation_level=None)
    conn.execute("PRAGMA query_only = ON")
    return conn


def source_problem(path: Path, keytree: Path) -> str | None:
    """Why this SQLite database cannot be moved as it is (None: it can). Reads only."""
    if not path.is_file():
        return f"there is no SQLite database at {path}"
    try:
        with closing(_open_source(path)) as conn:
            names = {str(r[0]) for r in conn.execute("SELECT name FROM migrations")}
            tree = conn.execute("SELECT value FROM meta WHERE name = ?", (KEYTREE_META,)).fetchone()
    except sqlite3.Error as exc:
        return f"cannot read {path} as an LK3 database ({exc})"
    known = [m.name for m in MIGRATIONS]
    unknown = sorted(names - set(known))
    if unknown:
        return (
            f"{path} has migration {unknown[0]}, which this lk3 does not know: move it with"
            " the version of lk3 that wrote it"
        )
    pending = [name for name in known if name not in names]
    if pending:
        return (
            f"{path} is {len(pending)} migration(s) behind this lk3 ({pending[0]} first):"
            " run `lk3 db migrate` (it backs up first), then move"
        )
    if tree is None:
        return (
            f"{path} records no key tree yet: start `lk3 run` once on SQLite (or"
            " `lk3 db migrate`), stop it, then move"
        )
    try:
        found = KeyTree.load(keytree).tree_id
    except FileNotFoundError:
        return f"the key tree {keytree} is missing; the database was written with tree {tree[0]}"
    except (OSError, StorageError) as exc:
        return f"cannot read the key tree {keytree} ({exc})"
    if found != str(tree[0]):
        return f"the key tree {keytree} is {found}, but {path} was written with tree {tree[0]}"
    return None


async def move_to_postgres(
    source: Path, url: str, keyring: KeyRing, keytree: Path, now: int, *, sample: int = 200
) -> MoveReport:
    """Copies the SQLite database at `source` into the empty database at `url` (see module).

    Call with the data folder held (no bot writing the source) and after
    `source_problem` said nothing. Raises MoveError (the target left empty) or a
    StorageError subclass for a connection that failed (`storage.engine.pgtools`).
    """
    from storage.engine.moveverify import verify_target

    started = time.monotonic()
    info = split_password(url)
    conn = await connect(url, info)
    try:
        occupied = [str(r[0]) for r in await conn.fetch(_RELATIONS)]
        if occupied:
            raise MoveError(
                f"{info.url} is not empty (it holds {', '.join(occupied)}): a move goes only into"
                " a database with no tables, never over one. Create an empty database"
                " (createdb) and name it"
            )
        with closing(_open_source(source)) as src:
            src.execute("BEGIN")  # one snapshot of the source for the whole copy
            try:
                async with conn.transaction():
                    tables = await _copy(conn, src, now, info)
                    report = await verify_target(conn, src, keyring, keytree, now, sample)
            except asyncpg.PostgresError as exc:
                raise MoveError(
                    f"the move into {info.url} failed and was undone (the target is empty"
                    f" again): {info.scrub(str(exc))}"
                ) from None
            except (OSError, TimeoutError, asyncpg.InterfaceError) as exc:
                raise MoveError(
                    f"the connection to {info.url} was lost during the move"
                    f" ({type(exc).__name__}): the server undoes an unfinished transaction,"
                    " so the target is empty unless the loss came with the very last"
                    " COMMIT; `lk3 db status` with the URL says which. Run the move again:"
                    " it refuses a target that holds tables"
                ) from None
            finally:
                src.execute("ROLLBACK")
    finally:
        await conn.close()
    return MoveReport(
        target=info.url,
        tables=tables,
        contacts=report.contacts,
        keytree_id=report.keytree_id,
        sampled=report.sampled,
        sampled_erased=report.sampled_erased,
        messages_sampled=report.messages_sampled,
        audit_rows=report.audit_rows,
        seconds=time.monotonic() - started,
    )


async def _copy(
    conn: asyncpg.Connection, src: sqlite3.Connection, now: int, info: Conninfo
) -> tuple[TableMoved, ...]:
    await apply_pg_migrations(conn, now)  # inside the transaction: savepoints, undone with it
    target = [str(r[0]) for r in await conn.fetch(_TABLES)]
    source = [
        str(r[0])
        for r in src.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'"
            " AND name NOT LIKE 'sqlite_%' ORDER BY name"
        )
    ]
    for name in sorted(set(source) ^ set(target)):
        where = "the SQLite database" if name in source else f"{info.url} after migrating"
        raise MoveError(f"table {name} exists only in {where}: the schemas differ", table=name)
    order = _parents_first(target, [(str(c), str(p)) for c, p in await conn.fetch(_FOREIGN_KEYS)])
    triggers = [(str(t), str(n), str(e)) for t, n, e in await conn.fetch(_INSERT_TRIGGERS)]
    for table, name, _ in triggers:
        await conn.execute(f"ALTER TABLE {quoted(table)} DISABLE TRIGGER {quoted(name)}")
    # Rows the migrations seeded (the default office, referral destinations, the
    # migrations' own record) give way to the source's, which may have been edited.
    for table in reversed(order):
        if await conn.fetchval(f"SELECT EXISTS (SELECT 1 FROM {quoted(table)})"):
            await conn.execute(f"DELETE FROM {quoted(table)}")
    moved: list[TableMoved] = []
    for table in order:
        moved.append(TableMoved(table, await _copy_table(conn, src, table)))
    for table, name, enabled in triggers:
        await conn.execute(
            f"ALTER TABLE {quoted(table)} {_ENABLE.get(enabled, 'ENABLE')} TRIGGER {quoted(name)}"
        )
    await _set_identities(conn, src, order)
    return tuple(moved)


def _parents_first(tables: Sequence[str], edges: Iterable[tuple[str, str]]) -> list[str]:
    """The tables, each after every table it refers to (a self-reference aside)."""
    parents: dict[str, set[str]] = {t: set() for t in tables}
    for child, parent in edges:
        if child != parent and child in parents and parent in parents:
            parents[child].add(parent)
    order: list[str] = []
    placed: set[str] = set()
    while len(order) < len(tables):
        ready = sorted(t for t in tables if t not in placed and parents[t] <= placed)
        if not ready:
            stuck = sorted(t for t in tables if t not in placed)
            raise MoveError(f"the foreign keys of {', '.join(stuck)} form a cycle", table=stuck[0])
        order.extend(ready)
        placed.update(ready)
    return order


def _has_rowid(src: sqlite3.Connection, table: str) -> bool:
    try:
        src.execute(f"SELECT rowid FROM {quoted(table)} LIMIT 0")
    except sqlite3.OperationalError:
        return False  # WITHOUT ROWID: read in primary key order
    return True


async def target_columns(conn: asyncpg.Connection, table: str) -> list[tuple[str, str, bool]]:
    return [(str(n), str(t), bool(i)) for n, t, i in await conn.fetch(_COLUMNS, table)]


def _coerce(kind: str, value: Any, table: str, column: str) -> Any:
    """A SQLite value as the target column's type expects it (COPY is strict)."""
    if value is None:
        return None
    try:
        if kind in {"bigint", "integer", "smallint"}:
            if isinstance(value, float) and not value.is_integer():
                raise ValueError(value)
            return int(value)
        if kind == "bytea":
            if isinstance(value, str):
                raise ValueError("text in a blob column")
            return bytes(value)
        if kind == "text":
            if isinstance(value, bytes):
                raise ValueError("a blob in a text column")
            return str(value)
        if kind in {"double precision", "real"}:
            return float(value)
    except (TypeError, ValueError):
        raise MoveError(
            f"table {table}, column {column}: a value of type {type(value).__name__} does not"
            f" fit {kind}; nothing was moved",
            table=table,
        ) from None
    raise MoveError(f"table {table}, column {column}: type {kind} is not known", table=table)


def coerced(
    columns: Sequence[tuple[str, str, bool]], row: Sequence[Any], table: str
) -> tuple[Any, ...]:
    """A source row as the target's columns (name, type, identity) take it."""
    return tuple(
        _coerce(kind, value, table, name)
        for (name, kind, _), value in zip(columns, row, strict=True)
    )


def row_digest(rows: Iterable[Sequence[Any]]) -> tuple[int, int]:
    """(count, an order-free digest of the rows): the sum of each row's SHA-256."""
    total = count = 0
    for row in rows:
        text = repr(tuple(bytes(v) if isinstance(v, memoryview) else v for v in row))
        total += int.from_bytes(hashlib.sha256(text.encode()).digest(), "big")
        count += 1
    return count, total % (1 << 256)


async def _copy_table(conn: asyncpg.Connection, src: sqlite3.Connection, table: str) -> int:
    columns = await target_columns(conn, table)
    names = [c[0] for c in columns]
    have = {str(r[1]) for r in src.execute(f"SELECT * FROM pragma_table_xinfo('{table}')")}
    missing = [n for n in names if n not in have]
    if missing:
        raise MoveError(
            f"table {table}: column {missing[0]} is not in the SQLite database", table=table
        )
    order = " ORDER BY rowid" if _has_rowid(src, table) else ""
    cursor = src.execute(
        f"SELECT {', '.join(quoted(n) for n in names)} FROM {quoted(table)}{order}"
    )
    copied = 0
    while True:
        chunk = cursor.fetchmany(_CHUNK)
        if not chunk:
            break
        records = [coerced(columns, row, table) for row in chunk]
        try:
            await conn.copy_records_to_table(table, records=records, columns=names)
        except asyncpg.PostgresError as exc:
            raise MoveError(
                f"table {table}: the target refused a row ({type(exc).__name__}:"
                f" {exc.args[0] if exc.args else ''}); nothing was moved",
                table=table,
            ) from None
        copied += len(records)
    return copied


async def _set_identities(
    conn: asyncpg.Connection, src: sqlite3.Connection, tables: Sequence[str]
) -> None:
    """Each identity past the highest id in the table AND the highest SQLite ever gave."""
    try:
        sequence = src.execute("SELECT name, seq FROM sqlite_sequence").fetchall()
    except sqlite3.OperationalError:
        sequence = []  # no AUTOINCREMENT table has been written yet
    given = {str(name): int(seq) for name, seq in sequence if str(name) != _COMMIT_MARK}
    for table in tables:
        for name, _, identity in await target_columns(conn, table):
            if not identity:
                continue
            highest = max(
                int(
                    await conn.fetchval(
                        f"SELECT coalesce(max({quoted(name)}), 0) FROM {quoted(table)}"
                    )
                ),
                given.get(table, 0),
            )
            if highest > 0:
                await conn.execute(
                    "SELECT setval(pg_get_serial_sequence($1, $2), $3)",
                    quoted(table),
                    name,
                    highest,
                )
