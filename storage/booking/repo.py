"""Bookings as the bot and the console read them, and the changes made outside a turn.

`BookingRepo` is `store.bookings`: the office's calendar (`storage.booking.hours`),
the snapshot a family's options are computed from, lookups, marks after an
appointment, and calendar feeds. The changes themselves, inside a transaction,
are in `storage.booking.changes`.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from storage.booking.changes import (
    LIVE,
    SELECT,
    booking_from_row,
    cancel_for_contact,
    close,
    detail_place,
    hold,
)
from storage.booking.hours import OfficeHours, closure_from_row, hours_from_row
from storage.booking.records import (
    OUTCOMES,
    REF_KIND,
    Booking,
    BookingSnapshot,
    HoldSlot,
    reminder_ref,
)
from storage.conversation import outbox
from storage.crypto.vault import Vault
from storage.engine.clock import from_micros, to_micros
from storage.engine.db import Readers, Tx, Writer
from storage.engine.rows import as_bytes, marks
from storage.errors import InvalidRecordError, NotFoundError
from storage.records import NewOutbound, OutboxRef

__all__ = ["LIVE_HANDOFF_CASE_STATUSES", "BookingRepo"]

LIVE_HANDOFF_CASE_STATUSES = ("taken",)
"""Case statuses meaning a counsellor is talking with the family right now.

The hook for live handoff: while a contact has a case in one of these statuses,
no booking reminder is sent to them (the sender withdraws it at send time).
"""

_REPLY_KINDS = ("day_before", "two_hours")


class BookingRepo(OfficeHours):
    """Hours, closures, the snapshot a family's options are computed from, and marks."""

    def __init__(self, readers: Readers, writer: Writer, vault: Vault) -> None:
        super().__init__(readers, writer)
        self._vault = vault

    # what a family's options are computed from ---------------------------------

    async def snapshot(
        self,
        contact_id: int | None,
        start: datetime,
        end: datetime,
        now: datetime,
        *,
        office_id: int = 1,
    ) -> BookingSnapshot:
        """Hours, closures, who is busy when, load, and this family's own bookings.

        Hours and closures are those of the family's office (`office_id`'s, the default
        office unless told, without a family): a family books a counsellor of its own office.

        Every booking turn makes these small, indexed reads: quick reads (storage.engine.db
        `Readers`), on the loop's thread, as a turn's start is (seven hops to reader
        threads cost more than the queries).
        """
        lo, hi = to_micros(start, "snapshot start"), to_micros(end, "snapshot end")
        at = to_micros(now, "snapshot now")
        office = await self._readers.fetchone(
            "SELECT office_id FROM contacts WHERE id = ?",
            (contact_id or 0,),
            what="bookings.snapshot office",
            quick=True,
        )
        office_id = office_id if office is None else int(office[0])
        hours_rows = await self._readers.fetchall(
            "SELECT h.id, h.staff_id, h.weekday, h.start_minute, h.end_minute, h.modes,"
            " s.display_name, s.roles FROM booking_hours h JOIN staff s ON s.id = h.staff_id"
            " WHERE s.active = 1 AND s.office_id = ?"
            " ORDER BY h.staff_id, h.weekday, h.start_minute",
            (office_id,),
            what="bookings.snapshot hours",
            quick=True,
        )
        counsellors = [r for r in hours_rows if "counsellor" in str(r[7]).split(",")]
        live_now = f"{LIVE} AND (status = 'confirmed' OR hold_expires_at > ?)"
        busy = await self._readers.fetchall(
            f"SELECT staff_id, starts_at, ends_at FROM bookings WHERE {live_now}"
            " AND starts_at < ? AND ends_at > ?"
            " AND NOT (status = 'held' AND contact_id IS ?)",
            (at, hi, lo, contact_id),
            what="bookings.snapshot busy",
            quick=True,
        )
        load = await self._readers.fetchall(
            f"SELECT staff_id, count(*) FROM bookings WHERE {live_now}"
            " AND starts_at >= ? AND starts_at < ? GROUP BY staff_id",
            (at, at, hi),
            what="bookings.snapshot load",
            quick=True,
        )
        mine: list[Booking] = []
        urgency: str | None = None
        if contact_id is not None:
            mine = [
                booking_from_row(r)
                for r in await self._readers.fetchall(
                    f"{SELECT} WHERE contact_id = ? ORDER BY starts_at DESC, id DESC LIMIT 50",
                    (contact_id,),
                    what="bookings.snapshot mine",
                    quick=True,
                )
            ]
            case = await self._readers.fetchone(
                "SELECT urgency FROM cases WHERE contact_id = ? AND status = 'open'",
                (contact_id,),
                what="bookings.snapshot case",
                quick=True,
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
            hours=tuple(hours_from_row(r) for r in counsellors),
            staff_names=tuple(sorted({(int(r[1]), str(r[6])) for r in counsellors})),
            closures=tuple(
                closure_from_row(r)
                for r in await self._readers.fetchall(
                    "SELECT day, reason FROM booking_closures WHERE office_id = ? AND day >= ?"
                    " ORDER BY day",
                    (office_id, lo_day),
                    what="bookings.snapshot closures",
                    quick=True,
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
            f"{SELECT} WHERE id = ?", (booking_id,), what="bookings.get"
        )
        return None if row is None else booking_from_row(row)

    async def by_code(self, code: str) -> Booking | None:
        row = await self._readers.fetchone(
            f"{SELECT} WHERE code = ?", (code.strip().upper(),), what="bookings.by_code"
        )
        return None if row is None else booking_from_row(row)

    async def for_contact(self, contact_id: int) -> list[Booking]:
        rows = await self._readers.fetchall(
            f"{SELECT} WHERE contact_id = ? ORDER BY starts_at, id",
            (contact_id,),
            what="bookings.for_contact",
        )
        return [booking_from_row(r) for r in rows]

    async def for_staff(self, staff_id: int, start: datetime, end: datetime) -> list[Booking]:
        """A counsellor's confirmed and past appointments starting in [start, end), by time."""
        rows = await self._readers.fetchall(
            f"{SELECT} WHERE staff_id = ? AND status IN ('confirmed', 'attended', 'no_show')"
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
            quick=True,
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
            row = await tx.fetchone(f"{SELECT} WHERE code = ?", (wanted,))
            if row is None:
                raise NotFoundError(f"no booking with code {wanted}")
            booking = booking_from_row(row)
            if booking.status == outcome:
                return booking, False
            if booking.status not in ("confirmed", *OUTCOMES):
                raise InvalidRecordError(
                    f"booking {wanted} is {booking.status}; only a confirmed booking is marked",
                    code="booking_not_confirmed",
                    values={"code": wanted, "status": booking.status},
                )
            await close(tx, booking.id, outcome, now)
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
