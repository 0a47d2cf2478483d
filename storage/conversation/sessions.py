"""Session state: the flow engine's JSON for each contact, sealed under its data key."""

from __future__ import annotations

from storage.crypto.aead import Place
from storage.crypto.vault import Vault
from storage.engine.db import Readers, Tx
from storage.engine.rows import as_bytes

__all__ = ["SessionRepo", "upsert"]


def state_place(contact_id: int) -> Place:
    return Place("sessions", "state", str(contact_id))


async def upsert(tx: Tx, contact_id: int, state: str, now: int) -> None:
    """Replaces the contact's state (inside a turn's transaction)."""
    dek = await tx.dek(contact_id)
    await tx.execute(
        "INSERT INTO sessions (contact_id, state_enc, updated_at) VALUES (?, ?, ?)"
        " ON CONFLICT (contact_id) DO UPDATE SET state_enc = excluded.state_enc,"
        " updated_at = excluded.updated_at",
        (contact_id, Vault.seal_text(dek, state_place(contact_id), state), now),
    )


class SessionRepo:
    def __init__(self, readers: Readers, vault: Vault) -> None:
        self._readers = readers
        self._vault = vault

    async def get(self, contact_id: int) -> str | None:
        """The contact's decrypted state JSON, or None before their first turn."""
        row = await self._readers.fetchone(
            "SELECT s.state_enc, k.master_key_id, k.wrapped FROM sessions s"
            " JOIN contact_keys k ON k.contact_id = s.contact_id WHERE s.contact_id = ?",
            (contact_id,),
            what="sessions.get",
        )
        if row is None:
            return None
        dek = self._vault.unwrap_dek(contact_id, str(row[1]), as_bytes(row[2]))
        return Vault.open_text(dek, state_place(contact_id), as_bytes(row[0]))
