"""Offices: one default office from the migration, more added by code, and what belongs to each."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import asyncpg
import pytest
from storage_support import T0, message, open_store, raw_query
from support import Clock, pgserver

from storage.crypto.keys import KeyRing
from storage.engine.migrations import MIGRATIONS, apply_migrations
from storage.engine.pgschema import PG_MIGRATIONS, apply_pg_migrations
from storage.errors import ConstraintError, InvalidRecordError, NotFoundError
from storage.flowhost.missed import NewMiss
from storage.flowhost.ratings import NewRating
from storage.offices.repo import DEFAULT_OFFICE_ID
from storage.records import TurnWrite
from storage.store import Store


async def test_a_new_database_has_the_default_office_and_nothing_else(store: Store) -> None:
    offices = await store.offices.list()
    assert [(o.id, o.code, o.name, o.is_default) for o in offices] == [(1, "utama", "", True)]
    assert DEFAULT_OFFICE_ID == 1


async def test_an_office_is_added_by_code_and_found_again(store: Store) -> None:
    ambon = await store.offices.add("Ambon", "  LK3 Kota   Ambon ", T0)
    assert (ambon.code, ambon.name, ambon.is_default) == ("ambon", "LK3 Kota Ambon", False)
    assert await store.offices.by_code(" AMBON ") == ambon
    assert await store.offices.get(ambon.id) == ambon
    assert [o.code for o in await store.offices.list()] == ["utama", "ambon"]


async def test_an_office_code_is_given_once(store: Store) -> None:
    await store.offices.add("ambon", "LK3 Kota Ambon", T0)
    with pytest.raises(ConstraintError, match="'ambon' already exists") as refused:
        await store.offices.add("Ambon", "Another", T0)
    assert refused.value.code == "office_code_taken"


@pytest.mark.parametrize("code", ["a", "1ambon", "kota ambon", "ambon!", "x" * 33, ""])
async def test_an_office_code_is_a_short_slug(store: Store, code: str) -> None:
    with pytest.raises(InvalidRecordError, match="2-32 characters") as refused:
        await store.offices.add(code, "Kantor", T0)
    assert refused.value.code == "office_code_form"


async def test_an_office_needs_a_name(store: Store) -> None:
    with pytest.raises(InvalidRecordError, match="needs a name"):
        await store.offices.add("tual", "   ", T0)


async def test_staff_and_families_start_in_the_default_office_and_can_be_moved(
    store: Store,
) -> None:
    tual = await store.offices.add("tual", "LK3 Kota Tual", T0)
    sari = await store.staff.add("sari", "Sari", ["counsellor"], T0)
    contact, _ = await store.turns.receive("telegram", "7001", message("m1"))
    assert await store.offices.office_of_staff(sari.id) == DEFAULT_OFFICE_ID
    assert await store.offices.office_of_contact(contact.id) == DEFAULT_OFFICE_ID
    await store.offices.assign_staff(sari.id, tual.id)
    await store.offices.route_contact(contact.id, tual.id)
    assert await store.offices.office_of_staff(sari.id) == tual.id
    assert await store.offices.office_of_contact(contact.id) == tual.id
    with pytest.raises(NotFoundError, match="no office with id 99"):
        await store.offices.assign_staff(sari.id, 99)
    with pytest.raises(NotFoundError, match="no contact with id 999"):
        await store.offices.route_contact(999, tual.id)


async def test_the_office_of_a_closure_is_its_own(store: Store) -> None:
    """Two offices may close the same day; the default office's closure keeps its old writes."""
    from datetime import date

    await store.bookings.add_closure(date(2026, 12, 25), "Natal", T0)
    assert raw_query(store.path, "SELECT office_id, day FROM booking_closures") == [
        (1, "2026-12-25")
    ]


def _seed_0020(conn: sqlite3.Connection) -> None:
    conn.execute(
        "INSERT INTO contacts (rid, channel, address_bidx, address_enc, created_at, last_seen_at)"
        " VALUES (x'00', 'telegram', x'01', x'02', 5, 5)"
    )
    conn.execute(
        "INSERT INTO staff (username, display_name, roles, created_at, updated_at)"
        " VALUES ('sari', 'Sari', 'counsellor', 5, 5)"
    )
    conn.execute(
        "INSERT INTO cases (code, contact_id, category, urgency, opened_at, updated_at)"
        " VALUES ('K-1', 1, 'lainnya', 'biasa', 5, 5)"
    )
    conn.execute("INSERT INTO booking_closures VALUES ('2026-12-25', 'Natal', 5)")
    conn.execute("INSERT INTO rating_counts VALUES ('2026-11', 'lainnya', 'biasa', 5, 3)")
    conn.execute("INSERT INTO missed_counts VALUES ('2026-11-02', 'welcome', 'menu', 'miss', 2)")
    conn.execute("INSERT INTO flow_versions VALUES ('welcome', 'v1', 'src', 5)")
    conn.execute("INSERT INTO flow_current VALUES ('welcome', 'v1', 5)")


