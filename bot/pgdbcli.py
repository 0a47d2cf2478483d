"""`lk3 db backup/restore` on PostgreSQL (`[storage] url`), and `lk3 db status` on both.

    lk3 db backup FILE                 a pg_dump (custom format) of the database, mode 0600
    lk3 db backup --dated [DIR]        DIR/lk3-<UTC time>.dump, the newest N kept
    lk3 db restore FILE                into the configured database, which must be empty
    lk3 db restore --check FILE --scratch NAME
                                       the drill, in the empty scratch database NAME on the
                                       same server (emptied again afterwards)
    lk3 db status                      schema version, counts and size, read from the database

The same promises as on SQLite (bot.privacy.cli, storage.engine.pgbackup): a
backup never overwrites a file and is complete or absent; a restore never
overwrites a database (on SQLite: a data folder holding no database; here: a
database holding no table) and refuses a dump written under another key tree
before it writes anything; after a restore, the contacts erased since the dump
was taken are removed for good (`ErasureRepo.reapply`) and the restore is
audited. The URL's password is never printed: messages name the URL without it.
The scratch database of the drill is named, not given as a URL, so that no
password has to be typed on a command line (`ps` shows command lines).
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from bot.config import Config

if TYPE_CHECKING:
    from storage.crypto.keys import KeyRing
    from storage.store import Store

__all__ = ["backup_postgres", "print_status", "restore_postgres", "restore_check_postgres"]

KEYS_APART = (
    "It holds personal data only as ciphertext and neither the master key nor the key tree"
    " ({tree}): keep those apart from the dumps, and only their latest copy."
)


def _fail(message: str, code: int = 1) -> int:
    print(f"lk3: {message}", file=sys.stderr)
    return code


def _keyring(config: Config) -> KeyRing:
    from storage.crypto.keys import ENV_VAR, KeyRing

    from_env = bool(os.environ.get(ENV_VAR))
    return KeyRing.load(None if from_env else config.resolved_key_file, os.environ)


def _url(config: Config) -> str:
    assert config.storage_url is not None
    return config.storage_url


def backup_postgres(config: Config, dest: Path) -> int:
    """`lk3 db backup FILE` on PostgreSQL: reads only, runs beside the bot."""
    from storage.engine.pgbackup import dump_database
    from storage.errors import StorageError

    try:
        info = dump_database(_url(config), dest)
    except StorageError as exc:
        return _fail(str(exc))
    print(
        f"backup written to {info.path} ({info.bytes} bytes, {info.contacts} contacts,"
        f" pg_dump custom format, mode 0600). {KEYS_APART.format(tree=config.keytree_path)}"
    )
    return 0


def restore_postgres(config: Config, dump: Path) -> int:
    """`lk3 db restore FILE` on PostgreSQL: into the configured, empty database."""
    from storage.engine.pgbackup import clear_restored, restore_dump
    from storage.engine.pgtools import safe_url
    from storage.errors import StorageError
    from storage.privacy.audit import AuditEntry
    from storage.store import Store

    url = _url(config)
    try:
        keyring = _keyring(config)
        info = restore_dump(dump, url, config.keytree_path)
    except StorageError as exc:
        return _fail(str(exc))

    async def check() -> int:
        try:
            store: Store = await Store.open(
                config.database_path, keyring, keytree=config.keytree_path, url=url
            )
        except StorageError as exc:
            return _fail(f"cannot open the restored database: {exc}", 2)
        async with store:
            erased = await store.erasure.reapply("cli")
            await store.audit.record(
                AuditEntry("cli", "restore", "backup:restored", "database restored from a backup")
            )
        print(
            f"restored {dump} into {safe_url(url)}: {info.contacts - erased} contact(s)"
            f" readable; {erased} erased since the backup was taken (keys destroyed, rows"
            " removed now)"
        )
        return 0

    code = asyncio.run(check())
    if code != 0:
        try:
            clear_restored(url)
        except StorageError as exc:
            return _fail(f"the restored copy could not be removed: {exc}", code)
        print("lk3: the restored copy was removed; the database is empty again", file=sys.stderr)
    return code


def restore_check_postgres(config: Config, dump: Path, scratch: str | None) -> int:
    """`lk3 db restore --check FILE --scratch NAME` on PostgreSQL (the live data untouched)."""
    from storage.crypto.pgdrill import check_dump
    from storage.engine.pgtools import safe_url, with_database
    from storage.errors import StorageError

    if not dump.is_file():
        return _fail(f"backup file {dump} does not exist", 2)
    if not scratch:
        return _fail(
            "on PostgreSQL the drill restores into an empty scratch database on the same"
            " server: create one (createdb lk3_check) and add --scratch lk3_check; it is"
            " emptied again afterwards",
            2,
        )
    try:
        scratch_url = with_database(_url(config), scratch)
        if safe_url(scratch_url) == safe_url(_url(config)):
            return _fail("--scratch names the live database: name an empty scratch one", 2)
        keyring = _keyring(config)
        report = asyncio.run(check_dump(dump, keyring, config.keytree_path, scratch_url))
    except StorageError as exc:
        return _fail(f"backup {dump} FAILED the check: {exc}")
    upgraded = f" ({len(report.upgraded)} applied to the check copy)" if report.upgraded else ""
    audit = "intact" if report.audit_ok else "TAMPERED"
    print(
        f"backup {dump}: {report.migrations} migrations{upgraded}, {report.contacts}"
        f" contact(s): {report.readable} readable, {report.erased_since} erased since it was"
        f" taken (unreadable now, as erasure requires), {report.unreadable} unreadable; audit"
        f" log {audit} ({report.audit_rows} rows). The live data was not touched; the scratch"
        f" database {scratch} is empty again."
    )
    if not report.ok:
        return _fail(
            f"backup {dump} FAILED the check: check the master keys (key file or"
            " LK3_MASTER_KEYS) and that the key tree is the live one"
        )
    print(f"backup {dump} opens and reads: it can be restored with `lk3 db restore`")
    return 0


def print_status(config: Config) -> int:
    """`lk3 db status`: what the database holds, read only (runs beside the bot)."""
    from storage.crypto.dated import latest_copy
    from storage.engine.dbfacts import database_facts, has_database
    from storage.errors import StorageError

    try:
        if not has_database(config.database_path, config.storage_url):
            where = config.database_path if config.storage_url is None else "that database"
            return _fail(f"there is no LK3 database at {where}", 2)
        facts = database_facts(config.database_path, config.storage_url)
    except StorageError as exc:
        return _fail(str(exc), 2)
    status = facts.migrations
    latest = status.applied[-1][0] if status.applied else "none"
    print(f"database: {facts.backend} at {facts.where} ({facts.server})")
    print(f"size: {facts.size_bytes} bytes ({facts.size_bytes / 1_048_576:.1f} MiB)")
    print(
        f"schema: {len(status.applied)} migrations applied, the newest {latest};"
        f" {len(status.pending)} pending"
        + (f"; {len(status.unknown)} unknown (a newer lk3 wrote them)" if status.unknown else "")
    )
    for name, count in facts.counts.items():
        print(f"{name}: {count}")
    print(f"key tree: {facts.keytree_id or 'none recorded yet'} (file {config.keytree_path})")
    newest = latest_copy(config.backups_folder)
    print(f"newest dated backup: {newest.path if newest else 'none'} in {config.backups_folder}")
    return 0
