"""Where a family's photos and voice notes were relayed to: the counsellor's chat message ids.

A kept file (or a Telegram copy of it) reaches the counsellor holding the case as a
message in their own chat. When the family is erased (they asked, or retention
ended their case), those messages should go too, as far as the channel allows:
Telegram lets a bot delete a message it sent to a private chat for 48 hours.

A row is written when such a relay is sent. The chat and message ids are the
counsellor's (sealed under the counsellor's contact key, as every chat id is);
the row points at the family's contact with ON DELETE SET NULL, so the erasure's
sweep through the foreign keys (`storage.privacy.erasure`) leaves it, unlinked,
for the privacy worker (`bot.privacy.worker`), which deletes the message and then
the row. A row whose family has an erasure under way is due at once.

    RelayRepo.record / due / done / failed
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from storage.crypto.aead import Place
from storage.crypto.vault import Vault
from storage.engine.clock import from_micros, to_micros
from storage.engine.db import Readers, Tx, Writer
from storage.engine.rows import as_bytes, new_rid

__all__ = ["MAX_RELAY_ATTEMPTS", "Relay", "RelayRepo", "sent_place"]

MAX_RELAY_ATTEMPTS = 5


def sent_place(rid: bytes) -> Place:
    return Place("media_relays", "sent", rid.hex())


@dataclass(frozen=True, slots=True)
class Relay:
    """A relayed file's message in a counsellor's chat, due for deletion."""

    id: int
    channel: str
    address: str  # the counsellor's chat
    message_ids: str  # as the channel's send returned them ("12" or "12,13")
    sent_at: datetime


class RelayRepo:
    def __init__(
        self, readers: Readers, writer: Writer, vault: Vault, clock: Callable[[], datetime]
    ) -> None:
        self._readers = readers
        self._writer = writer
        self._vault = vault
        self._clock = clock

    async def record(
        self,
        family_contact_id: int,
        staff_contact_id: int,
        channel: str,
        address: str,
        message_ids: str,
    ) -> None:
        """Notes a relay just sent to `address` (the counsellor's chat, of `staff_contact_id`)."""
        now = to_micros(self._clock(), "relays.record")

        async def job(tx: Tx) -> None:
            rid = new_rid()
            dek = await tx.dek(staff_contact_id)
            sealed = Vault.seal_text(dek, sent_place(rid), f"{address}\n{message_ids}")
            await tx.execute(
                "INSERT INTO media_relays (rid, family_contact_id, staff_contact_id, channel,"
                " sent_enc, sent_at) VALUES (?, ?, ?, ?, ?, ?)",
                (rid, family_contact_id, staff_contact_id, channel, sealed, now),
            )

        await self._writer.run("relays.record", job)

    async def due(self, limit: int = 100) -> list[Relay]:
        """Relays whose family is erased (row gone) or being erased, oldest first."""
        rows = await self._readers.fetchall(
            "SELECT r.id, r.rid, r.channel, r.sent_enc, r.sent_at, r.staff_contact_id,"
            " k.master_key_id, k.wrapped FROM media_relays r"
            " JOIN contact_keys k ON k.contact_id = r.staff_contact_id"
            " WHERE r.family_contact_id IS NULL"
            " OR r.family_contact_id IN (SELECT contact_id FROM erasures WHERE stage != 'done')"
            " ORDER BY r.id LIMIT ?",
            (limit,),
            what="relays.due",
        )
        out = []
        for row in rows:
            dek = self._vault.unwrap_dek(int(row[5]), str(row[6]), as_bytes(row[7]))
            text = Vault.open_text(dek, sent_place(as_bytes(row[1])), as_bytes(row[3]))
            address, _, ids = text.partition("\n")
            out.append(Relay(int(row[0]), str(row[2]), address, ids, from_micros(int(row[4]))))
        return out

    async def done(self, relay_id: int) -> None:
        """The message is deleted, or cannot be: the row goes."""

        async def job(tx: Tx) -> None:
            await tx.execute("DELETE FROM media_relays WHERE id = ?", (relay_id,))

        await self._writer.run("relays.done", job)

    async def failed(self, relay_id: int) -> bool:
        """Counts a failed try; True (and the row gone) once it has had its last one."""

        async def job(tx: Tx) -> bool:
            row = await tx.fetchone(
                "UPDATE media_relays SET attempts = attempts + 1 WHERE id = ? RETURNING attempts",
                (relay_id,),
            )
            if row is None or int(row[0]) >= MAX_RELAY_ATTEMPTS:
                await tx.execute("DELETE FROM media_relays WHERE id = ?", (relay_id,))
                return True
            return False

        return await self._writer.run("relays.failed", job)

    async def count(self) -> int:
        row = await self._readers.fetchone(
            "SELECT count(*) FROM media_relays", (), what="relays.count"
        )
        return 0 if row is None else int(row[0])
