"""Live keyboards: which message's buttons may still answer a person's current question.

A chat shows at most one live set of choice buttons: those of the latest question
sent to it. A newer question, a typed answer or a press retires it, so a button
pressed on an older message is never taken as an answer to a later question.
Kept in the database (migration 0005) so this still holds after a restart.

The row holds the transport's message id and, for choice values too long for a
transport's button payload, the short tokens that stand for them. Choice values
come from flow definitions, never from what a person wrote, so they stay plain;
the row is keyed by contact and goes when the contact does.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from storage.crypto.vault import Vault
from storage.engine.clock import to_micros
from storage.engine.db import Readers, Row, Tx, Writer
from storage.engine.rows import marks
from storage.errors import DecryptError

__all__ = ["KeyboardRepo", "LiveKeyboard"]


_CONTACT = "SELECT id FROM contacts WHERE channel = ? AND address_bidx = ?"
_CHUNK = 500  # blind indexes per query, well under SQLite's limit on parameters


@dataclass(frozen=True, slots=True)
class LiveKeyboard:
    """The message whose buttons are live, and the tokens standing for long values."""

    message_id: str
    long_values: tuple[tuple[str, str], ...] = ()

    def value_for(self, token: str) -> str | None:
        for key, value in self.long_values:
            if key == token:
                return value
        return None


def _keyboard(row: Row) -> LiveKeyboard:
    try:
        pairs = json.loads(str(row[1]))
        long_values = tuple(sorted((str(k), str(v)) for k, v in pairs.items()))
    except (ValueError, AttributeError):
        raise DecryptError("live_keyboards.long_values is not a JSON object") from None
    return LiveKeyboard(str(row[0]), long_values)


class KeyboardRepo:
    """Shows, reads and retires a chat's live keyboard, found by the chat's blind index."""

    def __init__(self, readers: Readers, writer: Writer, vault: Vault) -> None:
        self._readers = readers
        self._writer = writer
        self._vault = vault

    async def show(
        self,
        channel: str,
        address: str,
        message_id: str,
        long_values: Mapping[str, str],
        at: datetime,
    ) -> LiveKeyboard | None:
        """Makes `message_id` the chat's live keyboard; returns the one it replaced, if any.

        Does nothing (and returns None) for an address that is not a contact.
        """
        values = json.dumps(dict(sorted(long_values.items())), ensure_ascii=False)
        now = to_micros(at, "KeyboardRepo.show at")

        async def job(tx: Tx) -> LiveKeyboard | None:
            contact = await tx.fetchone(_CONTACT, (channel, tx.vault.blind(channel, address)))
            if contact is None:
                return None
            old = await tx.fetchone(
                "SELECT message_id, long_values FROM live_keyboards WHERE contact_id = ?",
                (contact[0],),
            )
            await tx.execute(
                "INSERT INTO live_keyboards (contact_id, message_id, long_values, shown_at)"
                " VALUES (?, ?, ?, ?) ON CONFLICT (contact_id) DO UPDATE SET"
                " message_id = excluded.message_id, long_values = excluded.long_values,"
                " shown_at = excluded.shown_at",
                (contact[0], message_id, values, now),
            )
            if old is None or str(old[0]) == message_id:
                return None
            return _keyboard(old)

        return await self._writer.run("keyboards.show", job)

    async def live(self, channel: str, address: str) -> LiveKeyboard | None:
        """The chat's live keyboard, if it has one."""
        row = await self._readers.fetchone(
            "SELECT k.message_id, k.long_values FROM live_keyboards k"
            " JOIN contacts c ON c.id = k.contact_id"
            " WHERE c.channel = ? AND c.address_bidx = ?",
            (channel, self._vault.blind(channel, address)),
            what="keyboards.live",
        )
        return None if row is None else _keyboard(row)

    async def with_live(self, channel: str, addresses: Iterable[str]) -> set[str]:
        """Which of these chats have a live keyboard: one read for a batch of updates."""
        by_blind = {self._vault.blind(channel, address): address for address in addresses}
        found: set[str] = set()
        blinds = list(by_blind)
        for start in range(0, len(blinds), _CHUNK):
            chunk = blinds[start : start + _CHUNK]
            rows = await self._readers.fetchall(
                "SELECT c.address_bidx FROM live_keyboards k"
                " JOIN contacts c ON c.id = k.contact_id"
                f" WHERE c.channel = ? AND c.address_bidx IN ({marks(chunk)})",
                (channel, *chunk),
                what="keyboards.with_live",
            )
            found.update(by_blind[bytes(row[0])] for row in rows)
        return found

    async def retire(
        self, channel: str, address: str, message_id: str | None = None
    ) -> LiveKeyboard | None:
        """Retires the chat's live keyboard (only if it is `message_id`, when given).

        Returns what was retired, or None when nothing was live (or another was).
        """

        async def job(tx: Tx) -> LiveKeyboard | None:
            contact = await tx.fetchone(_CONTACT, (channel, tx.vault.blind(channel, address)))
            if contact is None:
                return None
            row = await tx.fetchone(
                "DELETE FROM live_keyboards WHERE contact_id = ?"
                " AND message_id = coalesce(?, message_id) RETURNING message_id, long_values",
                (contact[0], message_id),
            )
            return None if row is None else _keyboard(row)

        return await self._writer.run("keyboards.retire", job)
