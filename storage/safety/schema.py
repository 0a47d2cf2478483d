"""The crisis check's own table: the labels counsellors give messages (migration 0012)."""

from __future__ import annotations

__all__ = ["SAFETY_LABELS_MIGRATION"]


SAFETY_LABELS_MIGRATION = (
    """CREATE TABLE safety_labels (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        rid BLOB NOT NULL,
        inbox_id INTEGER NOT NULL UNIQUE REFERENCES inbox (id) ON DELETE CASCADE,
        contact_id INTEGER NOT NULL REFERENCES contacts (id),
        label TEXT NOT NULL CHECK (label IN ('urgent', 'check', 'none')),
        level TEXT NOT NULL CHECK (level IN ('urgent', 'check', 'none')),
        staff_id INTEGER REFERENCES staff (id),
        text_enc BLOB NOT NULL,
        labelled_at INTEGER NOT NULL
    )""",
    "CREATE INDEX safety_labels_by_contact ON safety_labels (contact_id, inbox_id)",
)
