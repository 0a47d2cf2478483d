"""Bookings: weekly hours, closures, holds and confirmed appointments, and their reminders.

Taking a slot is one transaction: expired holds are released, the family's
earlier hold is let go, then each candidate counsellor is tried in the order the
host prefers. The database refuses a second live booking of one counsellor at an
overlapping time (see `storage.booking.schema`), so whichever family's write
commits first wins and every other gets `SlotTakenError`, never a double booking.

Reminders are outbox rows with a due time and a `ref` naming the booking, written
in the same transaction as the confirmation; cancelling or rescheduling withdraws
them in the same transaction as the change.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import replace
from datetime import date, datetime

from storage.booking.records import (
    MODES,
    OUTCOMES,
    REF_KIND,
    REMINDER_KINDS,
    Booking,
    BookingOp,
    BookingSnapshot,
    CancelBooking,
    Closure,
    ConfirmAttendance,
    ConfirmHold,
    HoldSlot,
    ReleaseHold,
    WeeklyHours,
    reminder_ref,
)
from storage.conversation import outbox
from storage.crypto.aead import Place
from storage.crypto.vault import Vault
from storage.engine.clock import from_micros, to_micros
from storage.engine.db import Readers, Row, Tx, Writer
from storage.engine.rows import as_bytes, marks, new_rid
from storage.errors import DatabaseError, InvalidRecordError, NotFoundError, SlotTakenError
from storage.handoff.cases import new_code
from storage.records import NewOutbound, OutboxRef

__all__ = ["LIVE_HANDOFF_CASE_STATUSES", "BookingRepo", "apply", "cancel_for_contact"]

LIVE_HANDOFF_CASE_STATUSES = ("taken",)
"""Case statuses meaning a counsellor is talking with the family right now.

The hook for live handoff: while a contact has a case in one of these statuses,
no booking reminder is sent to them (the sender withdraws it at send time).
"""

_COLUMNS = (
    "id, code, contact_id, staff_id, mode, urgency, starts_at, ends_at, status,"
    " hold_expires_at, created_at, family_confirmed_at"
)
_SELECT = f"SELECT {_COLUMNS} FROM bookings"
_LIVE = "status IN ('held', 'confirmed')"
_CODE_ATTEMPTS = 20
_REPLY_KINDS = ("day_before", "two_hours")


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


def _modes(modes: Iterable[str]) -> str:
    chosen = set(modes)
    if not chosen:
        raise InvalidRecordError("weekly hours need at least one consultation mode")
    for mode in sorted(chosen):
        if mode not in MODES:
            known = ", ".join(MODES)
            raise InvalidRecordError(f"unknown consultation mode {mode!r}; known: {known}")
    return ",".join(sorted(chosen, key=MODES.index))


def _refs(booking_id: int) -> list[OutboxRef]:
    return [reminder_ref(booking_id, kind) for kind in REMINDER_KINDS]


# --- inside a transaction ------------------------------------------------------


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
            f"SELECT 1 FROM bookings WHERE staff_id = ? AND {_LIVE}"
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
                    f" ON CONFLICT DO NOTHING RETURNING {_COLUMNS}",
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
                f"SELECT 1 FROM bookings WHERE staff_id = ? AND starts_at = ? AND {_LIVE}",
                (staff_id, starts),
            )
            if taken is not None:
                break  # not a code collision: the slot itself is taken
        else:
            raise DatabaseError(f"no free booking code after {_CODE_ATTEMPTS} attempts")
    raise SlotTakenError("hold: no offered counsellor is free at that time any more")


async def confirm(tx: Tx, contact_id: int, op: ConfirmHold, now: int) -> Booking:
    """Confirms the family's hold, replaces their other upcoming booking, adds reminders."""
    row = await tx.fetchone(
        f"{_SELECT} WHERE contact_id = ? AND status = 'held' ORDER BY id DESC LIMIT 1",
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
        await _close(tx, int(old_id), "cancelled", now)
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
        f"{_SELECT} WHERE id = ? AND contact_id = ? AND status = 'confirmed'",
        (booking_id, contact_id),
    )
    if row is None:
        return None
    await _close(tx, booking_id, "cancelled", now)
    return booking_from_row(row)


