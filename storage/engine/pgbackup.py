"""Backups on PostgreSQL: `pg_dump`'s custom format out, `pg_restore` into an empty database.

The promises are those of the SQLite backup (`storage.crypto.backup`), kept the
PostgreSQL way:

- One consistent snapshot while the bot runs. A read-only REPEATABLE READ
  transaction exports its snapshot, reads the counts the message reports, and
  `pg_dump --snapshot` dumps exactly what that transaction sees.
- Complete or nothing, private, never overwriting: the dump goes to a hidden
  `.NAME.partial` created 0600 beside the target, is fsynced and renamed into place
  (refused if the name appeared meanwhile), and the folder is fsynced.
- Ciphertext only, and never the keys: the master keys and the key tree are files
  outside the database, so an erasure made after a dump reaches the dump too.
- A restore goes into a database holding no table (as the SQLite restore goes into
  a folder holding no database): an existing one is never overwritten. It runs in
  one transaction (`--single-transaction --exit-on-error`): a failure leaves the
  target as empty as it was. A dump written under another key tree is refused
  BEFORE anything is restored: its `meta` table, read from the archive, names the
  tree it needs.

The password in the URL never reaches a command line, a message or an exception
(`storage.engine.pgtools`). These functions block: each runs its own event loop
on a thread of its own, so they can be called from sync code and from a thread of
async code alike.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from storage.crypto.keytree import KeyTree
from storage.crypto.vault import KEYTREE_META
from storage.engine.pgtools import Conninfo, blocking, connect, run_tool, split_password
from storage.errors import BackupError

__all__ = [
    "DumpInfo",
    "archive_text",
    "clear_restored",
    "dump_database",
    "dump_tables",
    "restore_dump",
]

_USER_RELATIONS = """
    SELECT n.nspname, c.relname, c.relkind FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
      AND n.nspname NOT IN ('pg_catalog', 'information_schema')
      AND n.nspname NOT LIKE 'pg_toast%' AND n.nspname NOT LIKE 'pg_temp%'
      AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype = 'e')
    ORDER BY 1, 2
