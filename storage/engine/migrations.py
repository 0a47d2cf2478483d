"""Named schema migrations, applied in order, each in its own transaction, recorded by name.

A migration is never edited once released: later changes are new entries at the
end of `MIGRATIONS`. Each statement runs separately (not `executescript`, which
would commit half-way), so a failing migration leaves the schema as it was.

What stays plain and what is sealed: codes, counts, timestamps (integer
microseconds since the epoch, UTC) and flags are plain so reports need no
decryption; every column ending in `_enc` is AES-GCM sealed (see `storage.crypto.aead`)
and every `*_bidx`/`transport_key` is a keyed HMAC. `rid` columns hold random row
keys that bind a row's ciphertexts to that row.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

import aiosqlite

from storage.booking.schema import BOOKING_MIGRATION
from storage.channels.schema import (
    KEYBOARDS_MIGRATION,
    OFFICE_WHATSAPP_MIGRATION,
    WEBCHAT_MIGRATION,
    WEBCHAT_STATEMENTS_MIGRATION,
    WHATSAPP_MIGRATION,
)
from storage.console.schema import (
    CONSOLE_MIGRATION,
    SECOND_FACTOR_MIGRATION,
    STAFF_MIGRATION,
)
from storage.console.throttle import LOGIN_THROTTLE_MIGRATION
from storage.errors import MigrationError
from storage.figures.schema import FIGURES_MIGRATION
from storage.flowhost.schema import (
    FLOW_CURRENT_MIGRATION,
    MISSED_ANSWERS_MIGRATION,
    RATINGS_MIGRATION,
)
from storage.handoff.referrals import REFERRALS_MIGRATION
from storage.handoff.schema import CRISIS_MIGRATION, DIGEST_MIGRATION, HANDOFF_MIGRATION
from storage.media.schema import MEDIA_MIGRATION, MEDIA_RELAYS_MIGRATION
from storage.monitoring.schema import SUPERVISOR_NOTICES_MIGRATION
from storage.offices.schema import OFFICES_MIGRATION
from storage.privacy.schema import PRIVACY_MIGRATION, QUICK_EXIT_INDEX_MIGRATION
from storage.safety.schema import SAFETY_LABELS_MIGRATION

__all__ = [
    "MIGRATIONS",
    "Migration",
    "MigrationStatus",
    "applied_migrations",
    "apply_migrations",
    "migration_status",
]


@dataclass(frozen=True, slots=True)
class Migration:
    name: str
    statements: tuple[str, ...]


_INITIAL = (
    """CREATE TABLE meta (
        name TEXT PRIMARY KEY,
        value TEXT NOT NULL
    ) WITHOUT ROWID""",
    """CREATE TABLE master_keys (
        key_id TEXT PRIMARY KEY,
        check_value BLOB NOT NULL,
        added_at INTEGER NOT NULL
    ) WITHOUT ROWID""",
    # Database-wide secrets (the blind-index key), wrapped by a master key.
    """CREATE TABLE wrapped_keys (
        purpose TEXT PRIMARY KEY,
        master_key_id TEXT NOT NULL REFERENCES master_keys (key_id),
        wrapped BLOB NOT NULL,
        created_at INTEGER NOT NULL
    )""",
    # AUTOINCREMENT: a contact id is never reused, so a wrapped key's row binding
    # (contact_keys.dek.<id>) can never be satisfied by a later contact.
    """CREATE TABLE contacts (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        rid BLOB NOT NULL,
        channel TEXT NOT NULL,
        address_bidx BLOB NOT NULL,
        address_enc BLOB NOT NULL,
        language TEXT,
        created_at INTEGER NOT NULL,
        last_seen_at INTEGER NOT NULL,
        unreachable INTEGER NOT NULL DEFAULT 0 CHECK (unreachable IN (0, 1)),
        UNIQUE (channel, address_bidx)
    )""",
    # One data key per contact; deleting this row later shreds the contact.
    """CREATE TABLE contact_keys (
        contact_id INTEGER PRIMARY KEY REFERENCES contacts (id),
        master_key_id TEXT NOT NULL REFERENCES master_keys (key_id),
        wrapped BLOB NOT NULL,
        created_at INTEGER NOT NULL
    )""",
    "CREATE INDEX contact_keys_by_master ON contact_keys (master_key_id)",
    """CREATE TABLE inbox (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        rid BLOB NOT NULL,
        channel TEXT NOT NULL,
        transport_key BLOB NOT NULL,
        transport_id_enc BLOB NOT NULL,
        contact_id INTEGER NOT NULL REFERENCES contacts (id),
        kind TEXT NOT NULL,
        text_enc BLOB NOT NULL,
        received_at INTEGER NOT NULL,
        processed_at INTEGER,
        UNIQUE (channel, transport_key)
    )""",
    "CREATE INDEX inbox_pending ON inbox (id) WHERE processed_at IS NULL",
    "CREATE INDEX inbox_by_contact ON inbox (contact_id, id)",
    """CREATE TRIGGER inbox_touches_contact AFTER INSERT ON inbox BEGIN
        UPDATE contacts SET last_seen_at = max(last_seen_at, NEW.received_at)
        WHERE id = NEW.contact_id;
    END""",
    """CREATE TABLE outbox (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        rid BLOB NOT NULL,
        contact_id INTEGER NOT NULL REFERENCES contacts (id),
        channel TEXT NOT NULL,
        priority INTEGER NOT NULL CHECK (priority BETWEEN 0 AND 9),
        due_at INTEGER NOT NULL,
        body_enc BLOB NOT NULL,
        status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
        attempts INTEGER NOT NULL DEFAULT 0,
        last_error TEXT,
        next_attempt_at INTEGER,
        provider_id TEXT,
        sent_at INTEGER,
        failed_at INTEGER,
        inbox_id INTEGER REFERENCES inbox (id),
        created_at INTEGER NOT NULL
    )""",
    "CREATE INDEX outbox_due ON outbox (priority, due_at, id) WHERE status = 'pending'",
    "CREATE INDEX outbox_by_contact ON outbox (contact_id, id)",
    """CREATE TABLE sessions (
        contact_id INTEGER PRIMARY KEY REFERENCES contacts (id),
        state_enc BLOB NOT NULL,
        updated_at INTEGER NOT NULL
    )""",
    """CREATE TABLE cases (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        code TEXT NOT NULL UNIQUE,
        contact_id INTEGER NOT NULL REFERENCES contacts (id),
        category TEXT NOT NULL,
        urgency TEXT NOT NULL CHECK (urgency IN ('biasa', 'segera', 'darurat')),
        status TEXT NOT NULL DEFAULT 'open',
        opened_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
    )""",
    # At most one open case per contact: new concerns raise it instead of multiplying.
    "CREATE UNIQUE INDEX cases_one_open ON cases (contact_id) WHERE status = 'open'",
    """CREATE TABLE flow_versions (
        flow_id TEXT NOT NULL,
        version TEXT NOT NULL,
        source TEXT NOT NULL,
        published_at INTEGER NOT NULL,
        PRIMARY KEY (flow_id, version)
    )""",
    """CREATE TABLE consents (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        contact_id INTEGER NOT NULL REFERENCES contacts (id),
        given INTEGER NOT NULL CHECK (given IN (0, 1)),
        version TEXT NOT NULL,
        at INTEGER NOT NULL
    )""",
    "CREATE INDEX consents_by_contact ON consents (contact_id, id)",
)

MIGRATIONS: tuple[Migration, ...] = (
    Migration("0001_initial", _INITIAL),
    Migration("0002_staff", STAFF_MIGRATION),
    Migration("0003_privacy", PRIVACY_MIGRATION),
    Migration("0004_booking", BOOKING_MIGRATION),
    Migration("0005_telegram", KEYBOARDS_MIGRATION),
    Migration("0006_whatsapp", WHATSAPP_MIGRATION),
    Migration("0007_handoff", HANDOFF_MIGRATION),
    Migration("0008_console", CONSOLE_MIGRATION),
    Migration("0009_flow_current", FLOW_CURRENT_MIGRATION),
    Migration("0010_ratings_webchat", RATINGS_MIGRATION + WEBCHAT_MIGRATION),
    Migration("0011_alert_digests", DIGEST_MIGRATION),
    Migration("0012_safety_labels", SAFETY_LABELS_MIGRATION),
    Migration("0013_missed_answers", MISSED_ANSWERS_MIGRATION),
    Migration("0014_quick_exit_index", QUICK_EXIT_INDEX_MIGRATION),
    Migration("0015_webchat_statements", WEBCHAT_STATEMENTS_MIGRATION),
    Migration("0016_console_second_factor", SECOND_FACTOR_MIGRATION),
    Migration("0017_case_crisis", CRISIS_MIGRATION),
    Migration("0018_supervisor_notices", SUPERVISOR_NOTICES_MIGRATION),
    Migration("0019_media", MEDIA_MIGRATION),
    Migration("0020_media_relays", MEDIA_RELAYS_MIGRATION),
    Migration("0021_offices", OFFICES_MIGRATION),
    Migration("0022_figures_out", REFERRALS_MIGRATION + FIGURES_MIGRATION),
    # Several processes on one database: shared sign-in counters (storage.console.throttle);
    # on PostgreSQL also the triggers that tell other processes of changes (storage.engine.pglive).
    Migration("0023_shared_by_processes", LOGIN_THROTTLE_MIGRATION),
    # Each office its own WhatsApp sender: its messages open the 24-hour window too.
    Migration("0024_office_channels", OFFICE_WHATSAPP_MIGRATION),
)


async def applied_migrations(conn: aiosqlite.Connection) -> list[tuple[str, int]]:
    """(name, applied_at) of every migration recorded, in the order applied."""
    rows = await conn.execute_fetchall("SELECT name, applied_at FROM migrations ORDER BY name")
    return [(str(row[0]), int(row[1])) for row in rows]


async def apply_migrations(
    conn: aiosqlite.Connection,
    now: int,
    migrations: tuple[Migration, ...] = MIGRATIONS,
) -> list[str]:
    """Applies what is missing, in order; returns the names applied now.

    `conn` must be in autocommit mode (isolation_level=None); each migration gets
    its own BEGIN IMMEDIATE, so two processes opening one new file cannot both
    apply it.
    """
    await conn.execute(
        "CREATE TABLE IF NOT EXISTS migrations ("
        " name TEXT PRIMARY KEY, applied_at INTEGER NOT NULL) WITHOUT ROWID"
    )
    known = [m.name for m in migrations]
    done: list[str] = []
    for migration in migrations:
        await conn.execute("BEGIN IMMEDIATE")
        try:
            applied = {name for name, _ in await applied_migrations(conn)}
            unknown = sorted(applied - set(known))
            if unknown:
                raise MigrationError(
                    f"the database has migration {unknown[0]}, which this code does not know;"
                    " it was written by a newer version"
                )
            if migration.name in applied:
                await conn.execute("ROLLBACK")
                continue
            for number, statement in enumerate(migration.statements, start=1):
                try:
                    await conn.execute(statement)
                except sqlite3.Error as exc:
                    raise MigrationError(
                        f"migration {migration.name} statement {number} failed: {exc}"
                    ) from exc
            await conn.execute(
                "INSERT INTO migrations (name, applied_at) VALUES (?, ?)", (migration.name, now)
            )
            await conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                await conn.execute("ROLLBACK")
            raise
        done.append(migration.name)
    return done


@dataclass(frozen=True, slots=True)
class MigrationStatus:
    """What a database file has applied, and what this code would still apply to it."""

    applied: tuple[tuple[str, int], ...]  # (name, applied_at in microseconds), in order
    pending: tuple[str, ...]
    unknown: tuple[str, ...]  # applied by a newer version of the code


def migration_status(path: Path) -> MigrationStatus:
    """Reads the migrations table of the database at `path` without writing anything."""
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5.0)
    except sqlite3.Error as exc:
        raise MigrationError(f"cannot open {path} to read its migrations: {exc}") from None
    try:
        conn.execute("PRAGMA query_only = ON")
        has_table = conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'migrations'"
        ).fetchone()
        rows = (
            conn.execute("SELECT name, applied_at FROM migrations ORDER BY name").fetchall()
            if has_table
            else []
        )
    except sqlite3.Error as exc:
        raise MigrationError(f"cannot read the migrations of {path}: {exc}") from None
    finally:
        conn.close()
    applied = tuple((str(r[0]), int(r[1])) for r in rows)
    names = {name for name, _ in applied}
    known = {m.name for m in MIGRATIONS}
    return MigrationStatus(
        applied=applied,
        pending=tuple(m.name for m in MIGRATIONS if m.name not in names),
        unknown=tuple(sorted(names - known)),
    )
