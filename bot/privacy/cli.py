"""The privacy commands of `lk3`: backups, purges, the audit log, case flags, key rotation.

    lk3 db backup FILE            an online, consistent copy while the bot runs (ciphertext)
    lk3 db restore FILE           into a data folder holding no database (keys in keys/)
    lk3 db status                 schema version, counts, size (read only)
    (on PostgreSQL, `[storage] url`: pg_dump and pg_restore, bot.pgdbcli)
    (`db backup --dated`, `db restore --check` and `db migrate`: bot.dbcli)
    lk3 db purge [--dry-run]      erase what retention says is due; counts and ids only
    lk3 audit verify              check the audit chain; names an edited, deleted or moved row
    lk3 cases flag CODE --safety-risk | --clear
    lk3 keys add                  put a new master key first in the key file
    lk3 keys rotate               rewrap every stored key under the first master key
                                  (refused for a key the running bot has not started with)

Every command that opens the database refuses to create one: a typo in `--data`
must not start an empty database under a new key. Those that write (restore,
purge, cases flag) hold the data folder while they run, so they are refused
while the bot runs (bot.datadir); `db backup` and `audit verify` only read, and
`keys rotate` is made to run beside the bot (short batches through SQLite's own
locking), so they take no lock. Output carries pseudonymous ids, codes and
counts, never what a person wrote.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias

from bot.config import BACKUPS_FOLDER, KEY_FILE_NAME, KEYTREE_NAME, Config, load_config
from bot.dbcli import add_migrate_command, backup_dated, restore_check
from bot.movecli import add_move_command

if TYPE_CHECKING:
    from storage.crypto.keys import KeyRing
    from storage.crypto.rotation import RotationProgress
    from storage.store import Store

__all__ = ["add_key_commands", "add_privacy_commands"]

Sub: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


def _group(sub: Sub, name: str, help_text: str) -> Sub:
    """The ACTION subparsers of `lk3 NAME`, created unless another feature already made it."""
    parser = sub.choices.get(name)
    if parser is None:
        parser = sub.add_parser(name, help=help_text)
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            found: Sub = action
            return found
    return parser.add_subparsers(metavar="ACTION")


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=Path, help="configuration file (TOML)")
    parser.add_argument("--data", type=Path, help="data folder (default: from config)")


def _scratch(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--scratch",
        metavar="NAME",
        default=os.environ.get("LK3_SCRATCH_DATABASE") or None,
        help="with --check on PostgreSQL: an empty scratch database on the same server"
        " (default: LK3_SCRATCH_DATABASE)",
    )


def add_privacy_commands(sub: Sub) -> None:
    """Adds `lk3 db`, `lk3 audit` and `lk3 cases flag`."""
    db = _group(sub, "db", "the database: backups, restore, retention purge")
    backup = db.add_parser("backup", help="write a consistent copy of the database to FILE")
    backup.add_argument("file", type=Path, nargs="?")
    backup.add_argument(
        "--dated",
        nargs="?",
        const="",
        metavar="DIR",
        help="write DIR/lk3-<UTC time>.db instead of FILE (DIR: default the backups folder)",
    )
    backup.add_argument(
        "--keep", type=int, default=14, metavar="N", help="with --dated: keep the newest N"
    )
    backup.add_argument(
        "--check", action="store_true", help="with --dated: then prove the copy opens and reads"
    )
    _scratch(backup)
    _common(backup)
    backup.set_defaults(handler=_backup)
    restore = db.add_parser("restore", help="restore a backup into a folder with no database")
    restore.add_argument("file", type=Path)
    restore.add_argument(
        "--check",
        action="store_true",
        help="only prove that FILE opens and reads, in a scratch folder (live data untouched)",
    )
    _scratch(restore)
    _common(restore)
    restore.set_defaults(handler=_restore)
    status = db.add_parser("status", help="schema version, counts and size of the database")
    _common(status)
    status.set_defaults(handler=_status)
    add_migrate_command(db)
    add_move_command(db)
    purge = db.add_parser("purge", help="erase what the retention rules say is due now")
    purge.add_argument("--dry-run", action="store_true", help="only show what would go")
    _common(purge)
    purge.set_defaults(handler=_purge)

    audit = _group(sub, "audit", "the audit log of decryptions and erasures")
    verify = audit.add_parser("verify", help="check that no row was edited, removed or moved")
    _common(verify)
    verify.set_defaults(handler=_audit_verify)

    cases = _group(sub, "cases", "cases")
    flag = cases.add_parser("flag", help="flag a case as a safety risk (or clear the flag)")
    flag.add_argument("code")
    which = flag.add_mutually_exclusive_group(required=True)
    which.add_argument("--safety-risk", action="store_true", help="the phone may be watched")
    which.add_argument("--clear", action="store_true", help="remove the flag")
    flag.add_argument("--reason", default="", help="why (kept in the audit log)")
    _common(flag)
    flag.set_defaults(handler=_cases_flag)


def add_key_commands(keys_sub: Sub) -> None:
    """Adds `lk3 keys add` and `lk3 keys rotate` beside `lk3 keys generate`."""
    add = keys_sub.add_parser("add", help="put a new master key first in the key file")
    add.add_argument("--key-file", type=Path, help="which file (default: from config)")
    add.add_argument("--config", type=Path)
    add.set_defaults(handler=_keys_add)
    rotate = keys_sub.add_parser("rotate", help="rewrap every stored key under the first key")
    rotate.add_argument("--batch", type=int, default=200, help="keys per transaction")
    rotate.add_argument(
        "--bot-stopped",
        action="store_true",
        help="rotate to a key the bot has not started with (only while it is not running)",
    )
    _common(rotate)
    rotate.set_defaults(handler=_keys_rotate)


# --- helpers ----------------------------------------------------------------


def _config(args: argparse.Namespace) -> Config:
    config = load_config(args.config)
    if getattr(args, "data", None) is not None:
        config = dataclasses.replace(config, data_dir=args.data)
    return config


def _keyring(config: Config) -> KeyRing:
    from storage.crypto.keys import ENV_VAR, KeyRing

    from_env = bool(os.environ.get(ENV_VAR))
    return KeyRing.load(None if from_env else config.resolved_key_file, os.environ)


def _fail(message: str, code: int = 1) -> int:
    print(f"lk3: {message}", file=sys.stderr)
    return code


def _with_store(
    config: Config, action: Callable[[Store], Awaitable[int]], *, command: str | None = None
) -> int:
    """Opens the existing database (never creating one) for one action.

    With `command` (the command's name, for a second process to read) the data folder
    is held while the action runs: the action writes.
    """
    from bot.datadir import DataDirError, FolderLock
    from storage.engine.dbfacts import has_database
    from storage.errors import StorageError
    from storage.store import Store

    try:
        if not has_database(config.database_path, config.storage_url):
            where = config.database_path if config.storage_url is None else "that database"
            return _fail(f"there is no LK3 database at {where}", 2)
    except StorageError as exc:
        return _fail(f"cannot open the database: {exc}", 2)

    async def run() -> int:
        try:
            store = await Store.open(
                config.database_path,
                _keyring(config),
                keytree=config.keytree_path,
                url=config.storage_url,
            )
        except StorageError as exc:
            return _fail(f"cannot open the database: {exc}", 2)
        try:
            return await action(store)
        finally:
            await store.close()

    if command is None:
        return asyncio.run(run())
    try:
        with FolderLock.acquire(config.data_dir, command):
            return asyncio.run(run())
    except DataDirError as exc:
        return _fail(f"cannot open the database: {exc}", 2)


# --- db ---------------------------------------------------------------------


def _backup(args: argparse.Namespace) -> int:
    from storage.crypto.backup import backup_database
    from storage.errors import StorageError

    config = _config(args)
    if (args.file is None) == (args.dated is None):
        return _fail("give either FILE or --dated DIR", 2)
    if args.dated is not None:
        folder = Path(args.dated) if args.dated else config.backups_folder
        return backup_dated(config, folder, args.keep, check=args.check, scratch=args.scratch)
    if config.storage_url is not None:
        from bot.pgdbcli import backup_postgres

        return backup_postgres(config, args.file)
    try:
        info = backup_database(config.database_path, args.file)
    except StorageError as exc:
        return _fail(str(exc))
    print(
        f"backup written to {info.path} ({info.bytes} bytes, {info.contacts} contacts,"
        f" mode 0600). It holds personal data only as ciphertext; it does NOT hold the master"
        f" key or the key tree ({config.keytree_path}): keep those"
        " apart, and only their latest copy."
    )
    return 0


def _restore(args: argparse.Namespace) -> int:
    from bot.datadir import LOCK_NAME, DataDirError, FolderLock

    config = _config(args)
    if config.storage_url is not None:
        return _restore_postgres(config, args)
    if args.check:
        return restore_check(config, args.file)
    # What a data folder may hold already: the keys (folder, or beside the database in
    # an older layout), its lock, logs, and the backups folder the copy may come from.
    allowed = {KEY_FILE_NAME, KEYTREE_NAME, KEYTREE_NAME + ".lock", LOCK_NAME, "logs"}
    allowed |= {BACKUPS_FOLDER, config.resolved_key_file.name}
    if config.keys_folder.parent == config.data_dir:
        allowed.add(config.keys_folder.name)
    keep = frozenset(allowed)
    try:
        lock = FolderLock.acquire(config.data_dir, "lk3 db restore")
    except DataDirError as exc:
        return _fail(str(exc), 2)
    with lock:
        return _restore_into(args.file, config, keep)


def _restore_postgres(config: Config, args: argparse.Namespace) -> int:
    from bot.datadir import DataDirError, FolderLock
    from bot.pgdbcli import restore_check_postgres, restore_postgres

    if args.check:
        return restore_check_postgres(config, args.file, args.scratch)
    try:
        lock = FolderLock.acquire(config.data_dir, "lk3 db restore")
    except DataDirError as exc:
        return _fail(str(exc), 2)
    with lock:
        return restore_postgres(config, args.file)


def _status(args: argparse.Namespace) -> int:
    from bot.pgdbcli import print_status

    return print_status(_config(args))


def _restore_into(backup: Path, config: Config, keep: frozenset[str]) -> int:
    from storage.crypto.backup import restore_database
    from storage.engine.commits import mark_path
    from storage.errors import StorageError
    from storage.privacy.audit import AuditEntry

    db = config.database_path
    try:
        info = restore_database(backup, db, keep)
    except StorageError as exc:
        return _fail(str(exc))

    async def check(store: Store) -> int:
        erased = await store.erasure.reapply("cli")
        await store.audit.record(
            AuditEntry("cli", "restore", "backup:restored", "database restored from a backup")
        )
        print(
            f"restored {backup} into {db}: {info.contacts - erased} contact(s) readable;"
            f" {erased} erased since the backup was taken (keys destroyed, rows removed now)"
        )
        return 0

    code = _with_store(config, check)  # the folder is held already, by _restore
    if code != 0:
        for path in (*(db.with_name(db.name + s) for s in ("", "-wal", "-shm")), mark_path(db)):
            if path.exists():
                path.unlink()
        print("lk3: the restored copy was removed; nothing was changed", file=sys.stderr)
    return code


def _purge(args: argparse.Namespace) -> int:
    from bot.privacy.retention import RetentionJob
    from storage.engine.clock import utc_now

    config = _config(args)

    async def action(store: Store) -> int:
        job = RetentionJob(store, config.retention, clock=utc_now)
        report = await job.run_once(dry_run=args.dry_run, actor="cli")
        verb = "would erase" if args.dry_run else "erased"
        count = len(report.due) if args.dry_run else report.erased
        print(f"{verb} {count} contact(s)")
        for reason, n in report.counts().items():
            ids = ", ".join(str(d.contact_id) for d in report.due if d.reason == reason)
            print(f"  {reason}: {n} (contact ids {ids})")
        if report.missed_words:
            print(f"dropped the words of {report.missed_words} answer(s) not understood")
        await store.erasure.finish()
        return 0

    return _with_store(config, action, command="lk3 db purge")


# --- audit, cases -----------------------------------------------------------


def _audit_verify(args: argparse.Namespace) -> int:
    async def action(store: Store) -> int:
        report = await store.audit.verify()
        if report.ok:
            print(
                f"audit log intact: {report.rows} rows; head seq {report.head_seq}"
                f" hash {report.head_hash}"
            )
            return 0
        print(f"audit log TAMPERED: {len(report.problems)} problem(s) in {report.rows} rows")
        for problem in report.problems:
            print(f"  {problem}")
        return 1

    return _with_store(_config(args), action)


def _cases_flag(args: argparse.Namespace) -> int:
    flag = bool(args.safety_risk)
    reason = args.reason.strip() or (
        "flagged as a safety risk by staff" if flag else "safety-risk flag cleared by staff"
    )

    async def action(store: Store) -> int:
        from storage.errors import StorageError

        try:
            case = await store.privacy.set_safety_risk(args.code, flag, "cli", reason)
        except StorageError as exc:
            return _fail(str(exc))
        if case is None:
            return _fail(f"no case with code {args.code.strip().upper()!r}")
        if flag:
            print(
                f"case {case.code} flagged as a safety risk: the family's data is never sent"
                " to the chat; they are asked to contact the office"
            )
        else:
            print(f"case {case.code} no longer flagged: the family may receive their data")
        return 0

    return _with_store(_config(args), action, command="lk3 cases flag")


# --- keys -------------------------------------------------------------------


def _keys_add(args: argparse.Namespace) -> int:
    from storage.crypto.keys import prepend_key
    from storage.errors import StorageError

    config = load_config(args.config)
    path = args.key_file or config.resolved_key_file
    try:
        key_id = prepend_key(path)
    except StorageError as exc:
        return _fail(str(exc))
    print(
        f"added master key {key_id} first in {path}; the other keys stay for reading."
        " Restart the bot so that it uses the new key, then run: lk3 keys rotate"
    )
    return 0


def _keys_rotate(args: argparse.Namespace) -> int:
    from storage.engine.dbfacts import has_database, master_key_ids
    from storage.errors import StorageError

    if args.batch < 1:
        return _fail("--batch must be at least 1", 2)
    config = _config(args)
    url = config.storage_url
    try:
        recorded = (
            master_key_ids(config.database_path, url)
            if has_database(config.database_path, url) and not args.bot_stopped
            else None
        )
    except StorageError as exc:
        return _fail(f"cannot open the database: {exc}", 2)
    if recorded is not None:
        primary = _keyring(config).primary.key_id
        if primary not in recorded:
            return _fail(
                f"the bot has not been started with master key {primary} yet: a running bot"
                " would not read the keys rotated under it. Restart the bot first (or, if it"
                " is not running, add --bot-stopped)"
            )

    async def action(store: Store) -> int:
        total = await store.rotation.remaining()
        print(f"rewrapping {total} contact key(s) under master key {store.rotation.primary}")

        def progress(step: RotationProgress) -> None:
            print(
                f"  rewrapped {step.rewrapped}, {step.remaining} to go"
                + (f", {step.erased} erased (skipped)" if step.erased else ""),
                flush=True,
            )

        result = await store.rotation.rotate(batch_size=args.batch, on_batch=progress)
        in_use = await store.rotation.keys_in_use()
        unused = [k for k in _keyring(_config(args)).key_ids if k not in in_use]
        print(f"done: {result.rewrapped} rewrapped, {result.remaining} remaining")
        if unused:
            print(
                f"no stored key is wrapped under {', '.join(unused)} any more: it can be removed"
                " from the key file. Backups taken before now still need it to be read."
            )
        return 0 if result.remaining == 0 else 1

    return _with_store(config, action)
