"""The database's keys: master-key checks, the blind-index key and per-contact data keys.

The database records, for each master key id it has seen, a key-check value. On
open, the loaded ring must include at least one recorded key whose check matches;
otherwise nothing is read or written (`WrongKeyError`). The ring's first key is
recorded when it is new, so data is never wrapped under a key the database does
not know. The blind-index key is random and stored wrapped, which keeps lookups
stable when master keys rotate (rotation only rewraps it and the contact keys).
"""

from __future__ import annotations

from typing import Any

import aiosqlite

from storage.crypto import DekCache, Place, blind_index, new_key, open_blob, seal
from storage.errors import DecryptError, WrongKeyError
from storage.keys import KeyRing, MasterKey

__all__ = ["Vault"]

BLIND_INDEX_PURPOSE = "blind_index"


def dek_place(contact_id: int) -> Place:
    """Where a contact's wrapped data key lives."""
    return Place("contact_keys", "dek", str(contact_id))


class Vault:
    """Holds the unlocked keys of one open database; all sealing goes through it."""

    def __init__(self, keyring: KeyRing, blind_key: bytes, cache: DekCache) -> None:
        self._keyring = keyring
        self._blind_key = blind_key
        self.cache = cache

    @property
    def keyring(self) -> KeyRing:
        return self._keyring

    @classmethod
    async def unlock(
        cls, conn: aiosqlite.Connection, keyring: KeyRing, now: int, cache_size: int = 4096
    ) -> Vault:
        """Checks the ring against the database (recording it if the database is new).

        Runs in its own IMMEDIATE transaction on the writer connection, before the
        write queue starts.
        """
        await conn.execute("BEGIN IMMEDIATE")
        try:
            recorded = await _fetchall(conn, "SELECT key_id, check_value FROM master_keys")
            _verify(keyring, {str(row[0]): bytes(row[1]) for row in recorded})
            if not any(row[0] == keyring.primary.key_id for row in recorded):
                await conn.execute(
                    "INSERT INTO master_keys (key_id, check_value, added_at) VALUES (?, ?, ?)",
                    (keyring.primary.key_id, keyring.primary.check_value, now),
                )
            blind_key = await _blind_key(conn, keyring, now)
            await conn.execute("COMMIT")
        except BaseException:
            await conn.execute("ROLLBACK")
            raise
        return cls(keyring, blind_key, DekCache(cache_size))

    def blind(self, kind: str, value: str) -> bytes:
        """The blind index of an address (or transport id) of this kind."""
        return blind_index(self._blind_key, kind, value)

    def wrap_dek(self, contact_id: int, dek: bytes) -> tuple[str, bytes]:
        """(master key id, wrapped key) for storing a contact's data key."""
        key = self._keyring.primary
        return key.key_id, seal(key.wrap_key, dek, dek_place(contact_id))

    def unwrap_dek(self, contact_id: int, master_key_id: str, wrapped: bytes) -> bytes:
        """A contact's data key, from the cache or by unwrapping it."""
        cached = self.cache.get(contact_id)
        if cached is not None:
            return cached
        dek = self.unwrap_dek_uncached(contact_id, master_key_id, wrapped)
        self.cache.put(contact_id, dek)
        return dek

    def unwrap_dek_uncached(self, contact_id: int, master_key_id: str, wrapped: bytes) -> bytes:
        """Unwraps without touching the cache (the writer stages keys until COMMIT)."""
        key = self._keyring.get(master_key_id)
        if key is None:
            raise WrongKeyError(
                f"the data key of contact {contact_id} is wrapped under master key id"
                f" {master_key_id}, which {self._keyring.source} does not hold"
            )
        return open_blob(key.wrap_key, wrapped, dek_place(contact_id))

    @staticmethod
    def seal_text(dek: bytes, place: Place, text: str) -> bytes:
        return seal(dek, text.encode("utf-8"), place)

    @staticmethod
    def open_text(dek: bytes, place: Place, blob: bytes) -> str:
        return open_blob(dek, blob, place).decode("utf-8")


async def _fetchall(
    conn: aiosqlite.Connection, sql: str, params: tuple[Any, ...] = ()
) -> list[Any]:
    return list(await conn.execute_fetchall(sql, params))


def _verify(keyring: KeyRing, recorded: dict[str, bytes]) -> None:
    """Refuses a ring that does not prove it holds a key this database knows."""
    if not recorded:
        return
    expected = ", ".join(sorted(recorded))
    matched = False
    for key in keyring.keys:
        check = recorded.get(key.key_id)
        if check is None:
            continue
        if check != key.check_value:
            raise WrongKeyError(
                f"the master key with id {key.key_id} in {keyring.source} is not the key"
                f" this database knows by that id (it expects key id {expected})"
            )
        matched = True
    if not matched:
        raise WrongKeyError(
            f"the master key(s) in {keyring.source} do not match this database"
            f" (it expects key id {expected})"
        )


async def _blind_key(conn: aiosqlite.Connection, keyring: KeyRing, now: int) -> bytes:
    """Loads the wrapped blind-index key, creating it on a new database."""
    place = Place("wrapped_keys", "wrapped", BLIND_INDEX_PURPOSE)
    rows = await _fetchall(
        conn,
        "SELECT master_key_id, wrapped FROM wrapped_keys WHERE purpose = ?",
        (BLIND_INDEX_PURPOSE,),
    )
    if rows:
        key: MasterKey | None = keyring.get(str(rows[0][0]))
        if key is None:
            raise WrongKeyError(
                f"the blind-index key is wrapped under master key id {rows[0][0]},"
                f" which {keyring.source} does not hold"
            )
        try:
            return open_blob(key.wrap_key, bytes(rows[0][1]), place)
        except DecryptError:
            raise WrongKeyError(
                f"the blind-index key does not open with master key id {key.key_id}"
                f" from {keyring.source}"
            ) from None
    blind = new_key()
    primary = keyring.primary
    await conn.execute(
        "INSERT INTO wrapped_keys (purpose, master_key_id, wrapped, created_at)"
        " VALUES (?, ?, ?, ?)",
        (BLIND_INDEX_PURPOSE, primary.key_id, seal(primary.wrap_key, blind, place), now),
    )
    return blind
