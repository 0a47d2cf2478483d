"""The staff table (migration 0002): who works the cases, and their linked chat."""

from __future__ import annotations

__all__ = ["STAFF_MIGRATION"]

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
