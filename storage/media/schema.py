"""The media table (migration 0018): a family's photo or voice note, sealed under their key.

A row is written with the message (`status = 'waiting'`, the transport's locator
sealed). Only while a counsellor holds the family's case is the file fetched:
the bytes are sealed under the contact's data key, bound to the row (`data_enc`),
and the locator is dropped. Otherwise the row goes with the turn's commit, so a
locator never outlives its message's turn. Rows go with their message and with
their contact (erasure and retention find them through the foreign keys), and the
bytes are unreadable in every copy once the contact's key is destroyed.
"""

from __future__ import annotations

from storage.media.records import MEDIA_STATUSES

__all__ = ["MEDIA_MIGRATION", "MEDIA_RELAYS_MIGRATION"]

_STATUSES = ", ".join(f"'{s}'" for s in MEDIA_STATUSES)

MEDIA_MIGRATION = (
    f"""CREATE TABLE media (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        rid BLOB NOT NULL,
        inbox_id INTEGER NOT NULL UNIQUE REFERENCES inbox (id) ON DELETE CASCADE,
        contact_id INTEGER NOT NULL REFERENCES contacts (id),
        kind TEXT NOT NULL,
        status TEXT NOT NULL DEFAULT 'waiting' CHECK (status IN ({_STATUSES})),
        locator_enc BLOB,
        declared_mime TEXT NOT NULL DEFAULT '',
        declared_size INTEGER,
        mime TEXT NOT NULL DEFAULT '',
        size INTEGER NOT NULL DEFAULT 0,
        data_enc BLOB,
        received_at INTEGER NOT NULL,
        settled_at INTEGER
    )""",
    "CREATE INDEX media_by_contact ON media (contact_id, id)",
)

# Migration 0020: the counsellor-side messages a family's files were relayed as
# (storage.media.relays), deleted by the privacy worker once the family is erased.
# The family link is SET NULL, so an erasure leaves the row, unlinked, for the worker.
MEDIA_RELAYS_MIGRATION = (
    """CREATE TABLE media_relays (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        rid BLOB NOT NULL,
        family_contact_id INTEGER REFERENCES contacts (id) ON DELETE SET NULL,
        staff_contact_id INTEGER NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
        channel TEXT NOT NULL,
        sent_enc BLOB NOT NULL,
        sent_at INTEGER NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0
    )""",
    "CREATE INDEX media_relays_by_family ON media_relays (family_contact_id)",
)
