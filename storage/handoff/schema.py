"""The hand-off tables (migration 0007): who holds a case, what happened to it and when.

Cases gain an owner and the times that escalation reads (last alert, widened,
family reminded), so alerts survive restarts: nothing lives in memory timers.
A case is live while `open` (waiting in the queue) or `taken` (a counsellor has
it); at most one live case per contact. `case_events` records every change with
its time and a plain actor code (`staff:<id>`, `system`), for the figures;
`source` makes a relay recorded once even when its message is processed twice.
Notes are sealed under the family contact's data key, bound to their row, so
they go when the family's data does; referrals and outcomes are plain codes.
"""

from __future__ import annotations

__all__ = [
    "CASE_EVENTS",
    "CRISIS_MIGRATION",
    "DIGEST_MIGRATION",
    "HANDOFF_MIGRATION",
    "OUTCOMES",
    "REFERRALS",
]

CASE_EVENTS = (
    "opened",
    "raised",
    "alerted",
    "realerted",
    "widened",
    "taken",
    "relayed_in",
    "relayed_out",
    "released",
    "noted",
    "referred",
    "closed",
    "family_reminded",
)
# The codes migration 0007 checked; today they are rows (storage.handoff.referrals).
REFERRALS = (
    "uptd_ppa",
    "polisi",
    "rumah_sakit",
    "lbh",
    "pengacara",
    "puskesmas",
    "dinsos",
    "lainnya",
)
OUTCOMES = ("selesai", "dirujuk", "aman", "tidak_terjangkau", "salah_sambung", "lainnya")

_EVENTS = ", ".join(f"'{e}'" for e in CASE_EVENTS)
_REFERRALS = ", ".join(f"'{r}'" for r in REFERRALS)

HANDOFF_MIGRATION = (
    "ALTER TABLE cases ADD COLUMN owner_staff_id INTEGER REFERENCES staff (id)",
    "ALTER TABLE cases ADD COLUMN waiting_since INTEGER",
    "ALTER TABLE cases ADD COLUMN taken_at INTEGER",
    "ALTER TABLE cases ADD COLUMN closed_at INTEGER",
    "ALTER TABLE cases ADD COLUMN outcome TEXT",
    "ALTER TABLE cases ADD COLUMN alerted_at INTEGER",
    "ALTER TABLE cases ADD COLUMN alerts INTEGER NOT NULL DEFAULT 0",
    "ALTER TABLE cases ADD COLUMN widened_at INTEGER",
    "ALTER TABLE cases ADD COLUMN family_reminded_at INTEGER",
    "ALTER TABLE cases ADD COLUMN first_reply_at INTEGER",
    # An urgent family message during a hand-off that the owner has not answered yet.
    "ALTER TABLE cases ADD COLUMN urgent_unanswered_at INTEGER",
    "UPDATE cases SET waiting_since = opened_at",
    "DROP INDEX cases_one_open",
    "CREATE UNIQUE INDEX cases_one_live ON cases (contact_id) WHERE status IN ('open', 'taken')",
    "CREATE INDEX cases_live ON cases (status, urgency, waiting_since)",
    # Replies routed by `reply_to` (a counsellor replying to a relayed message).
    "ALTER TABLE inbox ADD COLUMN reply_to TEXT",
    f"""CREATE TABLE case_events (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        case_id INTEGER NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
        at INTEGER NOT NULL,
        event TEXT NOT NULL CHECK (event IN ({_EVENTS})),
        actor TEXT NOT NULL,
        source TEXT
    )""",
    "CREATE INDEX case_events_by_case ON case_events (case_id, id)",
    "CREATE INDEX case_events_by_event ON case_events (event, at)",
    "CREATE UNIQUE INDEX case_events_once ON case_events (case_id, event, source)"
    " WHERE source IS NOT NULL",
    """CREATE TABLE case_notes (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        case_id INTEGER NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
        rid BLOB NOT NULL,
        staff_id INTEGER REFERENCES staff (id),
        note_enc BLOB NOT NULL,
        at INTEGER NOT NULL
    )""",
    "CREATE INDEX case_notes_by_case ON case_notes (case_id, id)",
    f"""CREATE TABLE case_referrals (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        case_id INTEGER NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
        service TEXT NOT NULL CHECK (service IN ({_REFERRALS})),
        staff_id INTEGER REFERENCES staff (id),
        at INTEGER NOT NULL
    )""",
    "CREATE INDEX case_referrals_by_case ON case_referrals (case_id, id)",
    # Each alert's outbox row: its provider id (once sent) is the message to edit.
    """CREATE TABLE case_alerts (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        case_id INTEGER NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
        staff_id INTEGER NOT NULL REFERENCES staff (id),
        outbox_id INTEGER NOT NULL REFERENCES outbox (id) ON DELETE CASCADE,
        round INTEGER NOT NULL,
        at INTEGER NOT NULL
    )""",
    "CREATE INDEX case_alerts_by_case ON case_alerts (case_id, id)",
    """CREATE TABLE roster (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        staff_id INTEGER NOT NULL REFERENCES staff (id) ON DELETE CASCADE,
        day INTEGER NOT NULL CHECK (day BETWEEN 0 AND 6),
        start_minute INTEGER NOT NULL CHECK (start_minute BETWEEN 0 AND 1439),
        end_minute INTEGER NOT NULL CHECK (end_minute BETWEEN 1 AND 1440),
        created_at INTEGER NOT NULL
    )""",
    "CREATE INDEX roster_by_day ON roster (day)",
    # The case a counsellor's plain messages go to (`/kasus CODE`).
    """CREATE TABLE staff_focus (
        staff_id INTEGER PRIMARY KEY REFERENCES staff (id) ON DELETE CASCADE,
        case_id INTEGER NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
        at INTEGER NOT NULL
    )""",
)


DIGEST_MIGRATION = (
    """CREATE TABLE alert_digests (
        outbox_id INTEGER PRIMARY KEY REFERENCES outbox (id) ON DELETE CASCADE,
        staff_id INTEGER NOT NULL REFERENCES staff (id),
        sealed_at INTEGER
    )""",
    "CREATE INDEX alert_digests_open ON alert_digests (staff_id, outbox_id)"
    " WHERE sealed_at IS NULL",
    "CREATE INDEX case_alerts_by_outbox ON case_alerts (outbox_id)",
)


# The kinds of danger the crisis check found (bot.handoff.kinds): comma-separated codes such as
# `suicide,violence_now`, never a family's words, so the queue can tell urgent cases apart.
CRISIS_MIGRATION = ("ALTER TABLE cases ADD COLUMN crisis TEXT NOT NULL DEFAULT ''",)
