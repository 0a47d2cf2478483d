"""`lk3 db move`: an office on SQLite moves to PostgreSQL, and `lk3 run` knows it moved.

    lk3 db move [--to postgresql://user@host/db]   the target: --to, else LK3_STORAGE_URL,
                                                   else [storage] url

The bot must be stopped (the data folder's lock: `bot.datadir`). The SQLite file is
only read; a dated copy of it (`lk3-…-before-move.db`, the ordinary SQLite backup)
is written to the backups folder first, so the move can always be undone. The copy
itself is `storage.engine.move`: one transaction, checked before it commits.

Afterwards the SQLite file stays where it was, untouched: it is the way back until
the new database has backups of its own. A note beside it (`lk3.moved`, no personal
data: where to, when, the counts) makes `lk3 run` refuse to start on SQLite while
it is there (a bot started on the old file would answer families from a copy that
no longer grows, and split the office's records in two), and `lk3 run` on the URL
warn that the old file is no longer used.

The password of the target URL is never printed, logged or given to another
process: messages name the URL without it (`storage.engine.pgtools.safe_url`).
A password typed after --to is visible to other users of the machine (`ps`), so
the command says so and suggests LK3_STORAGE_URL or ~/.pgpass.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeAlias

from bot.config import Config

__all__ = ["MOVED_NOTE", "add_move_command", "moved_check"]

Sub: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"

MOVED_NOTE = "lk3.moved"
"""Beside the SQLite file after a move: where it went (no password, no personal data)."""


def _fail(message: str, code: int = 1) -> int:
    print(f"lk3: {message}", file=sys.stderr)
    return code


def add_move_command(db: Sub) -> None:
    """Adds `lk3 db move`."""
    move = db.add_parser(
        "move", help="move this office's SQLite database into an empty PostgreSQL database"
    )
    move.add_argument(
        "--to",
        metavar="URL",
        help="postgresql://user@host/database (default: LK3_STORAGE_URL, else [storage] url);"
        " keep the password out of it: LK3_STORAGE_URL or ~/.pgpass",
    )
    move.add_argument(
        "--sample",
        type=int,
        default=200,
        help="contacts and messages decrypted on the target to check it (default 200)",
    )
    move.add_argument("--config", type=Path, help="configuration file (TOML)")
    move.add_argument("--data", type=Path, help="data folder (default: from config)")
    move.set_defaults(handler=_move)


def _move(args: argparse.Namespace) -> int:
    import dataclasses

    from bot.config import load_config
    from storage.engine.pgtools import split_password

    config = load_config(args.config)
    if args.data is not None:
        config = dataclasses.replace(config, data_dir=args.data)
    url = args.to or config.storage_url
    if not url:
        return _fail(
            "name the PostgreSQL database to move into: LK3_STORAGE_URL, [storage] url, or"
            " --to postgresql://user@host/database",
            2,
        )
    if not url.startswith(("postgresql://", "postgres://")):
        return _fail("the target must be a postgresql:// URL", 2)
    if args.sample < 1:
        return _fail("--sample must be at least 1", 2)
    info = split_password(url)
    if args.to and info.password is not None:
        print(
            "lk3: warning: a password after --to is visible to other users of this machine"
            " while lk3 runs (ps); give it through LK3_STORAGE_URL or ~/.pgpass instead",
            file=sys.stderr,
        )
    return _move_locked(config, url, args.sample)


def _move_locked(config: Config, url: str, sample: int) -> int:
    from bot.datadir import DataDirError, FolderLock
    from bot.dbcli import _keyring
    from storage.crypto.dated import write_dated
    from storage.engine.commits import lost_commits
    from storage.engine.move import move_to_postgres, source_problem
    from storage.engine.pgtools import blocking, split_password
    from storage.errors import StorageError

    info = split_password(url)
    source = config.database_path
    try:
        lock = FolderLock.acquire(config.data_dir, "lk3 db move")
    except DataDirError as exc:
        return _fail(f"cannot move: {exc}", 2)
    with lock:
        problem = source_problem(source, config.keytree_path)
        if problem is None and lost_commits(source):
            problem = (
                f"{source} lost committed work (its log is missing): start `lk3 run` on it"
                " first, which says what happened and what to do"
            )
        if problem is not None:
            return _fail(f"cannot move: {problem}", 2)
        now = datetime.now(UTC)
        try:
            keyring = _keyring(config)
            backup, _ = write_dated(
                source, config.backups_folder, now, keep=None, label="before-move"
            )
        except StorageError as exc:
            return _fail(f"cannot move: no backup could be written first ({exc})", 2)
        print(f"backed up {source} to {backup.path} first ({backup.contacts} contacts)")
        print(f"moving {source} into {info.url} ...")
        try:
            report = blocking(
                move_to_postgres(
                    source,
                    url,
                    keyring,
                    config.keytree_path,
                    int(now.timestamp() * 1_000_000),
                    sample=sample,
                )
            )
        except StorageError as exc:
            return _fail(f"cannot move: {info.scrub(str(exc))}")
        try:
            _write_note(config, info.url, now, report.rows, report.contacts, backup.path)
        except OSError as exc:
            print(
                f"lk3: warning: the move is done, but {MOVED_NOTE} could not be written"
                f" ({exc.strerror}): lk3 run will not refuse the old SQLite file by itself",
                file=sys.stderr,
            )
    for table in report.tables:
        if table.rows:
            print(f"  {table.name:<28} {table.rows:>9} rows")
    print(
        f"moved {report.rows} rows of {len(report.tables)} tables ({report.contacts} contacts)"
        f" in {report.seconds:.1f} s; checked: the same rows in every table,"
        f" {report.sampled} contacts and {report.messages_sampled} messages decrypted on the"
        f" target ({report.sampled_erased} erased ones still refused), the audit chain"
        f" ({report.audit_rows} rows) intact, key tree {report.keytree_id} kept."
    )
    print(
        "next: set [storage] url (or LK3_STORAGE_URL) to this database and start `lk3 run`."
        f" {source} is left as it was, as the way back; {config.data_dir / MOVED_NOTE} says"
        " where it went, and `lk3 run` refuses SQLite while that note is there"
        " (docs/postgresql.md, Moving an office from SQLite)."
    )
    return 0


def _write_note(
    config: Config, where: str, at: datetime, rows: int, contacts: int, backup: Path
) -> None:
    text = (
        f"This office's database was moved to PostgreSQL: {where}\n"
        f"at {at.strftime('%Y-%m-%d %H:%M UTC')}: {rows} rows, {contacts} contacts.\n"
        f"A copy taken just before: {backup}\n"
        "lk3 run refuses to start on the SQLite file while this note is here; set\n"
        "[storage] url (or LK3_STORAGE_URL) to run on PostgreSQL. To go back to SQLite\n"
        "(what was written on PostgreSQL since is then NOT in the file), remove this note.\n"
    )
    path = config.data_dir / MOVED_NOTE
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)


def moved_check(config: Config) -> tuple[str | None, str | None]:
    """(why `lk3 run` must not start, a warning to log): after `lk3 db move`."""
    note = config.data_dir / MOVED_NOTE
    database = config.database_path
    if config.storage_url is None:
        if note.is_file():
            return (
                f"this office was moved to PostgreSQL ({note} says where): set [storage] url"
                f" (or LK3_STORAGE_URL) to run on it. {database} is the copy from before the"
                f" move; to run on it again anyway, remove {note}",
                None,
            )
        return None, None
    with contextlib.suppress(OSError):
        if database.is_file():
            return None, (
                f"{database} is not used ([storage] url is set): it holds the data as it was"
                " when this office ran on SQLite. Keep it until the PostgreSQL database has"
                " backups of its own, then remove it (with lk3.commits and lk3.db-wal beside it)"
            )
    return None, None
