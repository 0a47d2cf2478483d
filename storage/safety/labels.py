"""Counsellors' labels on families' messages: what the crisis check should have said.

A counsellor reading a case marks an inbound message `urgent` ("this was urgent"),
`check` or `none` ("false alarm"). One label per message; a new one replaces the
old. The row keeps a copy of the message's words sealed under the contact's data
key and bound to the label row, so the label outlives a message whose words are
later blanked but never the contact: erasure deletes the rows (they point at the
contact) and destroying the key makes every copy unreadable. The level the
classifier gave when the label was made, the staff id and the time are plain.

Labels leave the database only through `export`, for retraining (`lk3 safety
export-labels`): levels and words, plus the contact's case and booking codes so
the caller can mask them in the words; never an id, address or name.

    StorageError (storage.errors)
     └── InvalidRecordError   an unknown label or level
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from storage.conversation.inbox import text_place
from storage.crypto.aead import Place
from storage.crypto.vault import Vault
from storage.engine.clock import from_micros, to_micros
from storage.engine.db import Readers, Tx, Writer
from storage.engine.rows import as_bytes, new_rid
from storage.errors import DecryptError, InvalidRecordError
from storage.privacy import audit
from storage.privacy.audit import AuditEntry

__all__ = [
    "LABELS",
    "ExportedLabel",
    "MessageLabel",
    "SafetyLabelRepo",
    "label_text_place",
]

LABELS = ("urgent", "check", "none")


_NO_END = 2**62


def label_text_place(rid: bytes) -> Place:
    return Place("safety_labels", "text", rid.hex())


@dataclass(frozen=True, slots=True)
class MessageLabel:
    """The current label of one inbound message, as the case page shows it."""

    inbox_id: int
    label: str
    level: str  # what the classifier said when the label was made
    staff_id: int | None
    at: datetime


@dataclass(frozen=True, slots=True)
class ExportedLabel:
    """One labelled message for retraining: the words and codes to mask in them, no ids."""

    label: str
    level: str
    text: str = field(repr=False)
    codes: tuple[str, ...] = field(repr=False, default=())


def _known(value: str, what: str) -> str:
    if value not in LABELS:
        raise InvalidRecordError(f"safety label: {what} {value!r} is not one of {LABELS}")
    return value


class SafetyLabelRepo:
    """Reads and writes counsellors' labels; the caller checks who may label which case."""

    def __init__(
        self, readers: Readers, writer: Writer, vault: Vault, clock: Callable[[], datetime]
    ) -> None:
        self._readers = readers
        self._writer = writer
        self._vault = vault
        self._clock = clock

    async def message_text(
        self, contact_id: int, inbox_id: int, *, until: datetime | None = None
    ) -> str | None:
        """The words of the contact's processed message `inbox_id` (received by `until`),
        else None."""
        end = _NO_END if until is None else to_micros(until, "label until")
        row = await self._readers.fetchone(
            "SELECT i.rid, i.text_enc, k.master_key_id, k.wrapped FROM inbox i"
            " JOIN contact_keys k ON k.contact_id = i.contact_id"
            " WHERE i.id = ? AND i.contact_id = ? AND i.received_at <= ?"
            " AND i.processed_at IS NOT NULL",
            (inbox_id, contact_id, end),
            what="safety_labels.message_text",
        )
        if row is None:
            return None
        dek = self._vault.unwrap_dek(contact_id, str(row[2]), as_bytes(row[3]))
        return Vault.open_text(dek, text_place(as_bytes(row[0])), as_bytes(row[1]))

    async def put(
        self,
        contact_id: int,
        inbox_id: int,
        label: str,
        *,
        level: str,
        staff_id: int,
        entry: AuditEntry,
        until: datetime | None = None,
    ) -> bool:
        """Labels the contact's message, replacing any label it had, and appends `entry`
        to the audit log in the same transaction.

        False (and nothing written) when the message is not the contact's, came
        after `until`, has no words to learn from, or is not processed yet: its
        turn may still decide not to keep the words (consent declined), and a
        copy made before that would outlive them.
        """
        _known(label, "label")
        _known(level, "level")
        end = _NO_END if until is None else to_micros(until, "label until")
        now = to_micros(self._clock(), "clock")

        async def job(tx: Tx) -> bool:
            row = await tx.fetchone(
                "SELECT rid, text_enc FROM inbox WHERE id = ? AND contact_id = ?"
                " AND received_at <= ? AND processed_at IS NOT NULL",
                (inbox_id, contact_id, end),
            )
            if row is None:
                return False
            dek = await tx.dek(contact_id)
            text = Vault.open_text(dek, text_place(as_bytes(row[0])), as_bytes(row[1]))
            if not text.strip():
                return False
            rid = new_rid()
            await tx.execute(
                "INSERT INTO safety_labels (rid, inbox_id, contact_id, label, level, staff_id,"
                " text_enc, labelled_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (inbox_id) DO UPDATE SET rid = excluded.rid,"
                " label = excluded.label, level = excluded.level, staff_id = excluded.staff_id,"
                " text_enc = excluded.text_enc, labelled_at = excluded.labelled_at",
                (
                    rid,
                    inbox_id,
                    contact_id,
                    label,
                    level,
                    staff_id,
                    Vault.seal_text(dek, label_text_place(rid), text),
                    now,
                ),
            )
            await audit.append(tx, entry, now)
            return True

        return await self._writer.run("safety_labels.put", job)

    async def for_contact(self, contact_id: int) -> dict[int, MessageLabel]:
        """The contact's labels by inbox id (nothing is decrypted)."""
        rows = await self._readers.fetchall(
            "SELECT inbox_id, label, level, staff_id, labelled_at FROM safety_labels"
            " WHERE contact_id = ? ORDER BY inbox_id",
            (contact_id,),
            what="safety_labels.for_contact",
        )
        labels = {}
        for r in rows:
            staff_id = None if r[3] is None else int(r[3])
            labels[int(r[0])] = MessageLabel(
                int(r[0]), str(r[1]), str(r[2]), staff_id, from_micros(int(r[4]))
            )
        return labels

    async def export(self) -> tuple[list[ExportedLabel], int]:
        """Every label whose words can still be read, oldest first, and how many could not.

        A row that does not open (a contact erased, then an older backup restored)
        is left out: its words are unreadable by design. The caller audits first.
        """
        rows = await self._readers.fetchall(
            "SELECT l.contact_id, l.rid, l.label, l.level, l.text_enc, k.master_key_id, k.wrapped"
            " FROM safety_labels l JOIN contact_keys k ON k.contact_id = l.contact_id"
            " ORDER BY l.id",
            what="safety_labels.export",
        )
        codes: dict[int, list[str]] = {}
        for contact_id, code in await self._readers.fetchall(
            "SELECT contact_id, code FROM cases WHERE contact_id IN"
            " (SELECT contact_id FROM safety_labels)"
            " UNION SELECT contact_id, code FROM bookings WHERE contact_id IN"
            " (SELECT contact_id FROM safety_labels)",
            what="safety_labels.export",
        ):
            codes.setdefault(int(contact_id), []).append(str(code))
        out: list[ExportedLabel] = []
        unreadable = 0
        for r in rows:
            contact_id = int(r[0])
            try:
                dek = self._vault.unwrap_dek(contact_id, str(r[5]), as_bytes(r[6]))
                text = Vault.open_text(dek, label_text_place(as_bytes(r[1])), as_bytes(r[4]))
            except DecryptError:  # ErasedError included
                unreadable += 1
                continue
            out.append(
                ExportedLabel(str(r[2]), str(r[3]), text, tuple(sorted(codes.get(contact_id, []))))
            )
        return out, unreadable
