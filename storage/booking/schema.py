"""The booking tables (migration 0004): counsellors' weekly hours, office closures,
bookings, private calendar feeds, and the outbox `ref` that finds a reminder again.

"Two families can never book the same counsellor at the same time" is the
database's rule, not the code's: a partial unique index on (counsellor, start)
for live bookings, and triggers that refuse any overlap of live bookings of one
counsellor. A hold whose time has run out still counts until it is released, so
every write that takes a slot first deletes expired holds in its own transaction.

- `booking_hours`: weekly hours in the office's time zone (weekday 0 = Monday,
  minutes since local midnight) and the consultation modes offered in them.
- `booking_closures`: days the office is closed (national holidays come from the
  `holidays` library, not from this table).
- `bookings`: a short code (read aloud, non-identifying), the family (contact),
  counsellor, mode, urgency, start and end (UTC microseconds), status and hold
  expiry. `detail_enc` holds the phone number to call or the address to visit,
  sealed under the family's data key. `contact_id` is set to NULL when a contact
  is erased, so attendance counts survive while nothing points at anyone.
- `booking_feeds`: the keyed hash of each counsellor's calendar feed token.
"""

from __future__ import annotations

__all__ = ["BOOKING_MIGRATION"]

_LIVE = "('held', 'confirmed')"

BOOKING_MIGRATION = (
    """CREATE TABLE booking_hours (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        staff_id INTEGER NOT NULL REFERENCES staff (id),
        weekday INTEGER NOT NULL CHECK (weekday BETWEEN 0 AND 6),
        start_minute INTEGER NOT NULL CHECK (start_minute BETWEEN 0 AND 1439),
        end_minute INTEGER NOT NULL CHECK (end_minute BETWEEN 1 AND 1440),
        modes TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        CHECK (end_minute > start_minute)
    )""",
    "CREATE INDEX booking_hours_by_staff ON booking_hours (staff_id, weekday, start_minute)",
    """CREATE TABLE booking_closures (
        day TEXT PRIMARY KEY,
        reason TEXT NOT NULL,
        created_at INTEGER NOT NULL
    ) WITHOUT ROWID""",
    """CREATE TABLE bookings (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        rid BLOB NOT NULL,
        code TEXT NOT NULL UNIQUE,
        contact_id INTEGER REFERENCES contacts (id) ON DELETE SET NULL,
        staff_id INTEGER NOT NULL REFERENCES staff (id),
        mode TEXT NOT NULL CHECK (mode IN ('kantor', 'telepon', 'chat', 'kunjungan')),
        urgency TEXT NOT NULL CHECK (urgency IN ('biasa', 'segera', 'darurat')),
        starts_at INTEGER NOT NULL,
        ends_at INTEGER NOT NULL,
        status TEXT NOT NULL
            CHECK (status IN ('held', 'confirmed', 'cancelled', 'attended', 'no_show')),
        hold_expires_at INTEGER,
        detail_enc BLOB,
        replaces_id INTEGER REFERENCES bookings (id),
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        confirmed_at INTEGER,
        family_confirmed_at INTEGER,
        closed_at INTEGER,
        CHECK (ends_at > starts_at),
        CHECK (status != 'held' OR hold_expires_at IS NOT NULL)
    )""",
    f"CREATE UNIQUE INDEX bookings_one_per_slot ON bookings (staff_id, starts_at)"
    f" WHERE status IN {_LIVE}",
    f"CREATE INDEX bookings_live_by_time ON bookings (starts_at) WHERE status IN {_LIVE}",
    "CREATE INDEX bookings_by_contact ON bookings (contact_id, starts_at)",
    "CREATE INDEX bookings_by_staff ON bookings (staff_id, starts_at)",
    f"""CREATE TRIGGER bookings_no_overlap_insert BEFORE INSERT ON bookings
    WHEN NEW.status IN {_LIVE} AND EXISTS (
        SELECT 1 FROM bookings b WHERE b.staff_id = NEW.staff_id AND b.status IN {_LIVE}
        AND b.starts_at < NEW.ends_at AND b.ends_at > NEW.starts_at)
    BEGIN
        SELECT RAISE(ABORT, 'bookings: the counsellor already has a live booking at that time');
    END""",
    f"""CREATE TRIGGER bookings_no_overlap_update
    BEFORE UPDATE OF status, staff_id, starts_at, ends_at ON bookings
    WHEN NEW.status IN {_LIVE} AND EXISTS (
        SELECT 1 FROM bookings b WHERE b.id != NEW.id AND b.staff_id = NEW.staff_id
        AND b.status IN {_LIVE} AND b.starts_at < NEW.ends_at AND b.ends_at > NEW.starts_at)
    BEGIN
        SELECT RAISE(ABORT, 'bookings: the counsellor already has a live booking at that time');
    END""",
    """CREATE TABLE booking_feeds (
        staff_id INTEGER PRIMARY KEY REFERENCES staff (id),
        token_bidx BLOB NOT NULL UNIQUE,
        created_at INTEGER NOT NULL
    )""",
    "ALTER TABLE outbox ADD COLUMN ref TEXT",
    "CREATE INDEX outbox_pending_by_ref ON outbox (ref)"
    " WHERE status = 'pending' AND ref IS NOT NULL",
)