"""


@dataclass(frozen=True, slots=True)
class DumpInfo:
    path: Path
    bytes: int
    migrations: tuple[str, ...]
    contacts: int
    keytree_id: str | None


async def _describe(
    conn: asyncpg.Connection, where: str
) -> tuple[tuple[str, ...], int, str | None]:
    """Migrations, contacts and the key tree id of an LK3 database; BackupError if not one."""
    try:
        names = tuple(str(r[0]) for r in await conn.fetch("SELECT name FROM migrations ORDER BY 1"))
        contacts = int(await conn.fetchval("SELECT count(*) FROM contacts"))
        tree = await conn.fetchval("SELECT value FROM meta WHERE name = $1", KEYTREE_META)
    except asyncpg.UndefinedTableError:
        raise BackupError(f"{where} is not an LK3 database (no migrations table)") from None
    if "0001_initial" not in names:
        raise BackupError(f"{where} is not an LK3 database (no initial migration)")
    return names, contacts, None if tree is None else str(tree)


def _fsync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# --- dump ----------------------------------------------------------------------


def dump_database(url: str, dest: Path) -> DumpInfo:
    """Writes a consistent `pg_dump -Fc` of the database at `url` to `dest` (mode 0600)."""
    if dest.exists():
        raise BackupError(f"{dest} already exists; a backup never overwrites a file")
    if not dest.parent.is_dir():
        raise BackupError(f"the folder {dest.parent} does not exist")
    return blocking(_dump(url, dest))


async def _dump(url: str, dest: Path) -> DumpInfo:
    info = split_password(url)
    conn = await connect(url, info)
    try:
        async with conn.transaction(isolation="repeatable_read", readonly=True):
            snapshot = str(await conn.fetchval("SELECT pg_export_snapshot()"))
            migrations, contacts, tree = await _describe(conn, info.url)
            # The snapshot lives as long as this transaction: dump while it is open.
            await asyncio.to_thread(_write_dump, info, snapshot, dest)
    finally:
        await conn.close()
    return DumpInfo(dest, dest.stat().st_size, migrations, contacts, tree)


def _write_dump(info: Conninfo, snapshot: str, dest: Path) -> None:
    tmp = dest.with_name(f".{dest.name}.partial")
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            run_tool(
                "pg_dump",
                info,
                ["--format=custom", f"--snapshot={snapshot}", "--no-sync"],
                stdout=handle,
            )
            handle.flush()
            os.fsync(handle.fileno())
        if dest.exists():
            raise BackupError(f"{dest} appeared while the backup was written; nothing replaced")
        os.replace(tmp, dest)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise
    _fsync_folder(dest.parent)


# --- reading an archive ----------------------------------------------------------


def dump_tables(dump: Path, *tables: str) -> dict[str, list[list[str]]]:
    """The rows of a few small tables of a dump (text, as COPY wrote them), without a server.

    BackupError if `dump` is not a pg_dump archive.
    """
    if not dump.is_file():
        raise BackupError(f"backup file {dump} does not exist")
    args = ["--data-only", "--file=-", *(f"--table={t}" for t in tables), str(dump)]
    text = run_tool("pg_restore", None, args)
    found: dict[str, list[list[str]]] = {t: [] for t in tables}
    current: list[list[str]] | None = None
    for line in text.splitlines():
        if current is None:
            if line.startswith("COPY "):
                name = line.split()[1].split(".")[-1].strip('"')
                current = found.setdefault(name, [])
            continue
        if line == "\\.":
            current = None
            continue
        current.append([_unescape(field) for field in line.split("\t")])
    return found


def archive_text(dump: Path) -> str:
    """The whole dump as the SQL it replays (what anyone holding the file can read)."""
    return run_tool("pg_restore", None, ["--file=-", str(dump)])


def _unescape(field: str) -> str:
    if "\\" not in field:
        return field
    out, chars = [], iter(field)
    for ch in chars:
        if ch != "\\":
            out.append(ch)
            continue
        nxt = next(chars, "")
        out.append({"t": "\t", "n": "\n", "r": "\r", "\\": "\\"}.get(nxt, nxt))
    return "".join(out)


def _archive_facts(dump: Path) -> tuple[tuple[str, ...], str | None]:
    """The migrations a dump holds and the key tree it needs (checked before restoring)."""
    try:
        rows = dump_tables(dump, "migrations", "meta")
    except BackupError as exc:
        raise BackupError(f"backup {dump} is not a pg_dump archive of LK3 ({exc})") from None
    names = tuple(sorted(r[0] for r in rows["migrations"]))
    if "0001_initial" not in names:
        raise BackupError(f"backup {dump} is not an LK3 database (no initial migration)")
    tree = next((r[1] for r in rows["meta"] if len(r) > 1 and r[0] == KEYTREE_META), None)
    return names, tree


# --- restore -------------------------------------------------------------------


def restore_dump(dump: Path, url: str, keytree: Path) -> DumpInfo:
    """Restores `dump` into the database at `url`, which must hold no table yet.

    Refused before anything is written: a file that is not an LK3 dump, a dump
    written under another key tree than `keytree` (or `keytree` missing), a
    target database that holds anything. Returns what the restored database holds.
    """
    migrations, needed = _archive_facts(dump)
    if needed is not None:
        _check_tree(dump, needed, keytree)
    info = split_password(url)
    blocking(_require_empty(url, info))
    run_tool(
        "pg_restore",
        info,
        [
            "--single-transaction",
            "--exit-on-error",
            "--no-owner",
            "--no-privileges",
            "--no-comments",
            str(dump),
        ],
    )
    return blocking(_restored(url, info, dump))


def _check_tree(dump: Path, needed: str, keytree: Path) -> None:
    try:
        live = KeyTree.load(keytree).tree_id
    except FileNotFoundError:
        raise BackupError(
            f"backup {dump} was written with key tree {needed}, and there is no key tree at"
            f" {keytree}: restore that deployment's key tree file there first (from the key"
            " backups kept apart from the database dumps), then restore again"
        ) from None
    if live != needed:
        raise BackupError(
            f"backup {dump} belongs to another deployment: it was written with key tree"
            f" {needed}, but {keytree} is key tree {live}. Nothing was restored. Restore with"
            f" that deployment's own key tree at {keytree} (keys_dir), or pick a dump of this"
            " deployment"
        )


async def _require_empty(url: str, info: Conninfo) -> None:
    conn = await connect(url, info)
    try:
        rows = await conn.fetch(_USER_RELATIONS)
    finally:
        await conn.close()
    if rows:
        names = ", ".join(f"{r[0]}.{r[1]}" for r in rows[:5])
        raise BackupError(
            f"the database {info.url} is not empty ({names}{', ...' if len(rows) > 5 else ''});"
            " restore only into a new, empty database (createdb NAME, then point [storage] url"
            " or LK3_STORAGE_URL at it): a restore never overwrites a database"
        )


async def _restored(url: str, info: Conninfo, dump: Path) -> DumpInfo:
    conn = await connect(url, info)
    try:
        migrations, contacts, tree = await _describe(conn, info.url)
    finally:
        await conn.close()
    return DumpInfo(dump, dump.stat().st_size, migrations, contacts, tree)


def clear_restored(url: str) -> int:
    """Drops every table, view, sequence and function a restore made (the target was empty).

    For a restore whose database then failed to open: it leaves the database as
    empty as the restore found it. Returns how many relations went.
    """
    info = split_password(url)
    return blocking(_clear(url, info))


async def _clear(url: str, info: Conninfo) -> int:
    conn = await connect(url, info)
    try:
        async with conn.transaction():
            rows = await conn.fetch(_USER_RELATIONS)
            for schema, name, kind in rows:
                what = {"v": "VIEW", "m": "MATERIALIZED VIEW", "S": "SEQUENCE"}.get(
                    str(kind), "FOREIGN TABLE" if kind == "f" else "TABLE"
                )
                await conn.execute(f"DROP {what} IF EXISTS {_ident(schema)}.{_ident(name)} CASCADE")
            functions = await conn.fetch(
                "SELECT p.oid::regprocedure::text FROM pg_proc p"
                " JOIN pg_namespace n ON n.oid = p.pronamespace"
                " WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')"
                " AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid"
                " AND d.deptype = 'e')"
            )
            for (signature,) in functions:
                await conn.execute(f"DROP FUNCTION IF EXISTS {signature} CASCADE")
    finally:
        await conn.close()
    return len(rows)


def _ident(name: object) -> str:
    return '"' + str(name).replace('"', '""') + '"'
