"""The supervisor notices table (migration 0017): which fault was told, when, how often.

One row per fault key (`case:K7F3Q2`, `channel:telegram`): the key holds a case
code or a channel name, never a person. A notice is sent at most once per fault
and again only after the reminder interval, across restarts; a fault that clears
is marked resolved, so the next episode is told afresh.
"""

from __future__ import annotations

__all__ = ["SUPERVISOR_NOTICES_MIGRATION"]

SUPERVISOR_NOTICES_MIGRATION = (
    """CREATE TABLE supervisor_notices (
        fault TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        first_at INTEGER NOT NULL,
        last_sent_at INTEGER,
        sent INTEGER NOT NULL DEFAULT 0,
        resolved_at INTEGER
    ) WITHOUT ROWID""",
)
