"""The PostgreSQL migrations: the SQLite ones, same names, same order, translated.

Each migration of `storage.engine.migrations.MIGRATIONS` is applied here under
its own name, its statements passed through `storage.engine.dialect.pg_ddl`,
except the few whose meaning PostgreSQL says better in its own words
(`_OWN`, keyed by the SQLite statement they replace):

- the booking rule "one counsellor, no two live bookings that overlap" is an
  EXCLUDE constraint (a GiST index over the counsellor and the time range) instead
  of the two triggers SQLite needs; it needs the `btree_gist` extension, which
  Debian's server package ships.

And a few statements are PostgreSQL's alone (`_PG_ONLY`): in
`0023_shared_by_processes`, the triggers that NOTIFY other processes of a change
(`storage.engine.pglive`).

A migration is applied in one transaction, under an advisory lock, so two
processes opening one new database cannot both apply it.
"""

from __future__ import annotations

import asyncpg

from storage.booking.schema import BOOKING_MIGRATION
from storage.engine.dialect import pg_ddl
from storage.engine.migrations import MIGRATIONS, Migration
from storage.engine.pglive import LIVE_CHANGES_PG
from storage.errors import MigrationError
from storage.handoff.referrals import REFERRALS_PG

__all__ = ["MIGRATION_LOCK", "PG_MIGRATIONS", "apply_pg_migrations", "pg_statements"]

MIGRATION_LOCK = 7243000  # an advisory lock id of our own

_OVERLAP_INSERT, _OVERLAP_UPDATE = (
    s for s in BOOKING_MIGRATION if s.lstrip().startswith("CREATE TRIGGER bookings_no_overlap")
)
_OWN: dict[str, tuple[str, ...]] = {
    _OVERLAP_INSERT: (
        "CREATE EXTENSION IF NOT EXISTS btree_gist",
        "ALTER TABLE bookings ADD CONSTRAINT bookings_no_overlap EXCLUDE USING gist"
        " (staff_id WITH =, int8range(starts_at, ends_at) WITH &&)"
        " WHERE (status IN ('held', 'confirmed'))",
    ),
    _OVERLAP_UPDATE: (),
    **REFERRALS_PG,  # the referral CHECK dropped in place, not by a rebuild
}


def pg_statements(migration: Migration) -> tuple[str, ...]:
    """A migration's statements as PostgreSQL runs them."""
    out: list[str] = []
    for statement in migration.statements:
        own = _OWN.get(statement)
        out.extend(own if own is not None else pg_ddl(statement))
    return tuple(out)


# What only PostgreSQL needs, by migration name (on SQLite these migrations are empty):
# one process per database there, so no other process is told of a change.
_PG_ONLY: dict[str, tuple[str, ...]] = {"0023_shared_by_processes": LIVE_CHANGES_PG}

PG_MIGRATIONS: tuple[Migration, ...] = tuple(
    Migration(m.name, pg_statements(m) + _PG_ONLY.get(m.name, ())) for m in MIGRATIONS
)


async def apply_pg_migrations(
    conn: asyncpg.Connection,
    now: int,
    migrations: tuple[Migration, ...] = PG_MIGRATIONS,
) -> list[str]:
    """Applies what is missing, in order; returns the names applied now."""
    known = {m.name for m in migrations}
    done: list[str] = []
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", MIGRATION_LOCK)
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS migrations"
            " (name TEXT PRIMARY KEY, applied_at BIGINT NOT NULL)"
        )
    for migration in migrations:
        async with conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1)", MIGRATION_LOCK)
            applied = {str(r[0]) for r in await conn.fetch("SELECT name FROM migrations")}
            unknown = sorted(applied - known)
            if unknown:
                raise MigrationError(
                    f"the database has migration {unknown[0]}, which this code does not know;"
                    " it was written by a newer version"
                )
            if migration.name in applied:
                continue
            for number, statement in enumerate(migration.statements, start=1):
                try:
                    await conn.execute(statement)
                except asyncpg.PostgresError as exc:
                    raise MigrationError(
                        f"migration {migration.name} statement {number} failed: {exc}"
                    ) from exc
            await conn.execute(
                "INSERT INTO migrations (name, applied_at) VALUES ($1, $2)", migration.name, now
            )
        done.append(migration.name)
    return done
