"""Taking and restoring a backup in a test, on either database.

On SQLite: the online backup API (`storage.crypto.backup`), a file copy of the
database. With `--db postgres`: `pg_dump` of the database standing for the file
(`storage.engine.pgbackup`), and `pg_restore` into a new, empty database standing
for the restored file, so `open_store`, `raw_query` and `rows_of` find it there.
One test then states crypto-shredding for both: the old backup, restored with
the current key tree, does not open an erased family.
"""

from __future__ import annotations

from pathlib import Path

from storage.crypto.backup import backup_database, restore_database
from storage.engine.pgbackup import archive_text, dump_database, restore_dump
from support import pgserver

__all__ = ["readable_bytes", "restore_backup", "take_backup"]


def take_backup(db_path: Path, dest: Path) -> Path:
    """A consistent backup of the database of `db_path` written to `dest`."""
    server = pgserver.ACTIVE
    if server is not None:
        dump_database(server.database_for(db_path), dest)
    else:
        backup_database(db_path, dest)
    return dest


def restore_backup(
    backup: Path,
    db_path: Path,
    keep: frozenset[str] = frozenset(),
    *,
    keytree: Path | None = None,
) -> Path:
    """Restores `backup` as the database of `db_path` (a new one).

    The key tree (default: beside `db_path`) is the one the restore is checked
    against on PostgreSQL; SQLite's restore leaves that check to opening the store.
    """
    server = pgserver.ACTIVE
    if server is not None:
        tree = keytree if keytree is not None else db_path.with_suffix(".keytree")
        restore_dump(backup, server.empty_database_for(db_path), tree)
    else:
        restore_database(backup, db_path, keep)
    return db_path


def readable_bytes(backup: Path) -> bytes:
    """What anyone holding the backup reads in it without a key.

    A SQLite copy is read as it lies. A pg_dump archive compresses its data, so
    a scan of its bytes would prove nothing: it is read as `pg_restore` replays it
    (SQL and COPY text, bytea as hex), plus its raw bytes.
    """
    if backup.read_bytes()[:5] == b"PGDMP":  # pg_dump's custom format
        return archive_text(backup).encode() + backup.read_bytes()
    return backup.read_bytes()
