"""Delivery receipts: what a transport reports became of a reply it accepted.

Twilio calls back with its own message id as a message is queued, sent,
delivered and read, or when it failed. One outbox row may have gone out as
several transport messages (a long text in parts), so a receipt is kept per
transport message, and the row's delivery status is the least advanced of its
parts. Receipts hold ids, codes and times only: nothing a person wrote.

A status only moves forward (a late "sent" never undoes "delivered"); a failure
is final for that transport message. A failed reply can be put back in the queue
(`retry_sent`, for a handset that was off) or failed for good (`fail_sent`).

    (errors: storage.errors.InvalidRecordError for a malformed status, id or code)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from storage.engine.clock import from_micros, to_micros
from storage.engine.db import Readers, Tx, Writer
from storage.errors import InvalidRecordError

__all__ = [
    "DELIVERY_STATUSES",
    "FAILED_STATUSES",
    "DeliveryRepo",
    "DeliveryUpdate",
    "record_status",
]

# Each status's place in a message's life; a receipt moves only to a higher place.
_RANK = {
    "accepted": 0,
    "scheduled": 0,
    "queued": 1,
    "sending": 2,
    "sent": 3,
    "delivered": 4,
    "read": 5,
    "undelivered": 6,
    "failed": 6,
    "canceled": 6,
}
DELIVERY_STATUSES = frozenset(_RANK)
FAILED_STATUSES = frozenset({"undelivered", "failed", "canceled"})

_PROVIDER_ID = re.compile(r"[A-Za-z0-9_\-]{1,64}")
_CODE = re.compile(r"[A-Za-z0-9_.:\-]{1,64}")


@dataclass(frozen=True, slots=True)
class DeliveryUpdate:
    """What one receipt changed, and what the sender needs to decide what comes next."""

    outbox_id: int
    contact_id: int
    channel: str
    status: str  # this transport message's status now
    error_code: str | None
    changed: bool  # False for a repeat or a status that came late
    row_status: str  # the outbox row's own status: pending, sent or failed
    failures: int  # this row's transport messages that failed so far


def _check(provider_id: str, status: str, error_code: str | None) -> None:
    if not _PROVIDER_ID.fullmatch(provider_id):
        raise InvalidRecordError("record_status: provider id must be 1-64 letters, digits, _ or -")
    if status not in DELIVERY_STATUSES:
        raise InvalidRecordError(
            f"record_status: status {status!r} is not one of {sorted(DELIVERY_STATUSES)}"
        )
    if error_code is not None and not _CODE.fullmatch(error_code):
        raise InvalidRecordError("record_status: error code must be 1-64 characters of _.:-")


async def _record(
    tx: Tx,
    provider_id: str,
    status: str,
    at: int,
    outbox_id: int | None,
    error_code: str | None,
) -> DeliveryUpdate | None:
    known = await tx.fetchone(
        "SELECT outbox_id, status, error_code FROM deliveries WHERE provider_id = ?",
        (provider_id,),
    )
    if known is not None:
        outbox_id = int(known[0])
    elif outbox_id is None:
        # Callbacks set up outside the bot carry no row id: a single-part reply is found by its id.
        found = await tx.fetchone("SELECT id FROM outbox WHERE provider_id = ?", (provider_id,))
        outbox_id = None if found is None else int(found[0])
    if outbox_id is None:
        return None
    row = await tx.fetchone(
        "SELECT contact_id, channel, status FROM outbox WHERE id = ?", (outbox_id,)
    )
    if row is None:
        return None
    changed = known is None or _RANK[status] > _RANK[str(known[1])]
    if known is None:
        await tx.execute(
            "INSERT INTO deliveries (provider_id, outbox_id, status, error_code, updated_at)"
            " VALUES (?, ?, ?, ?, ?)",
            (provider_id, outbox_id, status, error_code, at),
        )
    elif changed:
        await tx.execute(
            "UPDATE deliveries SET status = ?, error_code = ?, updated_at = ?"
            " WHERE provider_id = ?",
            (status, error_code, at, provider_id),
        )
    else:
        status = str(known[1])
        error_code = None if known[2] is None else str(known[2])
    failed = await tx.fetchone(
        "SELECT count(*) FROM deliveries WHERE outbox_id = ?"
        " AND status IN ('undelivered', 'failed', 'canceled')",
        (outbox_id,),
    )
    return DeliveryUpdate(
        outbox_id=outbox_id,
        contact_id=int(row[0]),
        channel=str(row[1]),
        status=status,
        error_code=error_code,
        changed=changed,
        row_status=str(row[2]),
        failures=0 if failed is None else int(failed[0]),
    )


async def record_status(
    writer: Writer,
    provider_id: str,
    status: str,
    at: datetime,
    *,
    outbox_id: int | None = None,
    error_code: str | None = None,
) -> DeliveryUpdate | None:
    """Records one transport message's status; None when no outbox row is known for it.

    `outbox_id` is the row the transport message was sent for, when the callback
    says (the bot puts it in the callback address); otherwise a single-part
    reply is found by the id `mark_sent` stored.
    """
    _check(provider_id, status, error_code)
    micros = to_micros(at, "record_status at")

    async def job(tx: Tx) -> DeliveryUpdate | None:
        return await _record(tx, provider_id, status, micros, outbox_id, error_code)

    return await writer.run("outbox.record_status", job)


class DeliveryRepo:
    """Receipts by row, and what is done with a reply the transport could not deliver."""

    def __init__(self, readers: Readers, writer: Writer) -> None:
        self._readers = readers
        self._writer = writer

    async def status_of(self, outbox_id: int) -> tuple[str, datetime] | None:
        """The row's delivery status and when it was last reported; None before any report.

        A failed part makes the row failed; otherwise the row is as far as its least
        advanced part (delivered only once every part is).
        """
        rows = await self._readers.fetchall(
            "SELECT status, updated_at FROM deliveries WHERE outbox_id = ?",
            (outbox_id,),
            what="deliveries.status_of",
        )
        if not rows:
            return None
        latest = from_micros(max(int(r[1]) for r in rows))
        failed = [str(r[0]) for r in rows if str(r[0]) in FAILED_STATUSES]
        if failed:
            return failed[0], latest
        least = min(rows, key=lambda r: _RANK.get(str(r[0]), 0))
        return str(least[0]), latest

    async def retry_sent(self, outbox_id: int, error_code: str, retry_at: datetime) -> bool:
        """Puts a sent reply that was not delivered back in the queue, to go at `retry_at`.

        Counts an attempt; False when the row is no longer a sent row (already retried,
        failed, or erased).
        """
        code = _code(error_code, "deliveries.retry_sent")
        at = to_micros(retry_at, "deliveries.retry_sent retry_at")

        async def job(tx: Tx) -> bool:
            changed = await tx.execute(
                "UPDATE outbox SET status = 'pending', attempts = attempts + 1, last_error = ?,"
                " next_attempt_at = ? WHERE id = ? AND status = 'sent'",
                (code, at, outbox_id),
            )
            return changed > 0

        return await self._writer.run("deliveries.retry_sent", job)

    async def fail_sent(self, outbox_id: int, error_code: str, at: datetime) -> bool:
        """Marks a sent reply that will never be delivered as failed, with the transport's code."""
        code = _code(error_code, "deliveries.fail_sent")
        micros = to_micros(at, "deliveries.fail_sent at")

        async def job(tx: Tx) -> bool:
            changed = await tx.execute(
                "UPDATE outbox SET status = 'failed', last_error = ?, failed_at = ?,"
                " next_attempt_at = NULL WHERE id = ? AND status = 'sent'",
                (code, micros, outbox_id),
            )
            return changed > 0

        return await self._writer.run("deliveries.fail_sent", job)


def _code(code: str, what: str) -> str:
    if not _CODE.fullmatch(code):
        raise InvalidRecordError(f"{what}: error code must be 1-64 characters of _.:-")
    return code
