"""The inbox: every message received, durable before it is acknowledged, deduplicated.

The transport's message id is kept as a blind index (for the uniqueness check)
plus a sealed copy, so even an id that embeds a chat id never lies in the file
in plain text.
"""

from __future__ import annotations

from dataclasses import dataclass

from storage.conversation.sessions import state_place
from storage.crypto.aead import Place
from storage.crypto.vault import Vault
from storage.engine.clock import from_micros, to_micros
from storage.engine.db import Readers, Row, Tx
from storage.engine.rows import as_bytes, new_rid
from storage.errors import InvalidRecordError
from storage.records import InboxRow, NewInbound

__all__ = ["InboxRepo", "TurnStart", "forget_earlier", "forget_text", "insert"]

_SELECT = (
    "SELECT i.id, i.contact_id, i.channel, i.kind, i.received_at, i.rid,"
    " i.transport_id_enc, i.text_enc, k.master_key_id, k.wrapped, i.reply_to"
    " FROM inbox i JOIN contact_keys k ON k.contact_id = i.contact_id"
)

# What a turn needs to begin, in one read (one snapshot, one trip to a reader
# thread instead of four): the message, the contact's session state, whether the
# contact is an active staff member's linked chat, and whether a counsellor holds
# the contact's case.
_TURN_START = (
    _SELECT.replace(
        " FROM inbox i",
        ", s.state_enc,"
        " EXISTS (SELECT 1 FROM staff WHERE contact_id = i.contact_id AND active = 1),"
        " EXISTS (SELECT 1 FROM cases WHERE contact_id = i.contact_id AND status = 'taken'"
        " AND owner_staff_id IS NOT NULL)"
        " FROM inbox i",
        1,
    )
    + " LEFT JOIN sessions s ON s.contact_id = i.contact_id"
    " WHERE i.id = ? AND i.processed_at IS NULL"
)


@dataclass(frozen=True, slots=True)
class TurnStart:
    """An unprocessed message with what decides who answers it."""

    row: InboxRow
    session: str | None  # the decrypted state JSON; None before the first turn
    staff: bool  # the sender is an active staff member's linked chat
    held: bool  # a counsellor holds the sender's case


_FORGOTTEN_LENGTH = len(Vault.seal_text(bytes(32), Place("inbox", "text", "00"), ""))
"""The stored length of words forgotten (sealed ""): the same for every row."""


def text_place(rid: bytes) -> Place:
    return Place("inbox", "text", rid.hex())


def transport_id_place(rid: bytes) -> Place:
    return Place("inbox", "transport_id", rid.hex())


def transport_key(vault: Vault, channel: str, transport_id: str) -> bytes:
    return vault.blind(f"transport:{channel}", transport_id)


async def insert(tx: Tx, channel: str, contact_id: int, dek: bytes, item: NewInbound) -> int | None:
    """Stores the message; None if this (channel, transport id) is already stored."""
    if item.channel != channel:
        raise InvalidRecordError(
            f"inbox insert: message of channel {item.channel!r} received on {channel!r}"
        )
    rid = new_rid()
    row = await tx.fetchone(
        "INSERT INTO inbox (rid, channel, transport_key, transport_id_enc, contact_id, kind,"
        " text_enc, received_at, reply_to) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (channel, transport_key) DO NOTHING RETURNING id",
        (
            rid,
            channel,
            transport_key(tx.vault, channel, item.transport_id),
            Vault.seal_text(dek, transport_id_place(rid), item.transport_id),
            contact_id,
            item.kind,
            Vault.seal_text(dek, text_place(rid), item.text),
            to_micros(item.received_at, "NewInbound.received_at"),
            item.reply_to,
        ),
    )
    return None if row is None else int(row[0])


async def forget_text(tx: Tx, inbox_id: int) -> None:
    """Replaces a processed message's words with nothing (a person who declined consent).

    The row stays, so the dedupe key and the counts survive; the text does not, nor
    a photo or voice note kept with it (storage.media).
    """
    row = await tx.fetchone("SELECT rid, contact_id FROM inbox WHERE id = ?", (inbox_id,))
    if row is None:
        return
    rid = as_bytes(row[0])
    dek = await tx.dek(int(row[1]))
    await tx.execute(
        "UPDATE inbox SET text_enc = ? WHERE id = ?",
        (Vault.seal_text(dek, text_place(rid), ""), inbox_id),
    )
    await tx.execute("DELETE FROM media WHERE inbox_id = ?", (inbox_id,))