_BACKFILLED = {
    "SELECT id, code FROM offices": [(1, "utama")],
    "SELECT office_id FROM contacts": [(1,)],
    "SELECT office_id FROM staff": [(1,)],
    "SELECT office_id, code FROM cases": [(1, "K-1")],
    "SELECT office_id, day, reason FROM booking_closures": [(1, "2026-12-25", "Natal")],
    "SELECT office_id, month, count FROM rating_counts": [(1, "2026-11", 3)],
    "SELECT office_id, flow_id, node_id, count FROM missed_counts": [(1, "welcome", "menu", 2)],
    "SELECT office_id, flow_id, version FROM flow_current": [(1, "welcome", "v1")],
}


@pytest.mark.sqlite_only("applies the migrations one by one to a file")
async def test_migration_0021_puts_everything_in_the_default_office_on_sqlite(
    db_path: Path,
) -> None:
    from storage.engine.db import connect

    before = tuple(m for m in MIGRATIONS if m.name < "0021")
    conn = await connect(db_path, writer=True)
    try:
        await apply_migrations(conn, 0, before)
    finally:
        await conn.close()
    with closing(sqlite3.connect(db_path)) as raw, raw:
        _seed_0020(raw)
    conn = await connect(db_path, writer=True)
    try:
        assert "0021_offices" in await apply_migrations(conn, 0)
    finally:
        await conn.close()
    with closing(sqlite3.connect(db_path)) as raw:
        for sql, rows in _BACKFILLED.items():
            assert [tuple(r) for r in raw.execute(sql).fetchall()] == rows, sql


async def test_migration_0021_puts_everything_in_the_default_office_on_postgres(
    db_path: Path,
) -> None:
    server = pgserver.ACTIVE
    if server is None:
        pytest.skip("PostgreSQL only (--db postgres): a blank database, migrated in two steps")
    name = server.name_for(db_path)
    admin = await asyncpg.connect(server.url("postgres"))
    try:
        await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        await admin.execute(f"CREATE DATABASE {name}")
    finally:
        await admin.close()
    server.made.append(name)
    conn = await asyncpg.connect(server.url(name))
    try:
        await apply_pg_migrations(conn, 0, tuple(m for m in PG_MIGRATIONS if m.name < "0021"))
        async with conn.transaction():
            await conn.execute("SET LOCAL session_replication_role = replica")
            for statement in _SEED_PG:
                await conn.execute(statement)
        assert "0021_offices" in await apply_pg_migrations(conn, 0)
        for sql, rows in _BACKFILLED.items():
            assert [tuple(r) for r in await conn.fetch(sql)] == rows, sql
        # The identity sequence moved past the default office: the next one is 2.
        got = await conn.fetchval(
            "INSERT INTO offices (code, name, created_at) VALUES ('tual', 'Tual', 1) RETURNING id"
        )
        assert got == 2
    finally:
        await conn.close()


_SEED_PG = (
    "INSERT INTO contacts (rid, channel, address_bidx, address_enc, created_at, last_seen_at)"
    " VALUES ('\\x00', 'telegram', '\\x01', '\\x02', 5, 5)",
    "INSERT INTO staff (username, display_name, roles, created_at, updated_at)"
    " VALUES ('sari', 'Sari', 'counsellor', 5, 5)",
    "INSERT INTO cases (code, contact_id, category, urgency, opened_at, updated_at)"
    " VALUES ('K-1', 1, 'lainnya', 'biasa', 5, 5)",
    "INSERT INTO booking_closures VALUES ('2026-12-25', 'Natal', 5)",
    "INSERT INTO rating_counts VALUES ('2026-11', 'lainnya', 'biasa', 5, 3)",
    "INSERT INTO missed_counts VALUES ('2026-11-02', 'welcome', 'menu', 'miss', 2)",
    "INSERT INTO flow_versions VALUES ('welcome', 'v1', 'src', 5)",
    "INSERT INTO flow_current VALUES ('welcome', 'v1', 5)",
)


