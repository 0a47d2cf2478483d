"""The checks a move passes before it commits (`storage.engine.move`), inside its transaction.

1. Every table holds as many rows on the target as in the SQLite file, and the same
   rows: an order-free digest of each table's rows, read back from the target, equals
   the digest of the source's (ciphertext compared byte for byte, nothing decrypted).
2. The target opens with this office's keys: the vault unlocks on it (the master key's
   check value, the wrapped database keys, and the key tree's id recorded in `meta`,
   which must be the tree in the keys folder).
3. Through the real repositories, on the target: a sample of contacts' addresses and
   of inbox messages decrypts; every sampled contact the key tree says was erased is
   refused (crypto-shredding moved with the tree, not with the rows).
4. The audit chain verifies on the target (`AuditRepo.verify`, as `lk3 audit verify`).

A failed check raises MoveError naming the table; the caller's transaction then
rolls everything back. Only counts leave this module, never what a person wrote.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg

from storage.conversation.contacts import ContactRepo
from storage.conversation.inbox import InboxRepo
from storage.crypto.keys import KeyRing
from storage.crypto.vault import Vault
from storage.engine.db import Params, Row
from storage.engine.dialect import pg_sql
from storage.engine.move import MoveError, coerced, quoted, row_digest, target_columns
from storage.engine.pgdb import PgReaders, PgWriter
from storage.errors import ErasedError, StorageError
from storage.privacy.audit import AuditRepo

__all__ = ["Verified", "verify_target"]

_TABLES = "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY 1"


@dataclass(frozen=True, slots=True)
class Verified:
    contacts: int
    keytree_id: str
    sampled: int
    sampled_erased: int
    messages_sampled: int
    audit_rows: int


class _InTransaction(PgReaders):
    """The repositories' reads, on the move's own connection (so inside its transaction)."""

    def __init__(self, conn: asyncpg.Connection) -> None:  # noqa: D107
        self._conn = conn
        self._closed = False

    async def fetchall(
        self, sql: str, params: Params = (), *, what: str = "read", quick: bool = False
    ) -> list[Row]:
        return [tuple(row) for row in await self._conn.fetch(pg_sql(sql), *params)]

    async def close(self) -> None:
        self._closed = True


class _SetupInTransaction:
    """`Vault.unlock`'s own transaction, as a savepoint of the move's."""

    dialect = "postgres"

    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn

    async def execute(self, sql: str, parameters: Any = (), /) -> None:
        word = sql.strip().upper()
        if word == "BEGIN IMMEDIATE":
            await self._conn.execute("SAVEPOINT lk3_vault")
        elif word == "COMMIT":
            await self._conn.execute("RELEASE SAVEPOINT lk3_vault")
        elif word == "ROLLBACK":
            await self._conn.execute("ROLLBACK TO SAVEPOINT lk3_vault")
        else:
            await self._conn.execute(pg_sql(sql), *tuple(parameters))

    async def execute_fetchall(self, sql: str, parameters: Any = (), /) -> list[Row]:
        return [tuple(r) for r in await self._conn.fetch(pg_sql(sql), *tuple(parameters))]


def _spread(ids: list[int], count: int) -> list[int]:
    """Up to `count` ids spread evenly over the list, its first and last included."""
    if len(ids) <= count:
        return ids
    step = (len(ids) - 1) / max(1, count - 1)
    return sorted({ids[round(i * step)] for i in range(count)})


async def _same_rows(conn: asyncpg.Connection, src: sqlite3.Connection) -> None:
    for (table,) in await conn.fetch(_TABLES):
        columns = await target_columns(conn, str(table))
        names = ", ".join(quoted(c[0]) for c in columns)
        source = row_digest(
            coerced(columns, row, table)
            for row in src.execute(f"SELECT {names} FROM {quoted(table)}")
        )
        rows: list[Any] = []
        async for record in conn.cursor(f"SELECT {names} FROM {quoted(table)}", prefetch=2000):
            rows.append(tuple(record))
        target = row_digest(rows)
        if source[0] != target[0]:
            raise MoveError(
                f"table {table}: {source[0]} rows in the SQLite database, {target[0]} on the"
                " target; the move was undone",
                table=str(table),
            )
        if source[1] != target[1]:
            raise MoveError(
                f"table {table}: the rows on the target differ from the SQLite database's;"
                " the move was undone",
                table=str(table),
            )


async def verify_target(
    conn: asyncpg.Connection,
    src: sqlite3.Connection,
    keyring: KeyRing,
    keytree: Path,
    now: int,
    sample: int,
) -> Verified:
    """Runs the checks of the module docstring; raises MoveError at the first that fails."""
    await _same_rows(conn, src)
    try:
        vault = await Vault.unlock(_SetupInTransaction(conn), keyring, now, tree_path=keytree)
    except StorageError as exc:
        raise MoveError(f"the target does not open with this office's keys: {exc}") from None
    readers = _InTransaction(conn)
    writer = PgWriter(conn, vault)  # never started: the repositories below only read
    contacts = ContactRepo(readers, writer, vault)
    ids = [int(r[0]) for r in await conn.fetch("SELECT id FROM contacts ORDER BY id")]
    erased_ids = [i for i in ids if vault.tree.is_erased(i, refresh=False)]
    chosen = sorted(set(_spread(ids, sample)) | set(erased_ids[:sample]))
    erased_seen = 0
    for contact_id in chosen:
        erased = vault.tree.is_erased(contact_id, refresh=False)
        try:
            await contacts.address(contact_id)
        except ErasedError:
            if not erased:
                raise MoveError(
                    f"table contacts: contact {contact_id} reads as erased on the target",
                    table="contacts",
                ) from None
            erased_seen += 1
            continue
        except StorageError as exc:
            raise MoveError(
                f"table contacts: contact {contact_id} does not decrypt on the target"
                f" ({type(exc).__name__})",
                table="contacts",
            ) from None
        if erased:
            raise MoveError(
                f"table contacts: contact {contact_id} was erased but reads on the target",
                table="contacts",
            )
    inbox = InboxRepo(readers, vault)
    live = [
        int(r[0])
        for r in await conn.fetch(
            "SELECT id, contact_id FROM inbox WHERE text_enc IS NOT NULL"
            " AND transport_id_enc IS NOT NULL ORDER BY id"
        )
        if not vault.tree.is_erased(int(r[1]), refresh=False)
    ]
    messages = _spread(live, sample)
    for inbox_id in messages:
        try:
            await inbox.get(inbox_id)
        except StorageError as exc:
            raise MoveError(
                f"table inbox: message {inbox_id} does not decrypt on the target"
                f" ({type(exc).__name__})",
                table="inbox",
            ) from None
    audit = await AuditRepo(readers, writer, vault, lambda: datetime.now(UTC)).verify()
    if not audit.ok:
        first = audit.problems[0]
        raise MoveError(
            f"table audit: the chain does not verify on the target (row {first.seq}:"
            f" {first.what}); the move was undone",
            table="audit",
        )
    return Verified(
        contacts=len(ids),
        keytree_id=vault.tree.tree_id,
        sampled=len(chosen),
        sampled_erased=erased_seen,
        messages_sampled=len(messages),
        audit_rows=audit.rows,
    )
