"""What the schema holds, read from the database's own catalog (SQLite's or PostgreSQL's).

The only statements that cannot be translated (`storage.engine.dialect`): each
database describes its tables in its own words. Erasure reads the foreign keys
(so tables added by later features are erased too); retention asks which
optional tables exist.
"""

from __future__ import annotations

from storage.engine.db import Readers, Tx

__all__ = ["foreign_keys", "primary_key", "table_names"]

_PG_TABLES = (
    "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename"
)
_SQLITE_TABLES = (
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
)
_PG_FOREIGN_KEYS = """SELECT p.relname, a.attname, pa.attname, c.confdeltype::text, ch.relname
    FROM pg_constraint c
    JOIN pg_class ch ON ch.oid = c.conrelid
    JOIN pg_class p ON p.oid = c.confrelid
    JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = ANY (c.conkey)
    JOIN pg_attribute pa ON pa.attrelid = c.confrelid
        AND pa.attnum = c.confkey[array_position(c.conkey, a.attnum)]
    WHERE c.contype = 'f' AND ch.relnamespace = current_schema()::regnamespace
    ORDER BY ch.relname, c.conname, a.attname"""
_PG_DELETE_RULES = {"a": "NO ACTION", "r": "RESTRICT", "c": "CASCADE", "n": "SET NULL"}


async def table_names(readers: Readers | Tx) -> list[str]:
    """Every table of ours, by name."""
    sql = _PG_TABLES if readers.dialect == "postgres" else _SQLITE_TABLES
    rows = (
        await readers.fetchall(sql)
        if isinstance(readers, Tx)
        else await readers.fetchall(sql, what="catalog.tables")
    )
    return [str(row[0]) for row in rows]


async def foreign_keys(tx: Tx) -> list[tuple[str, str, str, str, str]]:
    """(parent table, child column, parent column or '', ON DELETE rule, child table)."""
    if tx.dialect == "postgres":
        return [
            (str(p), str(col), str(to), _PG_DELETE_RULES.get(str(rule), "SET DEFAULT"), str(ch))
            for p, col, to, rule, ch in await tx.fetchall(_PG_FOREIGN_KEYS)
        ]
    out: list[tuple[str, str, str, str, str]] = []
    for table in await table_names(tx):
        for parent, column, to, on_delete in await tx.fetchall(
            'SELECT "table", "from", "to", on_delete FROM pragma_foreign_key_list(?)', (table,)
        ):
            out.append((str(parent), str(column), str(to or ""), str(on_delete), table))
    return out


async def primary_key(tx: Tx, table: str) -> str | None:
    """The single-column primary key of a table, if it has one."""
    if tx.dialect == "postgres":
        row = await tx.fetchone(
            "SELECT a.attname FROM pg_index i JOIN pg_attribute a"
            " ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)"
            " WHERE i.indrelid = (SELECT oid FROM pg_class WHERE relname = ?"
            " AND relnamespace = current_schema()::regnamespace) AND i.indisprimary",
            (table,),
        )
    else:
        row = await tx.fetchone("SELECT name FROM pragma_table_info(?) WHERE pk = 1", (table,))
    return None if row is None else str(row[0])
