"""The tables of published flows: the current version per flow, and the ratings families give."""

from __future__ import annotations

__all__ = ["FLOW_CURRENT_MIGRATION", "RATINGS_MIGRATION"]


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
