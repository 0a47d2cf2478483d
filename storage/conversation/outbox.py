"""The outbox: replies waiting to be sent, at least once, most urgent first.

A row's text and options are sealed together as one JSON body under the
recipient's data key. Error codes are short machine codes (checked), so a
transport's error text with a number in it can never be stored.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from datetime import datetime

from storage.conversation.contacts import address_place
from storage.conversation.delivery import DeliveryUpdate, record_status
from storage.crypto.aead import Place
from storage.crypto.vault import Vault
from storage.engine.clock import from_micros, to_micros
from storage.engine.db import Readers, Row, Tx, Writer
from storage.engine.rows import as_bytes, marks, new_rid
from storage.errors import DecryptError, InvalidRecordError, NotFoundError
from storage.records import NewOutbound, OutboxHead, OutboxRef, OutboxRow

__all__ = ["CANCELLED", "OutboxRepo", "cancel_pending", "insert_many", "replace_body"]

_ERROR_CODE = re.compile(r"[A-Za-z0-9_.:\-]{1,64}")
_ROWS_PER_INSERT = 100
_COLUMNS = 9
CANCELLED = "cancelled"
"""The error code of a row withdrawn before it was sent (a reminder of a cancelled booking)."""

_DUE = (
    "SELECT o.id, o.contact_id, o.channel, o.priority, o.due_at, o.attempts, o.rid, o.body_enc,"
    " c.rid, c.address_enc, k.master_key_id, k.wrapped, o.ref"
    " FROM outbox o JOIN contacts c ON c.id = o.contact_id"
    " JOIN contact_keys k ON k.contact_id = o.contact_id"
    " WHERE o.status = 'pending' AND o.due_at <= ? AND coalesce(o.next_attempt_at, 0) <= ?"
    " ORDER BY o.priority, o.due_at, o.id LIMIT ?"
)


# Each contact's next row (most urgent, then oldest) among the rows due now; it may be
# sent only once its retry time has come, so a retried reply is never overtaken by
# the replies that followed it. Written as a walk of the pending index that stops at
# `limit`, each candidate checked against its own contact's rows, instead of ranking
# every pending row on every look (a millisecond per send with a long queue).
_HEADS = (
    "SELECT o.id, o.contact_id, o.channel, o.priority, o.due_at, o.attempts"
    " FROM outbox o WHERE o.status = 'pending' AND o.due_at <= ?"
    " AND coalesce(o.next_attempt_at, 0) <= ?"
    " AND NOT EXISTS (SELECT 1 FROM outbox p WHERE p.contact_id = o.contact_id"
    "  AND p.status = 'pending' AND p.due_at <= ?"
    "  AND (p.priority, p.due_at, p.id) < (o.priority, o.due_at, o.id))"
    " ORDER BY o.priority, o.due_at, o.id LIMIT ?"
)

# Whether the contact of a row has a row pending (the row itself marked already).
_MORE_PENDING = (
    "SELECT EXISTS (SELECT 1 FROM outbox p WHERE p.status = 'pending'"
    " AND p.contact_id = (SELECT o.contact_id FROM outbox o WHERE o.id = ?))"
)

_ONE = (
    "SELECT o.id, o.contact_id, o.channel, o.priority, o.due_at, o.attempts, o.rid, o.body_enc,"
    " c.rid, c.address_enc, k.master_key_id, k.wrapped, o.ref"
    " FROM outbox o JOIN contacts c ON c.id = o.contact_id"
    " JOIN contact_keys k ON k.contact_id = o.contact_id"
    " WHERE o.id = ? AND o.status = 'pending'"
)


def body_place(rid: bytes) -> Place:
    return Place("outbox", "body", rid.hex())


def _encode_body(item: NewOutbound) -> str:
    return _encode(item.text, item.options)


def _encode(text: str, options: Sequence[tuple[str, str]]) -> str:
    return json.dumps(
        {"text": text, "options": [list(pair) for pair in options]},
        ensure_ascii=False,
        separators=(",", ":"),
    )


def _decode_body(body: str, place: Place) -> tuple[str, tuple[tuple[str, str], ...]]:
    data = json.loads(body)
    try:
        options = tuple((str(value), str(label)) for value, label in data["options"])
        return str(data["text"]), options
    except (KeyError, TypeError, ValueError):
        raise DecryptError(f"{place} decrypted to a body of an unknown shape") from None


def _check_code(code: str, what: str) -> str:
    if not _ERROR_CODE.fullmatch(code):
        raise InvalidRecordError(
            f"{what}: error code must be 1-64 characters of letters, digits and _.:-"
        )
    return code


async def insert_many(
    tx: Tx, items: Sequence[NewOutbound], inbox_id: int | None, now: int
) -> list[int]:
    """Inserts sealed rows and returns their ids in the order of `items`."""
    ids: list[int] = []
    for start in range(0, len(items), _ROWS_PER_INSERT):
        chunk = items[start : start + _ROWS_PER_INSERT]
        params: list[object] = []
        rids: list[bytes] = []
        for item in chunk:
            rid = new_rid()
            rids.append(rid)
            dek = await tx.dek(item.contact_id)
            params += [
                rid,
                item.contact_id,
                item.channel,
                item.priority,
                to_micros(item.due_at, "NewOutbound.due_at"),
                Vault.seal_text(dek, body_place(rid), _encode_body(item)),
                inbox_id,
                now,
                None if item.ref is None else str(item.ref),
            ]
        placeholders = ", ".join(["(" + ", ".join("?" * _COLUMNS) + ")"] * len(chunk))
        rows = await tx.fetchall(
            "INSERT INTO outbox (rid, contact_id, channel, priority, due_at, body_enc, inbox_id,"
            f" created_at, ref) VALUES {placeholders} RETURNING rid, id",
            tuple(params),
        )
        # RETURNING order is unspecified in SQLite: match rows by their row keys.
        by_rid = {as_bytes(row[0]): int(row[1]) for row in rows}
        ids.extend(by_rid[rid] for rid in rids)
    return ids


async def cancel_pending(tx: Tx, refs: Sequence[OutboxRef], at: int) -> int:
    """Withdraws the pending rows with these refs (status failed, code `cancelled`)."""
    if not refs:
        return 0
    return await tx.execute(
        "UPDATE outbox SET status = 'failed', last_error = ?, failed_at = ?,"
        f" next_attempt_at = NULL WHERE status = 'pending' AND ref IN ({marks(refs)})",
        (CANCELLED, at, *(str(ref) for ref in refs)),
    )


async def replace_body(
    tx: Tx, outbox_id: int, text: str, options: Sequence[tuple[str, str]]
) -> bool:
    """Seals new words into a row not sent yet (an alert digest that gained cases); False
    once the row is no longer pending."""
    row = await tx.fetchone(
        "SELECT rid, contact_id FROM outbox WHERE id = ? AND status = 'pending'", (outbox_id,)
    )
    if row is None:
        return False
    rid = as_bytes(row[0])
    dek = await tx.dek(int(row[1]))
    body = Vault.seal_text(dek, body_place(rid), _encode(text, options))
    await tx.execute("UPDATE outbox SET body_enc = ? WHERE id = ?", (body, outbox_id))
    return True


class OutboxRepo:
    """What the sender reads and marks; `enqueue` adds rows outside a turn (alerts)."""

    def __init__(
        self, readers: Readers, writer: Writer, vault: Vault, clock: Callable[[], datetime]
    ) -> None:
        self._readers = readers
        self._writer = writer
        self._vault = vault
        self._clock = clock

    async def due(self, now: datetime, limit: int = 100) -> list[OutboxRow]:
        """Pending rows sendable at `now`: most urgent first, then by due time, then id."""
        at = to_micros(now, "outbox.due now")
        rows = await self._readers.fetchall(_DUE, (at, at, limit), what="outbox.due")
        return [self._decode(row) for row in rows]

    async def heads(self, now: datetime, limit: int = 100) -> list[OutboxHead]:
        """Each contact's next sendable row, most urgent first; nothing is decrypted.

        The sender takes what it can send from these and `load`s only those, so a
        long queue under a rate limit costs no decryption per look.
        """
        at = to_micros(now, "outbox.heads now")
        rows = await self._readers.fetchall(
            _HEADS, (at, at, at, limit), what="outbox.heads", quick=True
        )
        return [
            OutboxHead(
                id=int(r[0]),
                contact_id=int(r[1]),
                channel=str(r[2]),
                priority=int(r[3]),
                due_at=from_micros(int(r[4])),
                attempts=int(r[5]),
            )
            for r in rows
        ]

    async def load(self, outbox_id: int) -> OutboxRow | None:
        """One pending row, decrypted (None once it is no longer pending)."""
        row = await self._readers.fetchone(_ONE, (outbox_id,), what="outbox.load", quick=True)
        return None if row is None else self._decode(row)

    async def next_due_at(self, after: datetime | None = None) -> datetime | None:
        """The earliest moment any pending row becomes sendable (after `after`, if given)."""
        sendable = "max(due_at, coalesce(next_attempt_at, due_at))"
        if after is None:
            row = await self._readers.fetchone(
                f"SELECT min({sendable}) FROM outbox WHERE status = 'pending'",
                what="outbox.next_due_at",
                quick=True,
            )
        else:
            row = await self._readers.fetchone(
                f"SELECT min({sendable}) FROM outbox WHERE status = 'pending' AND {sendable} > ?",
                (to_micros(after, "outbox.next_due_at after"),),
                what="outbox.next_due_at",
                quick=True,
            )
        return None if row is None or row[0] is None else from_micros(int(row[0]))

    async def count_pending(self) -> int:
        row = await self._readers.fetchone(
            "SELECT count(*) FROM outbox WHERE status = 'pending'", what="outbox.count_pending"
        )
        return 0 if row is None else int(row[0])

    async def enqueue(self, items: Sequence[NewOutbound]) -> list[int]:
        """Queues rows in one transaction; returns their ids in order."""
        batch = tuple(items)
        now = to_micros(self._clock(), "clock")

        async def job(tx: Tx) -> list[int]:
            return await insert_many(tx, batch, None, now)

        return await self._writer.run("outbox.enqueue", job)

    async def provider_id(self, outbox_id: int) -> str | None:
        """The transport's id(s) of a sent row ("12,13"), None while unsent."""
        row = await self._readers.fetchone(
            "SELECT provider_id FROM outbox WHERE id = ? AND status = 'sent'",
            (outbox_id,),
            what="outbox.provider_id",
        )
        return None if row is None or row[0] is None else str(row[0])

    async def mark_sent(self, outbox_id: int, provider_id: str | None, at: datetime) -> bool:
        """Records delivery; marking an already-finished row again changes nothing.

        Returns whether the row's contact has another row pending, read in the same
        transaction: a sender that sent a reply without looking for it (`OutboxSender.offer`)
        looks for due rows after it only then.
        """
        return await self._finish(
            "outbox.mark_sent",
            outbox_id,
            "UPDATE outbox SET status = 'sent', attempts = attempts + 1, provider_id = ?,"
            " sent_at = ?, next_attempt_at = NULL WHERE id = ? AND status = 'pending'",
            (provider_id, to_micros(at, "outbox.mark_sent at"), outbox_id),
            more=True,
        )

    async def mark_retry(self, outbox_id: int, error_code: str, retry_at: datetime) -> None:
        """Counts a failed attempt and hides the row until `retry_at`."""
        code = _check_code(error_code, "outbox.mark_retry")
        await self._finish(
            "outbox.mark_retry",
            outbox_id,
            "UPDATE outbox SET attempts = attempts + 1, last_error = ?, next_attempt_at = ?"
            " WHERE id = ? AND status = 'pending'",
            (code, to_micros(retry_at, "outbox.mark_retry retry_at"), outbox_id),
        )

    async def retry_now(
        self, channel: str, codes: Sequence[str], now: datetime, *, limit: int | None = None
    ) -> int:
        """Brings forward to `now` the pending rows of `channel` waiting to be retried after
        one of `codes` (an upstream fault that has ended), the soonest due first; at most
        `limit` of them. Their attempts stay counted. Returns how many."""
        if not codes:
            return 0
        at = to_micros(now, "outbox.retry_now now")
        marks = ", ".join("?" for _ in codes)
        # No limit is no LIMIT clause: SQLite's `LIMIT -1` is an error on PostgreSQL.
        capped = "" if limit is None else " LIMIT ?"
        sql = (
            "UPDATE outbox SET next_attempt_at = ? WHERE id IN (SELECT id FROM outbox"
            " WHERE status = 'pending' AND channel = ? AND next_attempt_at > ?"
            f" AND last_error IN ({marks}) ORDER BY next_attempt_at, id{capped})"
        )
        params = (at, channel, at, *codes, *(() if limit is None else (int(limit),)))

        async def job(tx: Tx) -> int:
            return await tx.execute(sql, params)

        return await self._writer.run("outbox.retry_now", job)

    async def mark_failed(self, outbox_id: int, error_code: str, at: datetime) -> None:
        """Gives up on a row for good (blocked bot, too many attempts)."""
        code = _check_code(error_code, "outbox.mark_failed")
        await self._finish(
            "outbox.mark_failed",
            outbox_id,
            "UPDATE outbox SET status = 'failed', attempts = attempts + 1, last_error = ?,"
            " failed_at = ?, next_attempt_at = NULL WHERE id = ? AND status = 'pending'",
            (code, to_micros(at, "outbox.mark_failed at"), outbox_id),
        )

    async def record_status(
        self,
        provider_id: str,
        status: str,
        at: datetime,
        *,
        outbox_id: int | None = None,
        error_code: str | None = None,
    ) -> DeliveryUpdate | None:
        """Records what the transport reports of a sent message (see `delivery`)."""
        return await record_status(
            self._writer, provider_id, status, at, outbox_id=outbox_id, error_code=error_code
        )

    async def _finish(
        self,
        name: str,
        outbox_id: int,
        sql: str,
        params: tuple[object, ...],
        *,
        more: bool = False,
    ) -> bool:
        """Runs one row's update; with `more`, says whether its contact has another row
        pending once it is done (else False)."""

        async def job(tx: Tx) -> bool:
            if await tx.execute(sql, params) == 0:
                exists = await tx.fetchone("SELECT 1 FROM outbox WHERE id = ?", (outbox_id,))
                if exists is None:
                    raise NotFoundError(f"{name}: outbox row {outbox_id} does not exist")
            if not more:
                return False
            found = await tx.fetchone(_MORE_PENDING, (outbox_id,))
            return found is not None and bool(found[0])

        return await self._writer.run(name, job)

    def _decode(self, row: Row) -> OutboxRow:
        contact_id = int(row[1])
        dek = self._vault.unwrap_dek(contact_id, str(row[10]), as_bytes(row[11]))
        place = body_place(as_bytes(row[6]))
        text, options = _decode_body(Vault.open_text(dek, place, as_bytes(row[7])), place)
        address = Vault.open_text(dek, address_place(as_bytes(row[8])), as_bytes(row[9]))
        return OutboxRow(
            id=int(row[0]),
            contact_id=contact_id,
            channel=str(row[2]),
            address=address,
            text=text,
            options=options,
            priority=int(row[3]),
            due_at=from_micros(int(row[4])),
            attempts=int(row[5]),
            ref=OutboxRef.parse(None if row[12] is None else str(row[12])),
        )
