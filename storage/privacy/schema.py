"""The privacy tables (migration 0003): audit log, erasures, anonymous case counts, cleanups.

- `audit`: append-only (triggers refuse UPDATE and DELETE) and chained: each row's
  `hash` is a keyed hash of its content and the previous row's hash (`storage.privacy.audit`).
- `erasures`: one row per contact whose erasure was requested, with its stage, so an
  erasure interrupted by a crash is finished on the next start (`storage.privacy.erasure`).
  No foreign key: the contact row goes away while this row stays.
- `erased_cases`: what reports still count about an erased contact's cases
  (category, urgency, status, times), with no code and no link to anyone.
- `message_cleanups`: a quick exit's request that the channel delete the messages
  of the conversation, done by a background worker.
- `contact_keys.leaf`: 1 when the data key is wrapped under the master key and the
  contact's key-tree leaf, 0 for keys wrapped before the key tree existed.
- `cases.safety_risk`: a counsellor's flag that the family's phone may be read by
  the person they fear; the family's data is then never sent to the chat.
- `consents.withdrawal`: 1 for a withdrawal (`berhenti`), 0 for an answer.
"""

from __future__ import annotations

__all__ = ["PRIVACY_MIGRATION", "QUICK_EXIT_INDEX_MIGRATION"]

PRIVACY_MIGRATION = (
    # Existing rows were wrapped before the key tree: mark them 0; new rows default to 1.
    "ALTER TABLE contact_keys ADD COLUMN leaf INTEGER NOT NULL DEFAULT 1 CHECK (leaf IN (0, 1))",
    "UPDATE contact_keys SET leaf = 0",
    "ALTER TABLE cases ADD COLUMN safety_risk INTEGER NOT NULL DEFAULT 0"
    " CHECK (safety_risk IN (0, 1))",
    "ALTER TABLE consents ADD COLUMN withdrawal INTEGER NOT NULL DEFAULT 0"
    " CHECK (withdrawal IN (0, 1))",
    """CREATE TABLE audit (
        seq INTEGER PRIMARY KEY,
        at INTEGER NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        subject TEXT NOT NULL,
        reason TEXT NOT NULL,
        prev_hash BLOB NOT NULL,
        hash BLOB NOT NULL
    )""",
    """CREATE TRIGGER audit_append_only_update BEFORE UPDATE ON audit BEGIN
        SELECT RAISE(ABORT, 'audit rows are append-only');
    END""",
    """CREATE TRIGGER audit_append_only_delete BEFORE DELETE ON audit BEGIN
        SELECT RAISE(ABORT, 'audit rows are append-only');
    END""",
    """CREATE TABLE erasures (
        contact_id INTEGER PRIMARY KEY,
        stage TEXT NOT NULL CHECK (stage IN ('farewell', 'shred', 'done')),
        reason TEXT NOT NULL,
        requested_at INTEGER NOT NULL,
        done_at INTEGER
    )""",
    "CREATE INDEX erasures_unfinished ON erasures (stage) WHERE stage != 'done'",
    """CREATE TABLE erased_cases (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        category TEXT NOT NULL,
        urgency TEXT NOT NULL,
        status TEXT NOT NULL,
        opened_at INTEGER NOT NULL,
        closed_at INTEGER,
        erased_at INTEGER NOT NULL
    )""",
    """CREATE TABLE message_cleanups (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        contact_id INTEGER NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
        channel TEXT NOT NULL,
        up_to_inbox_id INTEGER NOT NULL,
        up_to_outbox_id INTEGER NOT NULL,
        requested_at INTEGER NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at INTEGER,
        deleted INTEGER,
        done_at INTEGER
    )""",
    "CREATE INDEX message_cleanups_pending ON message_cleanups (id) WHERE done_at IS NULL",
)

QUICK_EXIT_INDEX_MIGRATION = (
    # "Did this family leave in a hurry?" (storage.privacy.quiet) is asked by every web
    # chat poll and every hand-off change: by contact, the newest first.
    "CREATE INDEX message_cleanups_by_contact ON message_cleanups (contact_id, id)",
)
