"""Opening a store for a test: on the file at a path, or, with `--db postgres`, on a
database of the session's throwaway server standing for that file (`support.pgserver`).

The app and the `lk3` processes a test starts find their database the same way: a
config gets the `storage_url` of the database standing for its `database_path`
(`with_storage`), and a subprocess gets it as LK3_STORAGE_URL (`storage_env`), so a
test that reopens the data folder, in-process or as `lk3`, meets the same database.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bot.config import Config, ConfigError, load_config
from storage.crypto.keys import KeyRing
from storage.store import Store
from support import pgserver

__all__ = [
    "environ_with",
    "open_store",
    "restore_target",
    "storage_env",
    "storage_env_for_args",
    "storage_url",
    "with_storage",
]


async def open_store(path: Path, keyring: KeyRing, **options: Any) -> Store:
    """`Store.open` on the file at `path`, or on a PostgreSQL database standing for it."""
    server = pgserver.ACTIVE
    if server is not None and "url" not in options:
        options["url"] = server.database_for(path)
    return await Store.open(path, keyring, **options)


def storage_url(database_path: Path) -> str | None:
    """The URL of the database standing for this file (None: SQLite, the file itself)."""
    server = pgserver.ACTIVE
    return None if server is None else server.database_for(database_path)


def with_storage(config: Config) -> Config:
    """The config as the test's backend wants it: unchanged on SQLite."""
    if config.storage_url is not None:
        return config
    url = storage_url(config.database_path)
    return config if url is None else dataclasses.replace(config, storage_url=url)


def storage_env(config: Path | None = None, *, data_dir: Path | None = None) -> dict[str, str]:
    """LK3_STORAGE_URL for an `lk3` process of this config or data folder ({} on SQLite)."""
    if pgserver.ACTIVE is None:
        return {}
    if data_dir is None:
        try:
            data_dir = load_config(config, env={}).data_dir
        except ConfigError:  # the command says so itself, and opens nothing
            return {}
    url = storage_url(data_dir / "lk3.db")
    return {} if url is None else {"LK3_STORAGE_URL": url}


def storage_env_for_args(args: Sequence[str], cwd: Path) -> dict[str, str]:
    """`storage_env` for an `lk3` command line: its `--config` or `--data`, else none.

    A command naming neither (help, a config check of nothing) opens no database.
    """
    if pgserver.ACTIVE is None:
        return {}
    arguments = list(args)
    for flag in ("--data", "--config"):
        if flag in arguments[:-1]:
            value = Path(arguments[arguments.index(flag) + 1])
            value = value if value.is_absolute() else cwd / value
            if flag == "--data":
                return storage_env(data_dir=value)
            if value.is_file():
                return storage_env(value)
    return {}


@contextmanager
def environ_with(extra: Mapping[str, str]) -> Iterator[None]:
    """`extra` (a `storage_env`) in this process's environment, for an `lk3` command run
    in-process (`bot.cli.main` reads LK3_STORAGE_URL as the `lk3` script does)."""
    before = {name: os.environ.get(name) for name in extra}
    os.environ.update(extra)
    try:
        yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def restore_target(database_path: Path) -> None:
    """Where `lk3 db restore` may restore on this backend: no file yet on SQLite, a new
    database holding no table on PostgreSQL (a restore never overwrites one)."""
    server = pgserver.ACTIVE
    if server is not None:
        server.empty_database_for(database_path)
