"""The restore drill on PostgreSQL: a dump restored into a scratch database and read through.

As `storage.crypto.drill` does for a SQLite copy in a scratch folder: the dump is
restored into an empty scratch database on the same server (refused if it is
not empty, and before anything is restored if it was written under another key
tree), opened with the master keys and the live key tree (only read), brought to
this code's schema, and every contact's key is unwrapped; the contacts erased
since the dump was taken are counted (crypto-shredding seen working), and the
audit chain is verified. Whatever happens, the scratch database is emptied again
at the end. Nothing read is kept or shown: only counts.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from storage.crypto.drill import DrillReport
from storage.crypto.keys import KeyRing
from storage.engine.migrations import MIGRATIONS
from storage.engine.pgbackup import clear_restored, restore_dump
from storage.engine.pgtools import connect
from storage.errors import ErasedError, KeyFileError, StorageError

__all__ = ["check_dump"]


async def check_dump(dump: Path, keyring: KeyRing, keytree: Path, scratch_url: str) -> DrillReport:
    """Restores `dump` into the empty database at `scratch_url`, reads it, empties it again."""
    from storage.store import Store

    if not keytree.is_file():
        raise KeyFileError(
            f"key tree {keytree} is missing: a backup cannot be read without the current tree"
        )
    info = await asyncio.to_thread(restore_dump, dump, scratch_url, keytree)
    try:
        upgraded = tuple(m.name for m in MIGRATIONS if m.name not in info.migrations)
        conn = await connect(scratch_url)
        try:
            rows = await conn.fetch("SELECT contact_id FROM contact_keys ORDER BY 1")
        finally:
            await conn.close()
        ids = [int(r[0]) for r in rows]
        readable = erased = unreadable = 0
        store = await Store.open(
            keytree.with_name("lk3.db"), keyring, keytree=keytree, readers=1, url=scratch_url
        )
        async with store:
            for contact_id in ids:
                try:
                    await store.contacts.address(contact_id)
                except ErasedError:
                    erased += 1
                except StorageError:
                    unreadable += 1
                else:
                    readable += 1
            audit = await store.audit.verify()
    finally:
        await asyncio.to_thread(clear_restored, scratch_url)
    return DrillReport(
        backup=dump,
        migrations=len(info.migrations),
        upgraded=upgraded,
        contacts=len(ids),
        readable=readable,
        erased_since=erased,
        unreadable=unreadable,
        audit_rows=audit.rows,
        audit_ok=audit.ok,
    )
