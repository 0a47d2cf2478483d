"""The tables of published flows: the current version per flow, the ratings families give,
and the typed answers the flows did not understand."""

from __future__ import annotations

__all__ = ["FLOW_CURRENT_MIGRATION", "MISSED_ANSWERS_MIGRATION", "RATINGS_MIGRATION"]


FLOW_CURRENT_MIGRATION = (
    """CREATE TABLE flow_current (
        flow_id TEXT PRIMARY KEY,
        version TEXT NOT NULL,
        set_at INTEGER NOT NULL,
        FOREIGN KEY (flow_id, version) REFERENCES flow_versions (flow_id, version)
    ) WITHOUT ROWID""",
)


RATINGS_MIGRATION = (
    """CREATE TABLE rating_counts (
        month TEXT NOT NULL CHECK (month GLOB '[0-9][0-9][0-9][0-9]-[01][0-9]'),
        category TEXT NOT NULL,
        urgency TEXT NOT NULL CHECK (urgency IN ('', 'biasa', 'segera', 'darurat')),
        rating INTEGER NOT NULL CHECK (rating BETWEEN 1 AND 5),
        count INTEGER NOT NULL CHECK (count > 0),
        PRIMARY KEY (month, category, urgency, rating)
    ) WITHOUT ROWID""",
)


MISSED_ANSWERS_MIGRATION = (
    # Per question and office day, how many typed answers were not understood ('miss')
    # or were a close call between two choices ('close'): plain counts, no one in them.
    """CREATE TABLE missed_counts (
        day TEXT NOT NULL CHECK (day GLOB '[0-9][0-9][0-9][0-9]-[01][0-9]-[0-3][0-9]'),
        flow_id TEXT NOT NULL,
        node_id TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('miss', 'close')),
        count INTEGER NOT NULL CHECK (count > 0),
        PRIMARY KEY (flow_id, node_id, day, kind)
    ) WITHOUT ROWID""",
    # The words of a consenting family's answer, scrubbed by the host, sealed under the
    # family's key and bound to the row; erased with the family, kept for a while only.
    """CREATE TABLE missed_words (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        rid BLOB NOT NULL,
        contact_id INTEGER NOT NULL REFERENCES contacts (id),
        flow_id TEXT NOT NULL,
        node_id TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('miss', 'close')),
        text_enc BLOB NOT NULL,
        at INTEGER NOT NULL
    )""",
    "CREATE INDEX missed_words_by_question ON missed_words (flow_id, node_id, at)",
    "CREATE INDEX missed_words_by_contact ON missed_words (contact_id)",
    "CREATE INDEX missed_words_by_age ON missed_words (at)",
)
