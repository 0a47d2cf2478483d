"""Backups an office can schedule, a restore drill, and upgrades that never migrate unbacked.

    lk3 db backup --dated DIR [--keep N]   a copy named for its time; the newest N kept
    lk3 db restore --check FILE            the drill: FILE opens and reads (live data untouched)
    lk3 db migrate --status                the migrations applied and those pending
    lk3 db migrate                         back up, then apply what is pending (bot stopped)

`lk3 run` asks `before_migrating` first. With migrations pending and no backup
younger than an hour in the backups folder, it writes one itself
(`lk3-…-before-migration.db`) and then migrates; it refuses to start only when
that backup cannot be written, unless started with `--migrate`. Why not simply
refuse: an office with no engineer upgrades and restarts unattended, and a bot
that refuses to start is a silent bot while families may be in crisis; a copy
taken by the bot itself costs seconds and keeps the way back open. When even
that copy fails (a full disk, a folder it may not write) migrating would be
the very risk the rule exists for, so then it stops and says how to go on.

Output carries paths, counts and migration names, never what a person wrote.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, TextIO, TypeAlias

from bot.config import Config

if TYPE_CHECKING:
    from storage.crypto.keys import KeyRing

__all__ = [
    "FRESH_BACKUP",
    "add_migrate_command",
    "backup_dated",
    "before_migrating",
    "restore_check",
]

log = logging.getLogger(__name__)

Sub: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"

FRESH_BACKUP = timedelta(hours=1)
"""A backup younger than this lets `lk3 run` migrate without writing another."""

_KEYS_APART = (
    "It holds personal data only as ciphertext and neither the master key nor the key tree:"
    " send the backups folder off-site, never the keys folder with it."
)


def _fail(message: str, code: int = 1) -> int:
    print(f"lk3: {message}", file=sys.stderr)
    return code


def _keyring(config: Config) -> KeyRing:
    from storage.crypto.keys import ENV_VAR, KeyRing

    from_env = bool(os.environ.get(ENV_VAR))
    return KeyRing.load(None if from_env else config.resolved_key_file, os.environ)


# --- backup --dated, restore --check -----------------------------------------


def backup_dated(
    config: Config, folder: Path, keep: int, *, check: bool = False, scratch: str | None = None
) -> int:
    """`lk3 db backup --dated DIR --keep N [--check]` (reads only: runs beside the bot)."""
    from storage.crypto.dated import write_dated
    from storage.errors import StorageError

    if keep < 1:
        return _fail("--keep must be at least 1", 2)
    try:
        info, removed = write_dated(
            config.database_path, folder, datetime.now(UTC), keep=keep, url=config.storage_url
        )
    except StorageError as exc:
        return _fail(str(exc))
    print(
        f"backup written to {info.path} ({info.bytes} bytes, {info.contacts} contacts, mode"
        f" 0600); {len(removed)} older cop{'y' if len(removed) == 1 else 'ies'} removed,"
        f" the newest {keep} kept. {_KEYS_APART}"
    )
    if check and config.storage_url is not None:
        from bot.pgdbcli import restore_check_postgres

        return restore_check_postgres(config, info.path, scratch)
    return restore_check(config, info.path) if check else 0


def restore_check(config: Config, backup: Path) -> int:
    """`lk3 db restore --check FILE`: the restore drill, in a scratch folder."""
    from storage.crypto.drill import check_backup
    from storage.errors import StorageError

    if not backup.is_file():
        return _fail(f"backup file {backup} does not exist", 2)
    try:
        keyring = _keyring(config)
    except StorageError as exc:
        return _fail(f"cannot check {backup}: {exc}", 2)
    # Beside the backup: its folder has room for a copy; /tmp may be a small tmpfs.
    where = backup.parent if os.access(backup.parent, os.W_OK) else None
    try:
        with tempfile.TemporaryDirectory(prefix=".lk3-check-", dir=where) as scratch:
            report = asyncio.run(check_backup(backup, keyring, config.keytree_path, Path(scratch)))
    except StorageError as exc:
        return _fail(f"backup {backup} FAILED the check: {exc}")
    upgraded = f" ({len(report.upgraded)} applied to the check copy)" if report.upgraded else ""
    audit = (
        f"audit log intact ({report.audit_rows} rows)"
        if report.audit_ok
        else f"audit log TAMPERED ({report.audit_rows} rows)"
    )
    print(
        f"backup {backup}: {report.migrations} migrations{upgraded}, {report.contacts}"
        f" contact(s): {report.readable} readable, {report.erased_since} erased since it was"
        f" taken (unreadable now, as erasure requires), {report.unreadable} unreadable; {audit}."
        " The live data was not touched."
    )
    if not report.ok:
        return _fail(
            f"backup {backup} FAILED the check: check the master keys (key file or"
            " LK3_MASTER_KEYS) and that the key tree is the live one"
        )
    print(f"backup {backup} opens and reads: it can be restored with `lk3 db restore`")
    return 0


# --- migrate -------------------------------------------------------------------


def add_migrate_command(db: Sub) -> None:
    """Adds `lk3 db migrate [--status]`."""
    migrate = db.add_parser("migrate", help="list the migrations, or back up and apply them")
    migrate.add_argument(
        "--status", action="store_true", help="list applied and pending migrations only"
    )
    migrate.add_argument("--config", type=Path, help="configuration file (TOML)")
    migrate.add_argument("--data", type=Path, help="data folder (default: from config)")
    migrate.set_defaults(handler=_migrate)


def _migrate(args: argparse.Namespace) -> int:
    import dataclasses

    from bot.config import load_config
    from storage.engine.dbfacts import has_database, migrations_of
    from storage.errors import StorageError

    config = load_config(args.config)
    if args.data is not None:
        config = dataclasses.replace(config, data_dir=args.data)
    db = config.database_path
    try:
        if not has_database(db, config.storage_url):
            return _fail(f"there is no LK3 database at {_where(config)}", 2)
        status = migrations_of(db, config.storage_url)
    except StorageError as exc:
        return _fail(str(exc), 2)
    if args.status:
        for name, at in status.applied:
            when = datetime.fromtimestamp(at / 1_000_000, UTC).strftime("%Y-%m-%d %H:%M UTC")
            print(f"applied  {name}  {when}")
        for name in status.pending:
            print(f"pending  {name}")
        for name in status.unknown:
            print(f"unknown  {name}  (written by a newer version of lk3)")
        print(f"{len(status.applied)} applied, {len(status.pending)} pending")
        return 0
    return _apply(config, len(status.pending))


def _apply(config: Config, pending: int) -> int:
    from bot.datadir import DataDirError, FolderLock
    from storage.errors import StorageError
    from storage.store import Store

    if pending == 0:
        print("nothing to migrate: the database is current")
        return 0
    try:
        with FolderLock.acquire(config.data_dir, "lk3 db migrate"):
            refusal = before_migrating(config, allow_without_backup=False)
            if refusal is not None:
                return _fail(refusal)

            async def run() -> None:
                keyring = _keyring(config)
                store = await Store.open(
                    config.database_path,
                    keyring,
                    keytree=config.keytree_path,
                    url=config.storage_url,
                )
                await store.close()

            asyncio.run(run())
    except (DataDirError, StorageError) as exc:
        return _fail(f"cannot migrate: {exc}", 2)
    print(f"applied {pending} migration(s)")
    return 0


def _where(config: Config) -> str:
    if config.storage_url is None:
        return str(config.database_path)
    from storage.engine.pgtools import safe_url

    return safe_url(config.storage_url)


def before_migrating(
    config: Config,
    *,
    allow_without_backup: bool,
    now: datetime | None = None,
    say: TextIO | None = sys.stderr,
) -> str | None:
    """Makes sure a fresh backup exists before pending migrations run (see the module).

    Returns None to go on, or why not (one line). Call while holding the data folder.
    The backup made is logged, and told on `say` too (None: logged only).
    """
    from storage.crypto.dated import latest_copy, write_dated
    from storage.engine.commits import lost_commits
    from storage.engine.dbfacts import has_database, migrations_of
    from storage.errors import StorageError

    db, url = config.database_path, config.storage_url
    try:
        if not has_database(db, url) or (url is None and lost_commits(db)):
            return None  # opening the store refuses a database that lost work, and says why
        status = migrations_of(db, url)
    except StorageError:
        return None  # opening the store says what is wrong, in its own words
    if not status.pending or status.unknown:
        return None
    count = len(status.pending)
    if allow_without_backup:
        log.warning("applying %s migration(s) without a backup first (--migrate)", count)
        return None
    moment = now if now is not None else datetime.now(UTC)
    latest = latest_copy(config.backups_folder)
    if latest is not None and moment - latest.taken_at <= FRESH_BACKUP:
        log.info("%s migration(s) to apply; the backup %s is fresh", count, latest.path)
        return None

    def dump() -> str:
        info, _ = write_dated(
            db, config.backups_folder, moment, keep=None, label="before-migration", url=url
        )
        return str(info.path)

    try:
        if url is None:
            where = dump()
        else:
            # Several processes started together: one dump, under the migration lock.
            from storage.engine.premigration import dump_once

            done = dump_once(url, status.pending[-1], moment, FRESH_BACKUP, dump)
            if not done.pending:
                log.info("the pending migrations were applied by another process meanwhile")
                return None
            if not done.dumped:
                log.warning("%s migration(s) to apply: backed up first by another process", count)
                log.info("that process's before-migration dump: %s", done.path)
                return None
            where = done.path
    except StorageError as exc:
        return (
            f"{count} migration(s) pending ({', '.join(status.pending)}) and no backup could"
            f" be written first ({exc}). Make one with `lk3 db backup --dated"
            f" {config.backups_folder}`, or start with --migrate to apply them without one"
        )
    line = f"{count} migration(s) to apply: the database was backed up first to {where}"
    log.warning("%s", line)
    if say is not None:
        print(f"lk3: {line}", file=say)
    return None
