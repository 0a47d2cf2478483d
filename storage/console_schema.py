"""The console tables (migration 0008): staff passwords, second factors and web sessions.

Nothing here is a family's data. The password is kept only as a memory-hard
hash; the TOTP secret is sealed (`totp_enc`); a session id is kept only as its
SHA-256, so a copy of the database cannot be replayed as a login.
"""

from __future__ import annotations

__all__ = ["CONSOLE_MIGRATION"]

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
