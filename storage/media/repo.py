"""Reading and settling a family's media; the writes inside a message's own transactions.

    receive(tx, ...)         the row with the sealed locator, in the receive transaction
    forget_waiting(tx, id)   a locator never fetched goes with its message's turn
    MediaRepo.of_message / ref / settle / for_contact / content

Opening the bytes is a disclosure like reading a transcript: the caller (the
console) writes the audit row; nothing here logs.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from storage.crypto.aead import Place, open_blob, seal
from storage.crypto.vault import Vault
from storage.engine.clock import from_micros, to_micros
from storage.engine.db import Readers, Row, Tx, Writer
from storage.engine.rows import as_bytes, new_rid
from storage.errors import InvalidRecordError
from storage.media.records import FETCHED_KINDS, MEDIA_STATUSES, MediaContent, MediaItem, MediaRef

__all__ = ["MediaRepo", "data_place", "forget_waiting", "locator_place", "receive"]

MAX_DECLARED_MIME = 100
_ITEM = "SELECT id, inbox_id, contact_id, kind, status, mime, size FROM media"
_SETTLED = frozenset(MEDIA_STATUSES) - {"waiting"}


def locator_place(rid: bytes) -> Place:
    return Place("media", "locator", rid.hex())


def data_place(rid: bytes) -> Place:
    return Place("media", "data", rid.hex())


async def receive(
    tx: Tx, inbox_id: int, contact_id: int, kind: str, dek: bytes, ref: MediaRef, now: int
) -> None:
    """Keeps where a photo or voice note can be fetched, sealed, beside its message."""
    if kind not in FETCHED_KINDS:
        return
    rid = new_rid()
    await tx.execute(
        "INSERT INTO media (rid, inbox_id, contact_id, kind, locator_enc, declared_mime,"
        " declared_size, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            rid,
            inbox_id,
            contact_id,
            kind,
            Vault.seal_text(dek, locator_place(rid), ref.locator),
            ref.mime[:MAX_DECLARED_MIME],
            ref.size,
            now,
        ),
    )


async def forget_waiting(tx: Tx, inbox_id: int) -> None:
    """Drops a locator nobody fetched: its message's turn is committed, nobody will."""
    await tx.execute("DELETE FROM media WHERE inbox_id = ? AND status = 'waiting'", (inbox_id,))


def _item(row: Row) -> MediaItem:
    return MediaItem(
        id=int(row[0]),
        inbox_id=int(row[1]),
        contact_id=int(row[2]),
        kind=str(row[3]),
        status=str(row[4]),
        mime=str(row[5]),
        size=int(row[6]),
    )


class MediaRepo:
    """A family's media: what is waiting to be fetched, what is kept, and its bytes."""

    def __init__(
        self, readers: Readers, writer: Writer, vault: Vault, clock: Callable[[], datetime]
    ) -> None:
        self._readers = readers
        self._writer = writer
        self._vault = vault
        self._clock = clock

    async def of_message(self, inbox_id: int) -> MediaItem | None:
        row = await self._readers.fetchone(
            f"{_ITEM} WHERE inbox_id = ?", (inbox_id,), what="media.of_message"
        )
        return None if row is None else _item(row)

    async def ref(self, media_id: int) -> MediaRef | None:
        """Where to fetch a row still waiting, as the transport declared it; else None."""
        row = await self._readers.fetchone(
            "SELECT m.rid, m.locator_enc, m.declared_mime, m.declared_size, m.contact_id,"
            " k.master_key_id, k.wrapped FROM media m"
            " JOIN contact_keys k ON k.contact_id = m.contact_id"
            " WHERE m.id = ? AND m.status = 'waiting' AND m.locator_enc IS NOT NULL",
            (media_id,),
            what="media.ref",
        )
        if row is None:
            return None
        dek = self._vault.unwrap_dek(int(row[4]), str(row[5]), as_bytes(row[6]))
        locator = Vault.open_text(dek, locator_place(as_bytes(row[0])), as_bytes(row[1]))
        size = None if row[3] is None else int(row[3])
        return MediaRef(locator, str(row[2]), size)

    async def settle(
        self, media_id: int, status: str, *, mime: str = "", data: bytes | None = None
    ) -> MediaItem | None:
        """Ends a waiting row: `stored` with its bytes sealed, or what stopped it; the
        locator goes either way. A row settled before is left as it is (a message
        processed twice); returns the row as it is now, None when it is gone."""
        if status not in _SETTLED:
            raise InvalidRecordError(f"media status {status!r} is not one of {sorted(_SETTLED)}")
        if (status == "stored") != (data is not None):
            raise InvalidRecordError("media: bytes are kept exactly when the status is 'stored'")
        now = to_micros(self._clock(), "clock")

        async def job(tx: Tx) -> MediaItem | None:
            row = await tx.fetchone(
                "SELECT rid, contact_id FROM media WHERE id = ? AND status = 'waiting'",
                (media_id,),
            )
            if row is not None:
                sealed = None
                if data is not None:
                    dek = await tx.dek(int(row[1]))
                    sealed = seal(dek, data, data_place(as_bytes(row[0])))
                await tx.execute(
                    "UPDATE media SET status = ?, mime = ?, size = ?, data_enc = ?,"
                    " locator_enc = NULL, settled_at = ? WHERE id = ?",
                    (status, mime, 0 if data is None else len(data), sealed, now, media_id),
                )
            found = await tx.fetchone(f"{_ITEM} WHERE id = ?", (media_id,))
            return None if found is None else _item(found)

        return await self._writer.run("media.settle", job)

    async def for_contact(self, contact_id: int) -> dict[int, MediaItem]:
        """The contact's media rows by message (inbox id), for the case page."""
        rows = await self._readers.fetchall(
            f"{_ITEM} WHERE contact_id = ? ORDER BY id", (contact_id,), what="media.for_contact"
        )
        return {item.inbox_id: item for item in map(_item, rows)}

    async def content(self, media_id: int) -> MediaContent | None:
        """The kept bytes, opened under the contact's key; None when there are none (not
        stored, or gone with the contact)."""
        row = await self._readers.fetchone(
            "SELECT m.rid, m.data_enc, m.contact_id, m.kind, m.mime, k.master_key_id, k.wrapped,"
            " m.received_at FROM media m JOIN contact_keys k ON k.contact_id = m.contact_id"
            " WHERE m.id = ? AND m.status = 'stored' AND m.data_enc IS NOT NULL",
            (media_id,),
            what="media.content",
        )
        if row is None:
            return None
        contact_id = int(row[2])
        dek = self._vault.unwrap_dek(contact_id, str(row[5]), as_bytes(row[6]))
        data = open_blob(dek, as_bytes(row[1]), data_place(as_bytes(row[0])))
        at = from_micros(int(row[7]))
        return MediaContent(media_id, contact_id, str(row[3]), str(row[4]), at, data)
