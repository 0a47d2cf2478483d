"""Booking changes inside a transaction: holding a time, confirming, cancelling, closing.

Taking a slot is one transaction: expired holds are released, the family's
earlier hold is let go, then each candidate counsellor is tried in the order the
host prefers. The database refuses a second live booking of one counsellor at an
overlapping time (see `storage.booking.schema`), so whichever family's write
commits first wins and every other gets `SlotTakenError`, never a double booking.

Reminders are outbox rows with a due time and a `ref` naming the booking, written
in the same transaction as the confirmation; cancelling or rescheduling withdraws
them in the same transaction as the change. A turn applies a family's change with
`apply` (`storage.conversation.turns`); `BookingRepo` runs the others on their own.
"""

from __future__ import annotations

import sqlite3
from dataclasses import replace

from storage.booking.records import (
    REMINDER_KINDS,
    Booking,
    BookingOp,
    CancelBooking,
    ConfirmAttendance,
    ConfirmHold,
    HoldSlot,
    ReleaseHold,
    reminder_ref,
)
from storage.conversation import outbox
from storage.crypto.aead import Place
from storage.crypto.vault import Vault
from storage.engine.clock import from_micros, to_micros
from storage.engine.db import Row, Tx
from storage.engine.rows import new_rid
from storage.errors import DatabaseError, InvalidRecordError, SlotTakenError
from storage.handoff.cases import new_code
from storage.records import OutboxRef

__all__ = [
    "COLUMNS",
    "LIVE",
    "SELECT",
    "apply",
    "booking_from_row",
    "cancel",
    "cancel_for_contact",
    "close",
    "confirm",
    "detail_place",
    "hold",
]

COLUMNS = (
    "id, code, contact_id, staff_id, mode, urgency, starts_at, ends_at, status,"
    " hold_expires_at, created_at, family_confirmed_at"
)
SELECT = f"SELECT {COLUMNS} FROM bookings"
LIVE = "status IN ('held', 'confirmed')"
_CODE_ATTEMPTS = 20


def detail_place(rid: bytes) -> Place:
    return Place("bookings", "detail", rid.hex())


def booking_from_row(row: Row) -> Booking:
    return Booking(
        id=int(row[0]),
        code=str(row[1]),
        contact_id=None if row[2] is None else int(row[2]),
        staff_id=int(row[3]),
        mode=str(row[4]),
        urgency=str(row[5]),
        starts_at=from_micros(int(row[6])),
        ends_at=from_micros(int(row[7])),
        status=str(row[8]),
        hold_expires_at=None if row[9] is None else from_micros(int(row[9])),
        created_at=from_micros(int(row[10])),
        family_confirmed=row[11] is not None,
    )


def _refs(booking_id: int) -> list[OutboxRef]:
    return [reminder_ref(booking_id, kind) for kind in REMINDER_KINDS]


async def apply(tx: Tx, contact_id: int, op: BookingOp, now: int) -> Booking | None:
    """Carries out one booking change for a family, inside the caller's transaction."""
    if isinstance(op, HoldSlot):
        return await hold(tx, contact_id, op, now)
    if isinstance(op, ConfirmHold):
        return await confirm(tx, contact_id, op, now)
    if isinstance(op, ReleaseHold):
        await tx.execute(
            "DELETE FROM bookings WHERE contact_id = ? AND status = 'held'", (contact_id,)
        )
        return None
    if isinstance(op, CancelBooking):
        return await cancel(tx, contact_id, op.booking_id, now)
    if isinstance(op, ConfirmAttendance):
        await tx.execute(
            "UPDATE bookings SET family_confirmed_at = coalesce(family_confirmed_at, ?),"
            " updated_at = ? WHERE id = ? AND contact_id = ? AND status = 'confirmed'",
            (now, now, op.booking_id, contact_id),
        )
        return None
    raise InvalidRecordError(f"unknown booking change {type(op).__name__}")


