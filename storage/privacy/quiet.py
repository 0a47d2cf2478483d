"""Whether a family left in a hurry: a quick exit, and no message from them since.

After `keluar` the phone may be in the hands of the person they fear, so nothing
at all may reach it (no "a counsellor is reading", no reminder, no reply from a
counsellor) until the family writes again. The fact is derived, never stored: the
latest quick exit (`message_cleanups`) covers the family's newest message. Read
inside the transaction that would write to the family, so a quick exit that
commits first is always seen.
"""

from __future__ import annotations

from datetime import datetime

from storage.engine.clock import from_micros
from storage.engine.db import Readers, Tx

__all__ = ["LEFT_SQL", "left_at", "left_at_now"]

LEFT_SQL = (
    "SELECT max(m.requested_at) FROM message_cleanups m WHERE m.contact_id = ?"
    " AND m.up_to_inbox_id >= (SELECT coalesce(max(i.id), 0) FROM inbox i WHERE i.contact_id = ?)"
)


async def left_at(tx: Tx, contact_id: int) -> datetime | None:
    """When the family left in a hurry, if they have not written since (in a transaction)."""
    row = await tx.fetchone(LEFT_SQL, (contact_id, contact_id))
    return None if row is None or row[0] is None else from_micros(int(row[0]))


async def left_at_now(readers: Readers, contact_id: int) -> datetime | None:
    """`left_at`, read outside a transaction (what a page shows)."""
    row = await readers.fetchone(LEFT_SQL, (contact_id, contact_id), what="privacy.left_at")
    return None if row is None or row[0] is None else from_micros(int(row[0]))
