"""One before-migration dump when several processes start together after an upgrade.

Each `lk3 run` on a PostgreSQL deployment has its own data folder, so its own backups
folder: the "a fresh dated copy exists" check of one process cannot see the other's
dump, and processes started together after an upgrade each wrote one (only time lost,
but a province's dump takes seconds to minutes). Here the check and the dump run under
the migration's own advisory lock (`storage.engine.pgschema`, taken as a session lock
on a connection of this module's), and the database records the dump
(`meta.before_migration_backup`: the newest migration it precedes, when, where; a path
and a time, nothing personal). The first process dumps; another that was waiting for
the lock finds the record for the same migrations and goes on without one, and one that
comes while a migration runs waits for it and finds nothing pending. The record is
written after the dump, so a dump never holds it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from storage.engine.pgschema import MIGRATION_LOCK
from storage.engine.pgtools import blocking, connect

__all__ = ["RECORD", "PreMigration", "dump_once"]

RECORD = "before_migration_backup"


@dataclass(frozen=True, slots=True)
class PreMigration:
    """What happened: `dumped` here, or `by_another` (its `path`), or nothing `pending`."""

    pending: bool
    dumped: bool
    path: str = ""


def dump_once(
    url: str,
    target: str,
    now: datetime,
    fresh: timedelta,
    dump: Callable[[], str],
) -> PreMigration:
    """Runs `dump` (which returns the dump's path) unless migration `target` is applied or
    another process recorded a dump before it within `fresh`; under the migration lock."""
    return blocking(_dump_once(url, target, now, fresh, dump))


async def _dump_once(
    url: str, target: str, now: datetime, fresh: timedelta, dump: Callable[[], str]
) -> PreMigration:
    conn = await connect(url)
    try:
        # Waits while another process dumps or migrates (the migrations take this lock).
        await conn.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK)
        applied = await conn.fetchval("SELECT count(*) FROM migrations WHERE name = $1", target)
        if applied:
            return PreMigration(pending=False, dumped=False)
        recorded = await conn.fetchval("SELECT value FROM meta WHERE name = $1", RECORD)
        earlier = _recorded(recorded, target, now, fresh)
        if earlier is not None:
            return PreMigration(pending=True, dumped=False, path=earlier)
        path = await asyncio.to_thread(dump)
        await conn.execute(
            "INSERT INTO meta (name, value) VALUES ($1, $2)"
            " ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            RECORD,
            f"{target}|{now.isoformat()}|{path}",
        )
        return PreMigration(pending=True, dumped=True, path=path)
    finally:
        conn.terminate()  # the session lock goes with the connection


def _recorded(value: object, target: str, now: datetime, fresh: timedelta) -> str | None:
    """The path of a dump recorded before `target` within `fresh` of `now`, else None."""
    if not isinstance(value, str):
        return None
    name, _, rest = value.partition("|")
    taken, _, path = rest.partition("|")
    try:
        when = datetime.fromisoformat(taken)
    except ValueError:
        return None
    if name != target or not timedelta(0) <= now - when <= fresh:
        return None
    return path