async def hold(tx: Tx, contact_id: int, op: HoldSlot, now: int) -> Booking:
    """Holds the time with the first candidate still free; SlotTakenError if none is."""
    # Expired holds still occupy their slot in the index: release them first. The
    # family's own earlier hold goes too (one held time per family).
    await tx.execute(
        "DELETE FROM bookings WHERE status = 'held' AND (hold_expires_at <= ? OR contact_id = ?)",
        (now, contact_id),
    )
    starts = to_micros(op.starts_at, "HoldSlot.starts_at")
    ends = to_micros(op.ends_at, "HoldSlot.ends_at")
    expires = to_micros(op.expires_at, "HoldSlot.expires_at")
    rid = new_rid()
    detail = None
    if op.detail:
        detail = Vault.seal_text(await tx.dek(contact_id), detail_place(rid), op.detail)
    for staff_id in op.candidates:
        clash = await tx.fetchone(
            f"SELECT 1 FROM bookings WHERE staff_id = ? AND {LIVE}"
            " AND starts_at < ? AND ends_at > ?",
            (staff_id, ends, starts),
        )
        if clash is not None:
            continue
        for _ in range(_CODE_ATTEMPTS):
            try:
                row = await tx.fetchone(
                    "INSERT INTO bookings (rid, code, contact_id, staff_id, mode, urgency,"
                    " starts_at, ends_at, status, hold_expires_at, detail_enc, created_at,"
                    " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'held', ?, ?, ?, ?)"
                    f" ON CONFLICT DO NOTHING RETURNING {COLUMNS}",
                    (
                        rid,
                        new_code(),
                        contact_id,
                        staff_id,
                        op.mode,
                        op.urgency,
                        starts,
                        ends,
                        expires,
                        detail,
                        now,
                        now,
                    ),
                )
            except sqlite3.IntegrityError:
                break  # the overlap trigger: this counsellor is not free after all
            if row is not None:
                return booking_from_row(row)
            taken = await tx.fetchone(
                # An overlap, not only the same start: on PostgreSQL the EXCLUDE constraint
                # is a conflict that DO NOTHING absorbs (SQLite's trigger raises instead).
                f"SELECT 1 FROM bookings WHERE staff_id = ? AND {LIVE}"
                " AND starts_at < ? AND ends_at > ?",
                (staff_id, ends, starts),
            )
            if taken is not None:
                break  # not a code collision: the slot itself is taken
        else:
            raise DatabaseError(f"no free booking code after {_CODE_ATTEMPTS} attempts")
    raise SlotTakenError("hold: no offered counsellor is free at that time any more")


async def confirm(tx: Tx, contact_id: int, op: ConfirmHold, now: int) -> Booking:
    """Confirms the family's hold, replaces their other upcoming booking, adds reminders."""
    row = await tx.fetchone(
        f"{SELECT} WHERE contact_id = ? AND status = 'held' ORDER BY id DESC LIMIT 1",
        (contact_id,),
    )
    if row is None or int(row[6]) != to_micros(op.starts_at, "ConfirmHold.starts_at"):
        # Released (run out and taken by someone else, or replaced): the time is gone.
        raise SlotTakenError("confirm: the family no longer holds that time")
    held = booking_from_row(row)
    # Others' run-out holds still count in the overlap check until released.
    await tx.execute(
        "DELETE FROM bookings WHERE status = 'held' AND hold_expires_at <= ? AND id != ?",
        (now, held.id),
    )
    replaced = await tx.fetchall(
        "SELECT id FROM bookings WHERE contact_id = ? AND status = 'confirmed' AND ends_at > ?",
        (contact_id, now),
    )
    for (old_id,) in replaced:
        await close(tx, int(old_id), "cancelled", now)
    await tx.execute(
        "UPDATE bookings SET status = 'confirmed', hold_expires_at = NULL, confirmed_at = ?,"
        " updated_at = ?, replaces_id = ? WHERE id = ?",
        (now, now, int(replaced[0][0]) if replaced else None, held.id),
    )
    rows = tuple(replace(r.message, ref=reminder_ref(held.id, r.kind)) for r in op.reminders)
    await outbox.insert_many(tx, rows, None, now)
    return replace(held, status="confirmed", hold_expires_at=None)


async def cancel(tx: Tx, contact_id: int, booking_id: int, now: int) -> Booking | None:
    """Cancels the family's confirmed booking (a repeat changes nothing)."""
    row = await tx.fetchone(
        f"{SELECT} WHERE id = ? AND contact_id = ? AND status = 'confirmed'",
        (booking_id, contact_id),
    )
    if row is None:
        return None
    await close(tx, booking_id, "cancelled", now)
    return booking_from_row(row)


async def cancel_for_contact(tx: Tx, contact_id: int, now: int) -> int:
    """Cancels a contact's holds and bookings still to come (an erasure); returns how many.

    The counsellor sees what any cancellation shows: the time leaves their schedule and
    feed, and is free for another family. A past appointment not yet marked stays, to be
    marked. The number to call or the address to visit goes from every booking.
    """
    rows = await tx.fetchall(
        f"SELECT id FROM bookings WHERE contact_id = ? AND {LIVE}"
        " AND (status = 'held' OR ends_at > ?)",
        (contact_id, now),
    )
    for (booking_id,) in rows:
        await close(tx, int(booking_id), "cancelled", now)
    await tx.execute("UPDATE bookings SET detail_enc = NULL WHERE contact_id = ?", (contact_id,))
    return len(rows)


async def close(tx: Tx, booking_id: int, status: str, now: int) -> None:
    """Ends a booking with `status` (cancelled, attended, no-show) and withdraws its reminders."""
    await tx.execute(
        "UPDATE bookings SET status = ?, hold_expires_at = NULL, closed_at = ?, updated_at = ?"
        " WHERE id = ?",
        (status, now, now, booking_id),
    )
    await outbox.cancel_pending(tx, _refs(booking_id), now)