async def cancel_for_contact(tx: Tx, contact_id: int, now: int) -> int:
    """Cancels every live booking of a contact (before an erasure); returns how many."""
    rows = await tx.fetchall(
        f"SELECT id FROM bookings WHERE contact_id = ? AND {_LIVE}", (contact_id,)
    )
    for (booking_id,) in rows:
        await _close(tx, int(booking_id), "cancelled", now)
    return len(rows)


async def _close(tx: Tx, booking_id: int, status: str, now: int) -> None:
    await tx.execute(
        "UPDATE bookings SET status = ?, hold_expires_at = NULL, closed_at = ?, updated_at = ?"
        " WHERE id = ?",
        (status, now, now, booking_id),
    )
    await outbox.cancel_pending(tx, _refs(booking_id), now)


# --- the repository ------------------------------------------------------------


class BookingRepo:
    """Hours, closures, the snapshot a family's options are computed from, and marks."""

    def __init__(self, readers: Readers, writer: Writer, vault: Vault) -> None:
        self._readers = readers
        self._writer = writer
        self._vault = vault

    # weekly hours --------------------------------------------------------------

    async def add_hours(
        self,
        staff_id: int,
        weekday: int,
        start_minute: int,
        end_minute: int,
        modes: Iterable[str],
        at: datetime,
    ) -> WeeklyHours:
        """Adds a block of weekly hours; refuses one that overlaps the same day's hours."""
        if not 0 <= weekday <= 6:
            raise InvalidRecordError(f"weekday {weekday} is not 0 (Monday) to 6 (Sunday)")
        if not 0 <= start_minute < end_minute <= 24 * 60:
            raise InvalidRecordError("weekly hours must start before they end, within one day")
        mode_text = _modes(modes)
        now = to_micros(at, "BookingRepo.add_hours at")

        async def job(tx: Tx) -> WeeklyHours:
            clash = await tx.fetchone(
                "SELECT start_minute, end_minute FROM booking_hours WHERE staff_id = ?"
                " AND weekday = ? AND start_minute < ? AND end_minute > ?",
                (staff_id, weekday, end_minute, start_minute),
            )
            if clash is not None:
                raise InvalidRecordError(
                    f"these hours overlap hours already set that day"
                    f" ({_hhmm(int(clash[0]))}-{_hhmm(int(clash[1]))})"
                )
            exists = await tx.fetchone("SELECT 1 FROM staff WHERE id = ?", (staff_id,))
            if exists is None:
                raise NotFoundError(f"no staff member with id {staff_id}")
            row = await tx.fetchone(
                "INSERT INTO booking_hours (staff_id, weekday, start_minute, end_minute, modes,"
                " created_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
                (staff_id, weekday, start_minute, end_minute, mode_text, now),
            )
            assert row is not None
            return WeeklyHours(
                int(row[0]),
                staff_id,
                weekday,
                start_minute,
                end_minute,
                frozenset(mode_text.split(",")),
            )

        return await self._writer.run("bookings.add_hours", job)

    async def clear_hours(self, staff_id: int, weekday: int | None = None) -> int:
        """Removes a counsellor's weekly hours (one weekday, or all); returns how many."""

        async def job(tx: Tx) -> int:
            if weekday is None:
                return await tx.execute("DELETE FROM booking_hours WHERE staff_id = ?", (staff_id,))
            return await tx.execute(
                "DELETE FROM booking_hours WHERE staff_id = ? AND weekday = ?", (staff_id, weekday)
            )

        return await self._writer.run("bookings.clear_hours", job)

    async def hours(self, staff_id: int | None = None) -> list[WeeklyHours]:
        rows = await self._readers.fetchall(
            "SELECT id, staff_id, weekday, start_minute, end_minute, modes FROM booking_hours"
            + (" WHERE staff_id = ?" if staff_id is not None else "")
            + " ORDER BY staff_id, weekday, start_minute",
            (staff_id,) if staff_id is not None else (),
            what="bookings.hours",
        )
        return [_hours(row) for row in rows]

    # closures ------------------------------------------------------------------

    async def add_closure(self, day: date, reason: str, at: datetime) -> Closure:
        """Closes the office on `day` (office-local); a second closure of a day is refused."""
        reason = " ".join(reason.split())
        if not reason:
            raise InvalidRecordError("a closure needs a reason (staff read it in the list)")
        now = to_micros(at, "BookingRepo.add_closure at")

        async def job(tx: Tx) -> Closure:
            row = await tx.fetchone(
                "INSERT INTO booking_closures (day, reason, created_at) VALUES (?, ?, ?)"
                " ON CONFLICT (day) DO NOTHING RETURNING day",
                (day.isoformat(), reason, now),
            )
            if row is None:
                raise InvalidRecordError(f"the office is already closed on {day.isoformat()}")
            return Closure(day, reason)

        return await self._writer.run("bookings.add_closure", job)

    async def remove_closure(self, day: date) -> bool:
        async def job(tx: Tx) -> bool:
            changed = await tx.execute(
                "DELETE FROM booking_closures WHERE day = ?", (day.isoformat(),)
            )
            return changed > 0

        return await self._writer.run("bookings.remove_closure", job)

    async def closures(self, start: date | None = None, end: date | None = None) -> list[Closure]:
        """Closures from `start` to `end` inclusive (both optional), by day."""
        rows = await self._readers.fetchall(
            "SELECT day, reason FROM booking_closures WHERE day >= ? AND day <= ? ORDER BY day",
            ((start or date.min).isoformat(), (end or date.max).isoformat()),
            what="bookings.closures",
        )
        return [Closure(date.fromisoformat(str(r[0])), str(r[1])) for r in rows]

    # what a family's options are computed from ---------------------------------

    async def snapshot(
        self, contact_id: int | None, start: datetime, end: datetime, now: datetime
    ) -> BookingSnapshot:
        """Hours, closures, who is busy when, load, and this family's own bookings."""
        lo, hi = to_micros(start, "snapshot start"), to_micros(end, "snapshot end")
        at = to_micros(now, "snapshot now")
        hours_rows = await self._readers.fetchall(
            "SELECT h.id, h.staff_id, h.weekday, h.start_minute, h.end_minute, h.modes,"
            " s.display_name, s.roles FROM booking_hours h JOIN staff s ON s.id = h.staff_id"
            " WHERE s.active = 1 ORDER BY h.staff_id, h.weekday, h.start_minute",
            what="bookings.snapshot hours",
        )
        counsellors = [r for r in hours_rows if "counsellor" in str(r[7]).split(",")]
        live_now = f"{_LIVE} AND (status = 'confirmed' OR hold_expires_at > ?)"
        busy = await self._readers.fetchall(
            f"SELECT staff_id, starts_at, ends_at FROM bookings WHERE {live_now}"
            " AND starts_at < ? AND ends_at > ?"
            " AND NOT (status = 'held' AND contact_id IS ?)",
            (at, hi, lo, contact_id),
            what="bookings.snapshot busy",
        )
        load = await self._readers.fetchall(
            f"SELECT staff_id, count(*) FROM bookings WHERE {live_now}"
            " AND starts_at >= ? AND starts_at < ? GROUP BY staff_id",
            (at, at, hi),
            what="bookings.snapshot load",
        )
        mine: list[Booking] = []
        urgency: str | None = None
        if contact_id is not None:
            mine = [
                booking_from_row(r)
                for r in await self._readers.fetchall(
                    f"{_SELECT} WHERE contact_id = ? ORDER BY starts_at DESC, id DESC LIMIT 50",
                    (contact_id,),
                    what="bookings.snapshot mine",
                )
            ]
            case = await self._readers.fetchone(
                "SELECT urgency FROM cases WHERE contact_id = ? AND status = 'open'",
                (contact_id,),
                what="bookings.snapshot case",
            )
            urgency = None if case is None else str(case[0])
        known: list[int] = []
        for booking in mine:
            if booking.status in ("confirmed", "attended", "no_show"):
                if booking.staff_id not in known:
                    known.append(booking.staff_id)
        holds = sorted((b for b in mine if b.status == "held"), key=lambda b: b.id)
        upcoming = sorted(
            (b for b in mine if b.status == "confirmed" and b.ends_at > now),
            key=lambda b: b.starts_at,
        )
        lo_day = start.date().isoformat()
        return BookingSnapshot(
            hours=tuple(_hours(r) for r in counsellors),
            staff_names=tuple(sorted({(int(r[1]), str(r[6])) for r in counsellors})),
            closures=tuple(
                Closure(date.fromisoformat(str(r[0])), str(r[1]))
                for r in await self._readers.fetchall(
                    "SELECT day, reason FROM booking_closures WHERE day >= ? ORDER BY day",
                    (lo_day,),
                    what="bookings.snapshot closures",
                )
            ),
            busy=tuple((int(r[0]), from_micros(int(r[1])), from_micros(int(r[2]))) for r in busy),
            load=tuple((int(r[0]), int(r[1])) for r in load),
            known_staff=tuple(known),
            hold=holds[-1] if holds else None,
            upcoming=upcoming[0] if upcoming else None,
            urgency=urgency,
        )

    # lookups -------------------------------------------------------------------

    async def get(self, booking_id: int) -> Booking | None:
        row = await self._readers.fetchone(
            f"{_SELECT} WHERE id = ?", (booking_id,), what="bookings.get"
        )
        return None if row is None else booking_from_row(row)

    async def by_code(self, code: str) -> Booking | None:
        row = await self._readers.fetchone(
            f"{_SELECT} WHERE code = ?", (code.strip().upper(),), what="bookings.by_code"
        )
        return None if row is None else booking_from_row(row)

    async def for_contact(self, contact_id: int) -> list[Booking]:
        rows = await self._readers.fetchall(
            f"{_SELECT} WHERE contact_id = ? ORDER BY starts_at, id",
            (contact_id,),
            what="bookings.for_contact",
        )
        return [booking_from_row(r) for r in rows]

    async def for_staff(self, staff_id: int, start: datetime, end: datetime) -> list[Booking]:
        """A counsellor's confirmed and past appointments starting in [start, end), by time."""
        rows = await self._readers.fetchall(
            f"{_SELECT} WHERE staff_id = ? AND status IN ('confirmed', 'attended', 'no_show')"
            " AND starts_at >= ? AND starts_at < ? ORDER BY starts_at, id",
            (staff_id, to_micros(start, "for_staff start"), to_micros(end, "for_staff end")),
            what="bookings.for_staff",
        )
        return [booking_from_row(r) for r in rows]

    async def awaiting_reply(self, contact_id: int, inbox_id: int) -> tuple[Booking, str] | None:
        """The booking whose reminder is the last thing this family was sent, and its kind.

        "Last" means sent after the family's previous message: a reply "1" or "2"
        then answers the reminder, not some older question.
        """
        row = await self._readers.fetchone(
            "SELECT o.ref FROM outbox o WHERE o.contact_id = ? AND o.status = 'sent'"
            " AND o.ref LIKE ? AND o.sent_at > coalesce((SELECT max(received_at)"
            " FROM inbox WHERE contact_id = ? AND id < ?), 0)"
            " ORDER BY o.sent_at DESC, o.id DESC LIMIT 1",
            (contact_id, OutboxRef.like(REF_KIND), contact_id, inbox_id),
            what="bookings.awaiting_reply",
        )
        if row is None:
            return None
        ref = OutboxRef.parse(str(row[0]))
        if ref is None or ref.action not in _REPLY_KINDS:
            return None
        kind = ref.action
        booking = await self.get(ref.id)
        if booking is None or booking.status != "confirmed" or booking.contact_id != contact_id:
            return None
        return booking, kind

    async def detail(self, booking_id: int) -> str:
        """The phone number or address given for the booking ("" when none), decrypted."""
        row = await self._readers.fetchone(
            "SELECT b.rid, b.detail_enc, b.contact_id, k.master_key_id, k.wrapped"
            " FROM bookings b LEFT JOIN contact_keys k ON k.contact_id = b.contact_id"
            " WHERE b.id = ?",
            (booking_id,),
            what="bookings.detail",
        )
        if row is None:
            raise NotFoundError(f"booking {booking_id} does not exist")
        if row[1] is None or row[2] is None or row[3] is None:
            return ""
        dek = self._vault.unwrap_dek(int(row[2]), str(row[3]), as_bytes(row[4]))
        return Vault.open_text(dek, detail_place(as_bytes(row[0])), as_bytes(row[1]))

    async def live_handoff(self, contact_id: int) -> bool:
        """Whether a counsellor is handling this family live (see LIVE_HANDOFF_CASE_STATUSES)."""
        row = await self._readers.fetchone(
            f"SELECT 1 FROM cases WHERE contact_id = ? AND status IN"
            f" ({marks(LIVE_HANDOFF_CASE_STATUSES)}) LIMIT 1",
            (contact_id, *LIVE_HANDOFF_CASE_STATUSES),
            what="bookings.live_handoff",
        )
        return row is not None

    # writes outside a turn -----------------------------------------------------

    async def hold(self, contact_id: int, op: HoldSlot, at: datetime) -> Booking:
        """Holds a time on its own (a turn holds through `commit_turn`); SlotTakenError if gone."""
        now = to_micros(at, "BookingRepo.hold at")

        async def job(tx: Tx) -> Booking:
            return await hold(tx, contact_id, op, now)

        return await self._writer.run("bookings.hold", job)

    async def mark(
        self, code: str, outcome: str, at: datetime, followup: NewOutbound | None = None
    ) -> tuple[Booking, bool]:
        """Records attended or no-show for a confirmed booking; (booking, changed).

        Marking a booking again with the same outcome changes nothing; a mark may be
        corrected (attended <-> no-show). A no-show's one follow-up is queued in the
        same transaction, and never a second time for the same booking.
        """
        if outcome not in OUTCOMES:
            raise InvalidRecordError(f"outcome {outcome!r} is not one of {', '.join(OUTCOMES)}")
        now = to_micros(at, "BookingRepo.mark at")
        wanted = code.strip().upper()

        async def job(tx: Tx) -> tuple[Booking, bool]:
            row = await tx.fetchone(f"{_SELECT} WHERE code = ?", (wanted,))
            if row is None:
                raise NotFoundError(f"no booking with code {wanted}")
            booking = booking_from_row(row)
            if booking.status == outcome:
                return booking, False
            if booking.status not in ("confirmed", *OUTCOMES):
                raise InvalidRecordError(
                    f"booking {wanted} is {booking.status}; only a confirmed booking is marked"
                )
            await _close(tx, booking.id, outcome, now)
            ref = reminder_ref(booking.id, "no_show")
            if outcome == "no_show" and followup is not None:
                sent = await tx.fetchone("SELECT 1 FROM outbox WHERE ref = ?", (str(ref),))
                if sent is None:  # one follow-up per booking, even after a corrected mark
                    await outbox.insert_many(tx, (replace(followup, ref=ref),), None, now)
            return replace(booking, status=outcome, hold_expires_at=None), True

        return await self._writer.run("bookings.mark", job)

    async def cancel_for_contact(self, contact_id: int, at: datetime) -> int:
        """Cancels a contact's live bookings and withdraws their reminders (erasure hook)."""
        now = to_micros(at, "BookingRepo.cancel_for_contact at")

        async def job(tx: Tx) -> int:
            return await cancel_for_contact(tx, contact_id, now)

        return await self._writer.run("bookings.cancel_for_contact", job)

    # calendar feeds --------------------------------------------------------------

    async def set_feed_token(self, staff_id: int, token: str, at: datetime) -> None:
        """Makes `token` the counsellor's only feed token (kept as a keyed hash)."""
        now = to_micros(at, "BookingRepo.set_feed_token at")

        async def job(tx: Tx) -> None:
            await tx.execute(
                "INSERT INTO booking_feeds (staff_id, token_bidx, created_at) VALUES (?, ?, ?)"
                " ON CONFLICT (staff_id) DO UPDATE SET token_bidx = excluded.token_bidx,"
                " created_at = excluded.created_at",
                (staff_id, tx.vault.blind("ical-feed", token), now),
            )

        await self._writer.run("bookings.set_feed_token", job)

    async def staff_for_feed_token(self, token: str) -> int | None:
        """The active counsellor whose feed this token opens, if any."""
        row = await self._readers.fetchone(
            "SELECT f.staff_id FROM booking_feeds f JOIN staff s ON s.id = f.staff_id"
            " WHERE f.token_bidx = ? AND s.active = 1",
            (self._vault.blind("ical-feed", token),),
            what="bookings.staff_for_feed_token",
        )
        return None if row is None else int(row[0])


def _hours(row: Row) -> WeeklyHours:
    return WeeklyHours(
        int(row[0]),
        int(row[1]),
        int(row[2]),
        int(row[3]),
        int(row[4]),
        frozenset(m for m in str(row[5]).split(",") if m),
    )


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"