async def test_a_case_opens_in_the_office_of_its_family(
    db_path: Path, keyring: KeyRing, clock: Clock
) -> None:
    store = await open_store(db_path, keyring, clock=clock)
    try:
        tual = await store.offices.add("tual", "LK3 Kota Tual", T0)
        contact, _ = await store.turns.receive("telegram", "7002", message("m2"))
        await store.offices.route_contact(contact.id, tual.id)
    finally:
        await store.close()
    # (a case opened through a turn is covered by the console tests; here the column)
    assert raw_query(db_path, "SELECT office_id FROM contacts WHERE id = ?", (contact.id,)) == [
        (tual.id,)
    ]


async def test_each_office_points_at_its_own_current_flow_versions(store: Store) -> None:
    """Published sources are shared and immutable; which one is current is each office's."""
    tual = await store.offices.add("tual", "LK3 Kota Tual", T0)
    await store.flows.publish("welcome", "v1", "source one", T0)
    await store.flows.publish("welcome", "v2", "source two", T0)
    await store.flow_current.set_current("welcome", "v1", T0)
    await store.flow_current.set_current("welcome", "v2", T0, office_id=tual.id)
    assert await store.flow_current.current() == {"welcome": "v1"}
    assert await store.flow_current.current(office_id=tual.id) == {"welcome": "v2"}


async def test_counts_ratings_and_misses_are_each_offices(store: Store) -> None:
    """A family's rating and the answers the flows missed count in the family's office."""
    tual = await store.offices.add("tual", "LK3 Kota Tual", T0)
    counter = iter(range(100))

    async def turn_of(address: str, office_id: int | None = None) -> None:
        contact, inbox_id = await store.turns.receive(
            "telegram", address, message(f"{address}-{next(counter)}")
        )
        assert inbox_id is not None
        if office_id is not None:
            await store.offices.route_contact(contact.id, office_id)
        await store.turns.commit_turn(
            TurnWrite(
                inbox_id,
                contact.id,
                "{}",
                (),
                T0,
                rating=NewRating("2026-03", 5, "kdrt", "biasa"),
                missed=(NewMiss("2026-03-02", "welcome", "menu"),),
            )
        )

    await turn_of("7102", tual.id)
    await turn_of("7102")
    await turn_of("7101")
    assert (await store.ratings.month("2026-03", office_id=tual.id)).total == 2
    assert (await store.ratings.month("2026-03", office_id=1)).total == 1
    assert (await store.ratings.month("2026-03")).total == 3  # the province's
    tual_misses = await store.missed.counts("welcome", "2026-03-01", office_id=tual.id)
    assert tual_misses["menu"].misses == 2
    assert (await store.missed.counts("welcome", "2026-03-01"))["menu"].misses == 1


async def test_an_archived_office_takes_no_new_family_and_keeps_what_it_has(
    store: Store,
) -> None:
    tual = await store.offices.add("tual", "LK3 Kota Tual", T0)
    sari = await store.staff.add("sari", "Sari", ["counsellor"], T0, office_id=tual.id)
    known, _ = await store.turns.receive("telegram", "7001", message("m1"))
    await store.offices.route_contact(known.id, tual.id)
    archived = await store.offices.archive(tual.id, T0)
    assert archived.archived and archived.code == "tual"
    assert (await store.offices.archive(tual.id, T0)).archived  # twice: as once
    assert [o.code for o in await store.offices.list()] == ["utama"]
    assert [o.code for o in await store.offices.list(include_archived=True)] == ["utama", "tual"]
    assert list(await store.flow_current.by_office()) == [1, tual.id]  # followed still
    newcomer, _ = await store.turns.receive("telegram", "7002", message("m2"))
    with pytest.raises(InvalidRecordError) as refused:
        await store.offices.route_contact(newcomer.id, tual.id)
    assert refused.value.code == "office_archived"
    assert await store.offices.office_of_contact(newcomer.id) == DEFAULT_OFFICE_ID
    # What it had stays its own: its family, its staff.
    assert await store.offices.office_of_contact(known.id) == tual.id
    assert await store.offices.office_of_staff(sari.id) == tual.id
    renamed = await store.offices.rename(tual.id, "LK3 Kota Tual (lama)")
    assert renamed.name == "LK3 Kota Tual (lama)" and renamed.archived


async def test_the_default_office_is_never_archived(store: Store) -> None:
    with pytest.raises(InvalidRecordError) as refused:
        await store.offices.archive(DEFAULT_OFFICE_ID, T0)
    assert refused.value.code == "office_default_archive"
    with pytest.raises(NotFoundError):
        await store.offices.archive(99, T0)
