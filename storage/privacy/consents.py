"""Consent records: an append-only history of plain yes/no answers and the text version asked."""

from __future__ import annotations

from storage.engine.db import Readers, Tx
from storage.records import ConsentRecord

__all__ = ["ConsentRepo", "record"]


async def record(tx: Tx, contact_id: int, consent: ConsentRecord, now: int) -> None:
    await tx.execute(
        "INSERT INTO consents (contact_id, given, version, at, withdrawal) VALUES (?, ?, ?, ?, ?)",
        (contact_id, int(consent.given), consent.version, now, int(consent.withdrawal)),
    )


class ConsentRepo:
    def __init__(self, readers: Readers) -> None:
        self._readers = readers

    async def latest(self, contact_id: int) -> ConsentRecord | None:
        """The contact's most recent answer, or None if never asked."""
        row = await self._readers.fetchone(
            "SELECT given, version FROM consents WHERE contact_id = ? ORDER BY id DESC LIMIT 1",
            (contact_id,),
            what="consents.latest",
        )
        return None if row is None else ConsentRecord(bool(row[0]), str(row[1]))
