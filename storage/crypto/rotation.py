"""Key rotation: rewrap every stored key under the ring's first master key, while the bot runs.

Only keys are rewrapped, never data: each contact's data key (and the
database-wide blind-index and audit keys) is unwrapped with whichever master key
it is under and wrapped again under the first one, bound to the contact's
key-tree leaf. The data keys themselves do not change, so nothing else is
rewritten and the memory cache stays valid.

Work goes through the single writer in small batches, each its own short
transaction, so the bot keeps answering while it runs; each batch is durable
when its progress is reported. Rotation is resumable by running it again: it
picks up only the keys not yet under the first master key. A contact erased
while rotation runs simply drops out (its rows are gone, or its leaf is).

Once `remaining` is 0, no stored key is wrapped under the older master keys:
they can be removed from the key file, and everything still reads.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from storage.crypto.aead import open_blob, seal
from storage.crypto.vault import Vault, purpose_place
from storage.engine.clock import to_micros
from storage.engine.db import Readers, Tx, Writer
from storage.engine.rows import as_bytes
from storage.errors import ErasedError
from storage.privacy import audit
from storage.privacy.audit import AuditEntry

__all__ = ["KeyRotation", "RotationProgress", "recorded_master_keys"]

DEFAULT_BATCH = 200


def recorded_master_keys(db_path: Path) -> set[str]:
    """The master key ids a database has been opened with, read without opening the store.

    A running bot records its first key when it starts. Before rotating to a new
    key, it must be among these: otherwise the running bot does not hold it yet,
    and would fail to unwrap every key rotated under it.
    """
    with contextlib.closing(sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)) as conn:
        return {str(row[0]) for row in conn.execute("SELECT key_id FROM master_keys")}


@dataclass(frozen=True, slots=True)
class RotationProgress:
    """Counts after a committed batch (and at the end)."""

    rewrapped: int  # contact keys rewrapped by this run so far
    remaining: int  # contact keys still under an older key or not bound to the key tree
    erased: int  # keys skipped because the contact's leaf is destroyed
    primary: str  # the master key id everything is being rewrapped under


class KeyRotation:
    def __init__(
        self, readers: Readers, writer: Writer, vault: Vault, clock: Callable[[], datetime]
    ) -> None:
        self._readers = readers
        self._writer = writer
        self._vault = vault
        self._clock = clock

    @property
    def primary(self) -> str:
        return self._vault.keyring.primary.key_id

    async def remaining(self) -> int:
        """Contact keys not yet wrapped under the first master key and the key tree."""
        row = await self._readers.fetchone(
            "SELECT count(*) FROM contact_keys WHERE master_key_id != ? OR leaf = 0",
            (self.primary,),
            what="rotation.remaining",
        )
        return 0 if row is None else int(row[0])

    async def keys_in_use(self) -> dict[str, int]:
        """Master key id -> how many stored keys it wraps (contact and database-wide keys)."""
        rows = await self._readers.fetchall(
            "SELECT master_key_id, count(*) FROM (SELECT master_key_id FROM contact_keys"
            " UNION ALL SELECT master_key_id FROM wrapped_keys) GROUP BY master_key_id"
            " ORDER BY master_key_id",
            what="rotation.keys_in_use",
        )
        return {str(row[0]): int(row[1]) for row in rows}

    async def rotate(
        self,
        *,
        batch_size: int = DEFAULT_BATCH,
        on_batch: Callable[[RotationProgress], None] = lambda progress: None,
        actor: str = "cli",
    ) -> RotationProgress:
        """Rewraps everything not under the first key; calls `on_batch` after each commit."""
        primary = self._vault.keyring.primary
        now = to_micros(self._clock(), "clock")
        total_before = await self.remaining()

        async def begin(tx: Tx) -> None:
            rows = await tx.fetchall(
                "SELECT purpose, master_key_id, wrapped FROM wrapped_keys WHERE master_key_id != ?",
                (primary.key_id,),
            )
            for purpose, key_id, wrapped in rows:
                place = purpose_place(str(purpose))
                old = self._vault.keyring.get(str(key_id))
                if old is None:
                    continue  # Vault.unlock would have refused a key it cannot open
                secret = open_blob(old.wrap_key, as_bytes(wrapped), place)
                await tx.execute(
                    "UPDATE wrapped_keys SET master_key_id = ?, wrapped = ? WHERE purpose = ?",
                    (primary.key_id, seal(primary.wrap_key, secret, place), str(purpose)),
                )
            await audit.append(
                tx,
                AuditEntry(
                    actor,
                    "rotate_keys",
                    f"master_key:{primary.key_id}",
                    f"rewrapping {total_before} contact key(s) under the first master key",
                ),
                now,
            )

        await self._writer.run("rotation.begin", begin)
        rewrapped = erased = 0
        after = 0
        while True:

            async def batch(tx: Tx, after: int = after) -> tuple[int, int, int]:
                rows = await tx.fetchall(
                    "SELECT contact_id, master_key_id, wrapped FROM contact_keys"
                    " WHERE contact_id > ? AND (master_key_id != ? OR leaf = 0)"
                    " ORDER BY contact_id LIMIT ?",
                    (after, primary.key_id, batch_size),
                )
                done = skipped = 0
                last = after
                for contact_id, key_id, wrapped in rows:
                    last = int(contact_id)
                    try:
                        dek = self._vault.unwrap_dek_uncached(last, str(key_id), as_bytes(wrapped))
                    except ErasedError:
                        skipped += 1
                        continue
                    new_id, new_wrapped = self._vault.wrap_dek(last, dek)
                    done += await tx.execute(
                        "UPDATE contact_keys SET master_key_id = ?, wrapped = ?, leaf = 1"
                        " WHERE contact_id = ? AND master_key_id = ? AND wrapped = ?",
                        (new_id, new_wrapped, last, str(key_id), as_bytes(wrapped)),
                    )
                return done, skipped, last if rows else -1

            done, skipped, last = await self._writer.run("rotation.batch", batch)
            if last < 0:
                break
            rewrapped += done
            erased += skipped
            after = last
            on_batch(
                RotationProgress(rewrapped, await self.remaining(), erased, primary.key_id)
            )
        return RotationProgress(rewrapped, await self.remaining(), erased, primary.key_id)
