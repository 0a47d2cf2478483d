"""Several `lk3 run` processes started together after an upgrade take ONE dump before the
migration, not one each (storage/engine/premigration.py), and the migration runs once.

Two processes stand here as two data folders (each its own backups folder) sharing one
PostgreSQL database left by an older version (its newest migration pending) and one
keys folder. Both ask `before_migrating` at the same moment, as `lk3 run` does before
it opens the store, then both open their store at once.
"""

from __future__ import annotations

import asyncio
import dataclasses
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from support.pgshared import SharedDatabase, older_database

from bot.config import KEY_FILE_NAME, Config, load_config
from bot.dbcli import before_migrating
from storage.crypto.keys import KeyRing
from storage.engine.pgschema import PG_MIGRATIONS
from storage.engine.premigration import RECORD
from storage.store import Store

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


@pytest.fixture
def database(tmp_path: Path) -> Iterator[SharedDatabase]:
    db = older_database(tmp_path, len(PG_MIGRATIONS) - 1)
    yield db
    db.drop()


def _config(folder: Path, database: SharedDatabase) -> Config:
    folder.mkdir(mode=0o700)
    return dataclasses.replace(
        load_config(None, env={}),
        data_dir=folder,
        keys_dir=database.keys,
        storage_url=database.url,
    )


def test_processes_starting_together_after_an_upgrade_take_one_dump_and_migrate_once(
    tmp_path: Path, database: SharedDatabase
) -> None:
    newest = PG_MIGRATIONS[-1].name
    assert not database.rows("SELECT name FROM migrations WHERE name = $1", newest)
    configs = [_config(tmp_path / name, database) for name in ("a", "b")]
    start = threading.Barrier(len(configs))
    answers: list[str | None] = []

    def starting(config: Config) -> None:
        start.wait()  # both at the same moment
        answers.append(before_migrating(config, allow_without_backup=False, now=NOW, say=None))

    threads = [threading.Thread(target=starting, args=(c,)) for c in configs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert answers == [None, None], "both go on to start"
    dumps = [p for c in configs if c.backups_folder.exists() for p in c.backups_folder.iterdir()]
    assert [p.name for p in dumps] == ["lk3-20261207-090000Z-before-migration.dump"]
    [(record,)] = database.rows("SELECT value FROM meta WHERE name = $1", RECORD)
    assert record.startswith(f"{newest}|") and record.endswith(str(dumps[0]))

    async def open_both() -> None:
        keyring = KeyRing.load(database.keys / KEY_FILE_NAME, {})
        stores = await asyncio.gather(
            *(
                Store.open(c.database_path, keyring, keytree=c.keytree_path, url=c.storage_url)
                for c in configs
            )
        )
        for store in stores:
            await store.close()

    asyncio.run(open_both())
    assert database.rows("SELECT count(*) FROM migrations WHERE name = $1", newest) == [(1,)]
    # A process started later, the migration done: nothing pending, no dump.
    late = _config(tmp_path / "c", database)
    assert before_migrating(late, allow_without_backup=False, now=NOW, say=None) is None
    assert not late.backups_folder.exists() or not list(late.backups_folder.iterdir())
