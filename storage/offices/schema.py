"""The offices table (migration 0021) and the `office_id` of what belongs to one office.

One office on SQLite stays as it was: the migration creates the default office
(id 1, code `utama`, an empty name that means "the configured `[office] name`"),
and every column added here defaults to 1, so code that never names an office
writes into the default one.

A row belongs to an office either directly or through the row it names:

- `staff`, directly; through `staff_id`: `console_sessions`, `staff_credentials`,
  `roster`, `booking_hours`, `bookings`, `booking_feeds`, `alert_digests`.
- `contacts` (the office a family was routed to), directly; through `contact_id`:
  `inbox`, `outbox`, `sessions`, `consents`, `media`, `webchat_*`, `whatsapp_*`,
  `missed_words`, `safety_labels`.
- `cases`, directly (copied from the contact when the case opens, so a case stays
  where it was opened); through `case_id`: `case_events`, `case_notes`,
  `case_referrals`, `case_alerts`, `staff_focus`.
- `erased_cases`, `booking_closures`, `rating_counts`, `missed_counts`,
  `flow_current`: counts, closures and published flows are per office; their
  keys now start with the office.

The added columns carry no REFERENCES clause: SQLite cannot add a column that
references another table with a default other than NULL. `storage.offices.repo`
only ever writes an office id it has read from `offices`, and offices are never
deleted (`archived_at` retires one). The tables keyed by office are rebuilt
(create, copy, drop, rename), which both backends run as written.
"""

from __future__ import annotations

__all__ = ["DEFAULT_OFFICE_CODE", "DEFAULT_OFFICE_ID", "OFFICES_MIGRATION"]

DEFAULT_OFFICE_ID = 1
DEFAULT_OFFICE_CODE = "utama"

_DAY = "'[0-9][0-9][0-9][0-9]-[01][0-9]-[0-3][0-9]'"
_MONTH = "'[0-9][0-9][0-9][0-9]-[01][0-9]'"


def _office_column(table: str) -> str:
    return f"ALTER TABLE {table} ADD COLUMN office_id INTEGER NOT NULL DEFAULT 1"


OFFICES_MIGRATION = (
    # `code` is the slug a deep link names (`/start ambon`) and `lk3 office` takes;
    # the repository checks its full form, the CHECK only its first letter.
    """CREATE TABLE offices (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        code TEXT NOT NULL UNIQUE CHECK (code GLOB '[a-z]*' AND length(code) <= 32),
        name TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        archived_at INTEGER
    )""",
    # The first row of a new table: id 1 on both backends (no explicit id, so
    # PostgreSQL's identity sequence stays in step).
    "INSERT INTO offices (code, name, created_at) VALUES ('utama', '', 0)",
    _office_column("staff"),
    _office_column("contacts"),
    _office_column("cases"),
    _office_column("erased_cases"),
    "CREATE INDEX staff_by_office ON staff (office_id)",
    "CREATE INDEX contacts_by_office ON contacts (office_id, created_at)",
    "CREATE INDEX cases_by_office ON cases (office_id, status, opened_at)",
    "CREATE INDEX erased_cases_by_office ON erased_cases (office_id, opened_at)",
    # Closures: one office closing a day says nothing of another.
    """CREATE TABLE booking_closures_by_office (
        office_id INTEGER NOT NULL DEFAULT 1,
        day TEXT NOT NULL,
        reason TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (office_id, day)
    ) WITHOUT ROWID""",
    "INSERT INTO booking_closures_by_office (office_id, day, reason, created_at)"
    " SELECT 1, day, reason, created_at FROM booking_closures",
    "DROP TABLE booking_closures",
    "ALTER TABLE booking_closures_by_office RENAME TO booking_closures",
    # Ratings: counted per office.
    f"""CREATE TABLE rating_counts_by_office (
        office_id INTEGER NOT NULL DEFAULT 1,
        month TEXT NOT NULL CHECK (month GLOB {_MONTH}),
        category TEXT NOT NULL,
        urgency TEXT NOT NULL CHECK (urgency IN ('', 'biasa', 'segera', 'darurat')),
        rating INTEGER NOT NULL CHECK (rating BETWEEN 1 AND 5),
        count INTEGER NOT NULL CHECK (count > 0),
        PRIMARY KEY (office_id, month, category, urgency, rating)
    ) WITHOUT ROWID""",
    "INSERT INTO rating_counts_by_office (office_id, month, category, urgency, rating, count)"
    " SELECT 1, month, category, urgency, rating, count FROM rating_counts",
    "DROP TABLE rating_counts",
    "ALTER TABLE rating_counts_by_office RENAME TO rating_counts",
    # Missed answers: each office its own flows, so its own misses.
    f"""CREATE TABLE missed_counts_by_office (
        office_id INTEGER NOT NULL DEFAULT 1,
        day TEXT NOT NULL CHECK (day GLOB {_DAY}),
        flow_id TEXT NOT NULL,
        node_id TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('miss', 'close')),
        count INTEGER NOT NULL CHECK (count > 0),
        PRIMARY KEY (office_id, flow_id, node_id, day, kind)
    ) WITHOUT ROWID""",
    "INSERT INTO missed_counts_by_office (office_id, day, flow_id, node_id, kind, count)"
    " SELECT 1, day, flow_id, node_id, kind, count FROM missed_counts",
    "DROP TABLE missed_counts",
    "ALTER TABLE missed_counts_by_office RENAME TO missed_counts",
    # Published flows: versions are shared text (flow_versions), which one is
    # current is each office's choice.
    """CREATE TABLE flow_current_by_office (
        office_id INTEGER NOT NULL DEFAULT 1,
        flow_id TEXT NOT NULL,
        version TEXT NOT NULL,
        set_at INTEGER NOT NULL,
        PRIMARY KEY (office_id, flow_id),
        FOREIGN KEY (flow_id, version) REFERENCES flow_versions (flow_id, version)
    ) WITHOUT ROWID""",
    "INSERT INTO flow_current_by_office (office_id, flow_id, version, set_at)"
    " SELECT 1, flow_id, version, set_at FROM flow_current",
    "DROP TABLE flow_current",
    "ALTER TABLE flow_current_by_office RENAME TO flow_current",
)
