"""Named migrations: applied once, in order, atomically, and recorded."""

from __future__ import annotations

from pathlib import Path

import pytest
from storage_support import T0, open_store, raw_query, raw_update
from support import Clock

from storage.crypto.keys import KeyRing
from storage.engine.clock import to_micros
from storage.engine.db import connect
from storage.engine.migrations import MIGRATIONS, Migration, apply_migrations
from storage.errors import MigrationError


@pytest.mark.sqlite_only("the test server copies a template database migrated once, at time 0")
async def test_new_database_records_every_migration_with_its_time(
    db_path: Path, keyring: KeyRing, clock: Clock
) -> None:
    await (await open_store(db_path, keyring, clock=clock)).close()
    recorded = raw_query(db_path, "SELECT name, applied_at FROM migrations ORDER BY name")
    assert recorded == [(m.name, to_micros(T0, "t0")) for m in MIGRATIONS]
    assert recorded[0][0] == "0001_initial"


async def test_reopening_applies_nothing_again(
    db_path: Path, keyring: KeyRing, clock: Clock
) -> None:
    await (await open_store(db_path, keyring, clock=clock)).close()
    before = raw_query(db_path, "SELECT name, applied_at FROM migrations ORDER BY name")
    clock.advance(3600)
    await (await open_store(db_path, keyring, clock=clock)).close()
    assert raw_query(db_path, "SELECT name, applied_at FROM migrations ORDER BY name") == before


async def test_database_from_a_newer_version_is_refused(
    db_path: Path, keyring: KeyRing, clock: Clock
) -> None:
    await (await open_store(db_path, keyring, clock=clock)).close()
    raw_update(db_path, "INSERT INTO migrations VALUES ('0099_future', 0)")
    with pytest.raises(MigrationError, match="has migration 0099_future, which this code"):
        await open_store(db_path, keyring, clock=clock)


async def test_failing_migration_leaves_no_trace(db_path: Path) -> None:
    broken = (
        Migration("0001_first", ("CREATE TABLE first (id INTEGER PRIMARY KEY)",)),
        Migration(
            "0002_broken",
            ("CREATE TABLE second (id INTEGER PRIMARY KEY)", "CREATE TABLE first (id INTEGER)"),
        ),
    )
    conn = await connect(db_path, writer=True)
    try:
        with pytest.raises(MigrationError, match="migration 0002_broken statement 2 failed"):
            await apply_migrations(conn, 0, broken)
    finally:
        await conn.close()
    tables = {row[0] for row in raw_query(db_path, "SELECT name FROM sqlite_master")}
    assert "first" in tables
    assert "second" not in tables
    assert raw_query(db_path, "SELECT name FROM migrations") == [("0001_first",)]


@pytest.mark.sqlite_only("WAL mode")
async def test_database_is_in_wal_mode(db_path: Path, keyring: KeyRing, clock: Clock) -> None:
    await (await open_store(db_path, keyring, clock=clock)).close()
    assert raw_query(db_path, "PRAGMA journal_mode") == [("wal",)]
