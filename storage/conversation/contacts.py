"""Contacts: found by the blind index of their address, the address itself sealed."""

from __future__ import annotations

from storage.channels.instances import office_of
from storage.crypto.aead import Place, new_key
from storage.crypto.vault import Vault
from storage.engine.clock import from_micros
from storage.engine.db import Readers, Row, Tx, Writer
from storage.engine.rows import as_bytes, new_rid
from storage.errors import DatabaseError, InvalidRecordError, NotFoundError
from storage.offices.schema import DEFAULT_OFFICE_ID
from storage.records import Contact

__all__ = ["ContactRepo", "address_place", "get_or_create"]

# Columns for `contact_from_row`, followed by what unlocks the contact's data key.
_SELECT = (
    "SELECT c.id, c.channel, c.language, c.created_at, c.unreachable,"
    " k.master_key_id, k.wrapped FROM contacts c JOIN contact_keys k ON k.contact_id = c.id"
)


def address_place(rid: bytes) -> Place:
    return Place("contacts", "address", rid.hex())


def contact_from_row(row: Row) -> Contact:
    return Contact(
        id=int(row[0]),
        channel=str(row[1]),
        language=None if row[2] is None else str(row[2]),
        created_at=from_micros(int(row[3])),
        unreachable=bool(row[4]),
    )


async def get_or_create(tx: Tx, channel: str, address: str, now: int) -> tuple[Contact, bytes]:
    """The contact for this address and its data key, creating both if new."""
    if not address.strip():
        raise InvalidRecordError(f"receive: the {channel} address is empty")
    bidx = tx.vault.blind(channel, address)
    row = await tx.fetchone(
        f"{_SELECT} WHERE c.channel = ? AND c.address_bidx = ?", (channel, bidx)
    )
    if row is not None:
        contact = contact_from_row(row)
        return contact, tx.dek_from_row(contact.id, str(row[5]), as_bytes(row[6]))
    dek = new_key()
    rid = new_rid()
    sealed = Vault.seal_text(dek, address_place(rid), address)
    office = office_of(channel)
    if office:
        # An office's own bot or sender: the family writing to it starts in that office
        # (the default office if the code is unknown; a deep link may still move them).
        inserted = await tx.fetchone(
            "INSERT INTO contacts (rid, channel, address_bidx, address_enc, created_at,"
            " last_seen_at, office_id) VALUES (?, ?, ?, ?, ?, ?,"
            f" COALESCE((SELECT id FROM offices WHERE code = ?), {DEFAULT_OFFICE_ID}))"
            " RETURNING id",
            (rid, channel, bidx, sealed, now, now, office),
        )
    else:
        inserted = await tx.fetchone(
            "INSERT INTO contacts (rid, channel, address_bidx, address_enc, created_at,"
            " last_seen_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
            (rid, channel, bidx, sealed, now, now),
        )
    if inserted is None:
        raise DatabaseError("contacts insert returned no id")
    contact_id = int(inserted[0])
    key_id, wrapped = tx.vault.wrap_dek(contact_id, dek)
    await tx.execute(
        "INSERT INTO contact_keys (contact_id, master_key_id, wrapped, created_at)"
        " VALUES (?, ?, ?, ?)",
        (contact_id, key_id, wrapped, now),
    )
    tx.stage_dek(contact_id, dek)
    return Contact(contact_id, channel, None, from_micros(now), False), dek


class ContactRepo:
    """Reads contacts and changes their flags."""

    def __init__(self, readers: Readers, writer: Writer, vault: Vault) -> None:
        self._readers = readers
        self._writer = writer
        self._vault = vault

    async def get(self, contact_id: int) -> Contact | None:
        row = await self._readers.fetchone(
            f"{_SELECT} WHERE c.id = ?", (contact_id,), what="contacts.get"
        )
        return None if row is None else contact_from_row(row)

    async def find(self, channel: str, address: str) -> Contact | None:
        """The contact with this address on this channel, looked up by blind index."""
        row = await self._readers.fetchone(
            f"{_SELECT} WHERE c.channel = ? AND c.address_bidx = ?",
            (channel, self._vault.blind(channel, address)),
            what="contacts.find",
        )
        return None if row is None else contact_from_row(row)

    async def address(self, contact_id: int) -> str:
        """The contact's decrypted address (chat id or phone), to send to."""
        row = await self._readers.fetchone(
            "SELECT c.rid, c.address_enc, k.master_key_id, k.wrapped"
            " FROM contacts c JOIN contact_keys k ON k.contact_id = c.id WHERE c.id = ?",
            (contact_id,),
            what="contacts.address",
        )
        if row is None:
            raise NotFoundError(f"contact {contact_id} does not exist")
        dek = self._vault.unwrap_dek(contact_id, str(row[2]), as_bytes(row[3]))
        return Vault.open_text(dek, address_place(as_bytes(row[0])), as_bytes(row[1]))

    async def mark_unreachable(self, contact_id: int, flag: bool) -> None:
        """Records that sends to this contact fail for good (blocked bot), or no longer do."""

        async def job(tx: Tx) -> None:
            changed = await tx.execute(
                "UPDATE contacts SET unreachable = ? WHERE id = ?", (int(flag), contact_id)
            )
            if changed == 0:
                raise NotFoundError(
                    f"contacts.mark_unreachable: contact {contact_id} does not exist"
                )

        await self._writer.run("contacts.mark_unreachable", job)

    async def count(self) -> int:
        row = await self._readers.fetchone("SELECT count(*) FROM contacts", what="contacts.count")
        return 0 if row is None else int(row[0])
