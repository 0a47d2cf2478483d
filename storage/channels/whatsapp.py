"""WhatsApp's customer service window, per contact, and the replies held until it opens.

WhatsApp accepts free text only within 24 hours of the person's last message;
outside that window only approved templates go. `whatsapp_windows` keeps each
WhatsApp contact's last inbound time, set by a trigger in the same transaction
that stores the message, so it can never lag behind the inbox. It also notes
when the neutral "there is a new message for you" template went out, so a closed
window gets that template once, not once per waiting reply.

A reply that may not go now (a counsellor's message after the window closed) is
held: its due time moves ahead to when holding gives up, and a `whatsapp_held`
row remembers it. When the person writes again, the same trigger makes every
held reply due at once, before the bot's answer to the new message. A held reply
does not block the contact's other replies (a reminder template still goes).

Migration 0006 creates these tables and `deliveries` (`storage.conversation.delivery`).
Codes and times only; both tables go with their contact (ON DELETE CASCADE).

    (errors: storage.errors.NotFoundError for a row that does not exist)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from storage.engine.clock import from_micros, to_micros
from storage.engine.db import Readers, Row, Tx, Writer
from storage.errors import NotFoundError

__all__ = ["AWAITING_WINDOW", "Window", "WhatsAppRepo"]

AWAITING_WINDOW = "awaiting_window"
"""The `last_error` of a held reply, for anyone reading the outbox."""


_WINDOW = (
    "SELECT o.contact_id, w.last_inbound_at, w.notified_at, c.language, h.held_at"
    " FROM outbox o JOIN contacts c ON c.id = o.contact_id"
    " LEFT JOIN whatsapp_windows w ON w.contact_id = o.contact_id"
    " LEFT JOIN whatsapp_held h ON h.outbox_id = o.id"
    " WHERE o.id = ?"
)


def _at(value: object) -> datetime | None:
    return None if value is None else from_micros(int(str(value)))


@dataclass(frozen=True, slots=True)
class Window:
    """A reply's contact and what is known of their window; the reply's hold."""

    contact_id: int
    last_inbound_at: datetime | None  # None: the person never wrote on WhatsApp
    notified_at: datetime | None  # the "new message" template went out since it closed
    language: str | None
    held_at: datetime | None = None  # when the row was first held

    @classmethod
    def from_row(cls, row: Row) -> Window:
        return cls(
            contact_id=int(row[0]),
            last_inbound_at=_at(row[1]),
            notified_at=_at(row[2]),
            language=None if row[3] is None else str(row[3]),
            held_at=_at(row[4]),
        )


class WhatsAppRepo:
    """Reads windows; records the notice template and held replies."""

    def __init__(self, readers: Readers, writer: Writer) -> None:
        self._readers = readers
        self._writer = writer

    async def for_row(self, outbox_id: int) -> Window | None:
        """The window of the contact an outbox row goes to (None: no such row)."""
        row = await self._readers.fetchone(_WINDOW, (outbox_id,), what="whatsapp.for_row")
        return None if row is None else Window.from_row(row)

    async def for_contact(self, contact_id: int) -> Window | None:
        """A contact's window (for the console: how long a reply may still be free text)."""
        row = await self._readers.fetchone(
            "SELECT c.id, w.last_inbound_at, w.notified_at, c.language, NULL, NULL"
            " FROM contacts c LEFT JOIN whatsapp_windows w ON w.contact_id = c.id"
            " WHERE c.id = ?",
            (contact_id,),
            what="whatsapp.for_contact",
        )
        return None if row is None else Window.from_row(row)

    async def held(self, contact_id: int) -> list[int]:
        """The outbox ids held for this contact until they write again, oldest first."""
        rows = await self._readers.fetchall(
            "SELECT outbox_id FROM whatsapp_held WHERE contact_id = ? ORDER BY outbox_id",
            (contact_id,),
            what="whatsapp.held",
        )
        return [int(r[0]) for r in rows]

    async def notified(self, contact_id: int, at: datetime) -> None:
        """Notes that the "new message" template went out (until the person writes again)."""
        micros = to_micros(at, "whatsapp.notified at")

        async def job(tx: Tx) -> None:
            await tx.execute(
                "INSERT INTO whatsapp_windows (contact_id, last_inbound_at, notified_at)"
                " VALUES (?, 0, ?) ON CONFLICT (contact_id) DO UPDATE SET"
                " notified_at = excluded.notified_at",
                (contact_id, micros),
            )

        await self._writer.run("whatsapp.notified", job)

    async def close(self, contact_id: int, closed_at: datetime) -> None:
        """WhatsApp says the window is closed: no inbound is counted later than `closed_at`.

        For when the transport knows better than our clock (error 63016).
        """
        micros = to_micros(closed_at, "whatsapp.close closed_at")

        async def job(tx: Tx) -> None:
            await tx.execute(
                "UPDATE whatsapp_windows SET last_inbound_at = min(last_inbound_at, ?)"
                " WHERE contact_id = ?",
                (micros, contact_id),
            )

        await self._writer.run("whatsapp.close", job)

    async def hold(self, outbox_id: int, until: datetime, at: datetime) -> bool:
        """Holds a pending reply until the person writes again, or at most until `until`.

        False when the row is no longer pending (cancelled or erased meanwhile).
        """
        due = to_micros(until, "whatsapp.hold until")
        now = to_micros(at, "whatsapp.hold at")

        async def job(tx: Tx) -> bool:
            row = await tx.fetchone(
                "SELECT contact_id FROM outbox WHERE id = ? AND status = 'pending'", (outbox_id,)
            )
            if row is None:
                exists = await tx.fetchone("SELECT 1 FROM outbox WHERE id = ?", (outbox_id,))
                if exists is None:
                    raise NotFoundError(f"whatsapp.hold: outbox row {outbox_id} does not exist")
                return False
            await tx.execute(
                "UPDATE outbox SET due_at = ?, next_attempt_at = NULL, last_error = ? WHERE id = ?",
                (due, AWAITING_WINDOW, outbox_id),
            )
            await tx.execute(
                "INSERT INTO whatsapp_held (outbox_id, contact_id, held_at) VALUES (?, ?, ?)"
                " ON CONFLICT (outbox_id) DO NOTHING",
                (outbox_id, int(row[0]), now),
            )
            return True

        return await self._writer.run("whatsapp.hold", job)
