"""The console tables: staff (migration 0002), and passwords, second factors, web sessions (0008),
and the second step's own failure counters (0016).

Nothing here is a family's data. The password is kept only as a memory-hard
hash; the TOTP secret is sealed (`totp_enc`); a session id is kept only as its
SHA-256, so a copy of the database cannot be replayed as a login.
"""

from __future__ import annotations

__all__ = ["CONSOLE_MIGRATION", "SECOND_FACTOR_MIGRATION", "STAFF_MIGRATION"]

CONSOLE_MIGRATION = (
    """CREATE TABLE staff_credentials (
        staff_id INTEGER PRIMARY KEY REFERENCES staff (id),
        password_hash TEXT,
        totp_enc BLOB,
        totp_confirmed INTEGER NOT NULL DEFAULT 0 CHECK (totp_confirmed IN (0, 1)),
        totp_last_step INTEGER NOT NULL DEFAULT 0,
        failed_logins INTEGER NOT NULL DEFAULT 0,
        locked_until INTEGER NOT NULL DEFAULT 0,
        updated_at INTEGER NOT NULL
    )""",
    """CREATE TABLE console_sessions (
        id_hash BLOB PRIMARY KEY,
        staff_id INTEGER NOT NULL REFERENCES staff (id),
        stage TEXT NOT NULL CHECK (stage IN ('totp', 'enrol', 'full')),
        created_at INTEGER NOT NULL,
        last_seen_at INTEGER NOT NULL
    ) WITHOUT ROWID""",
    "CREATE INDEX console_sessions_by_staff ON console_sessions (staff_id)",
)

# Wrong second-factor codes count apart from wrong passwords (a guesser who knows the
# password must not lock the real user out at the password step): per account, with
# its own short, growing lock, and per half-signed-in session.
SECOND_FACTOR_MIGRATION = (
    "ALTER TABLE staff_credentials ADD COLUMN totp_failures INTEGER NOT NULL DEFAULT 0",
    "ALTER TABLE staff_credentials ADD COLUMN totp_locked_until INTEGER NOT NULL DEFAULT 0",
    "ALTER TABLE console_sessions ADD COLUMN failures INTEGER NOT NULL DEFAULT 0",
)


STAFF_MIGRATION = (
    """CREATE TABLE staff (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        username TEXT NOT NULL UNIQUE,
        display_name TEXT NOT NULL,
        roles TEXT NOT NULL,
        active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
        contact_id INTEGER UNIQUE REFERENCES contacts (id) ON DELETE SET NULL,
        link_code_bidx BLOB UNIQUE,
        link_code_expires_at INTEGER,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
    )""",
)
