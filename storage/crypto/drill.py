"""The restore drill: proves a backup opens and reads, without touching the live data.

The backup is restored into a scratch folder, opened there with the master keys
and the live key tree (which is only read: nothing punctures it, and a database
that recorded no tree never creates one here), brought to this code's schema
(so an upgrade is proven too), and every contact's key is unwrapped and one of
its ciphertexts opened. Contacts erased since the backup was taken cannot be
opened any more: they are counted, which is crypto-shredding seen working. The
audit chain is verified. Nothing read is kept or shown: only counts.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from storage.crypto.backup import restore_database
from storage.crypto.keys import KeyRing
from storage.engine.migrations import MIGRATIONS
from storage.errors import ErasedError, KeyFileError, StorageError

__all__ = ["DrillReport", "check_backup"]


@dataclass(frozen=True, slots=True)
class DrillReport:
    backup: Path
    migrations: int  # recorded in the backup
    upgraded: tuple[str, ...]  # applied to the scratch copy by this code
    contacts: int
    readable: int
    erased_since: int
    unreadable: int  # neither readable nor erased: a wrong or missing key
    audit_rows: int
    audit_ok: bool

    @property
    def ok(self) -> bool:
        return self.unreadable == 0 and self.audit_ok


async def check_backup(backup: Path, keyring: KeyRing, keytree: Path, scratch: Path) -> DrillReport:
    """Restores `backup` into the empty folder `scratch` and reads everything it can."""
    from storage.store import Store

    if not keytree.is_file():
        raise KeyFileError(
            f"key tree {keytree} is missing: a backup cannot be read without the current tree"
        )
    copy = scratch / "lk3.db"
    info = restore_database(backup, copy)
    upgraded = tuple(m.name for m in MIGRATIONS if m.name not in info.migrations)
    with closing(sqlite3.connect(copy)) as conn:
        ids = [int(r[0]) for r in conn.execute("SELECT contact_id FROM contact_keys ORDER BY 1")]
    readable = erased = unreadable = 0
    async with await Store.open(copy, keyring, keytree=keytree, readers=1) as store:
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
    return DrillReport(
        backup=backup,
        migrations=len(info.migrations),
        upgraded=upgraded,
        contacts=len(ids),
        readable=readable,
        erased_since=erased,
        unreadable=unreadable,
        audit_rows=audit.rows,
        audit_ok=audit.ok,
    )