async def forget_earlier(tx: Tx, contact_id: int, up_to_inbox_id: int) -> int:
    """Erases the words of every message of the contact up to this one (consent declined).

    Someone who says no keeps nothing, including what they wrote before they were
    asked. Unless a case of theirs is still open or taken: then a counsellor must be
    able to read what led to it, and the words go with the case's retention instead.
    Returns how many messages were forgotten.
    """
    live = await tx.fetchone(
        "SELECT 1 FROM cases WHERE contact_id = ? AND status != 'closed' LIMIT 1", (contact_id,)
    )
    if live is not None:
        return 0
    # Only rows that still hold words: a sealed "" has a fixed length, and any word makes
    # it longer, so a decliner's every turn rewrites only what is left, not all of it.
    rows = await tx.fetchall(
        "SELECT id FROM inbox WHERE contact_id = ? AND id <= ? AND length(text_enc) > ?"
        " ORDER BY id",
        (contact_id, up_to_inbox_id, _FORGOTTEN_LENGTH),
    )
    for (inbox_id,) in rows:
        await forget_text(tx, int(inbox_id))
    return len(rows)


class InboxRepo:
    """Reads the inbox; its writes are `TurnRepo.receive` and `.commit_turn` (turns.py)."""

    def __init__(self, readers: Readers, vault: Vault) -> None:
        self._readers = readers
        self._vault = vault

    async def pending(self, limit: int = 1000) -> list[InboxRow]:
        """Messages not yet processed, oldest first (recovery after a crash)."""
        rows = await self._readers.fetchall(
            f"{_SELECT} WHERE i.processed_at IS NULL ORDER BY i.id LIMIT ?",
            (limit,),
            what="inbox.pending",
        )
        return [self._decode(row) for row in rows]

    async def get(self, inbox_id: int) -> InboxRow | None:
        row = await self._readers.fetchone(
            f"{_SELECT} WHERE i.id = ?", (inbox_id,), what="inbox.get"
        )
        return None if row is None else self._decode(row)

    async def unprocessed(self, inbox_id: int) -> InboxRow | None:
        """The message if it is stored and not yet processed, in one read.

        The pipeline asks this before every turn: a message processed already
        (recovery racing a live receive) or gone (erased) gives None.
        """
        row = await self._readers.fetchone(
            f"{_SELECT} WHERE i.id = ? AND i.processed_at IS NULL",
            (inbox_id,),
            what="inbox.unprocessed",
        )
        return None if row is None else self._decode(row)

    async def turn_start(self, inbox_id: int) -> TurnStart | None:
        """`unprocessed` with the session and the staff and held-case flags, in one read."""
        row = await self._readers.fetchone(
            _TURN_START, (inbox_id,), what="inbox.turn_start", quick=True
        )
        if row is None:
            return None
        message = self._decode(row)
        session = None
        if row[11] is not None:
            dek = self._vault.unwrap_dek(message.contact_id, str(row[8]), as_bytes(row[9]))
            session = Vault.open_text(dek, state_place(message.contact_id), as_bytes(row[11]))
        return TurnStart(message, session, bool(row[12]), bool(row[13]))

    async def pending_ids(self, after_id: int = 0, limit: int = 1000) -> list[tuple[int, int]]:
        """(inbox id, contact id) of unprocessed messages after `after_id`, oldest first.

        Recovery needs only the ids: nothing is decrypted, and paging on the id
        reaches every pending message however many there are.
        """
        rows = await self._readers.fetchall(
            "SELECT id, contact_id FROM inbox WHERE processed_at IS NULL AND id > ?"
            " ORDER BY id LIMIT ?",
            (after_id, limit),
            what="inbox.pending_ids",
        )
        return [(int(r[0]), int(r[1])) for r in rows]

    async def pending_of(self, contact_id: int) -> list[int]:
        """The contact's unprocessed messages, oldest first (ids only): what a process
        that has just claimed the contact must process first, whoever received them."""
        rows = await self._readers.fetchall(
            "SELECT id FROM inbox WHERE processed_at IS NULL AND contact_id = ? ORDER BY id",
            (contact_id,),
            what="inbox.pending_of",
        )
        return [int(r[0]) for r in rows]

    async def is_processed(self, inbox_id: int) -> bool:
        row = await self._readers.fetchone(
            "SELECT processed_at IS NOT NULL FROM inbox WHERE id = ?",
            (inbox_id,),
            what="inbox.is_processed",
        )
        return row is not None and bool(row[0])

    async def count_pending(self) -> int:
        row = await self._readers.fetchone(
            "SELECT count(*) FROM inbox WHERE processed_at IS NULL", what="inbox.count_pending"
        )
        return 0 if row is None else int(row[0])

    def _decode(self, row: Row) -> InboxRow:
        contact_id = int(row[1])
        dek = self._vault.unwrap_dek(contact_id, str(row[8]), as_bytes(row[9]))
        rid = as_bytes(row[5])
        return InboxRow(
            id=int(row[0]),
            contact_id=contact_id,
            channel=str(row[2]),
            transport_id=Vault.open_text(dek, transport_id_place(rid), as_bytes(row[6])),
            kind=str(row[3]),
            text=Vault.open_text(dek, text_place(rid), as_bytes(row[7])),
            received_at=from_micros(int(row[4])),
            reply_to=None if row[10] is None else str(row[10]),
        )
