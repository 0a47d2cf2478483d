"""The database's keys: master-key checks, the blind-index key and per-contact data keys.

The database records, for each master key id it has seen, a key-check value. On
open, the loaded ring must include at least one recorded key whose check matches;
otherwise nothing is read or written (`WrongKeyError`). The ring's first key is
recorded when it is new, so data is never wrapped under a key the database does
not know. The blind-index key is random and stored wrapped, which keeps lookups
stable when master keys rotate (rotation only rewraps it and the contact keys).
The audit key (which chains the audit log) is kept the same way.

A contact's data key is wrapped under a key derived from BOTH the master key and
the contact's leaf of the key tree (`storage.crypto.keytree`), which lives outside the
database and its backups: puncturing the leaf makes the wrapped key in every
copy of the database unopenable (crypto-shredding that reaches old backups).
Keys wrapped before the key tree existed (`contact_keys.leaf = 0`) open with the
master key alone until `lk3 keys rotate` rewraps them.

Unwrapped data keys are cached in memory (`DekCache`), and a cached key would
outlive the leaf another process punctures. So every use of the cache first asks
the tree for its generation (one `stat` of the file): when it moved, the whole
cache goes, and keys are unwrapped again through the tree, which no longer opens
an erased contact's. An erasure by any process on the host is thus seen by every
other at its next decryption (`cached_dek`, `remember_dek`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from storage.crypto.aead import DekCache, Place, blind_index, new_key, open_blob, seal
from storage.crypto.keys import KeyRing, MasterKey
from storage.crypto.keytree import KeyTree
from storage.errors import DecryptError, ErasedError, KeyFileError, WrongKeyError

__all__ = ["KEYTREE_GENERATION_META", "Vault", "record_tree_generation"]

BLIND_INDEX_PURPOSE = "blind_index"
AUDIT_PURPOSE = "audit"
KEYTREE_META = "keytree_id"
KEYTREE_GENERATION_META = "keytree_generation"


class SetupConn(Protocol):
    """The writer's connection before the write queue starts: an aiosqlite connection,
    or `storage.engine.pgdb.PgSetupConn` (which has `dialect = "postgres"`)."""

    async def execute(self, sql: str, parameters: Any = ..., /) -> Any: ...

    async def execute_fetchall(self, sql: str, parameters: Any = ..., /) -> Any: ...


def dek_place(contact_id: int) -> Place:
    """Where a contact's wrapped data key lives."""
    return Place("contact_keys", "dek", str(contact_id))


class Vault:
    """Holds the unlocked keys of one open database; all sealing goes through it."""

    def __init__(
        self,
        keyring: KeyRing,
        blind_key: bytes,
        cache: DekCache,
        tree: KeyTree | None = None,
        audit_key: bytes | None = None,
    ) -> None:
        self._keyring = keyring
        self._blind_key = blind_key
        self.cache = cache
        self.tree = tree if tree is not None else KeyTree.in_memory()
        self.audit_key = audit_key if audit_key is not None else new_key()
        self._cache_generation = self.tree.generation

    @property
    def keyring(self) -> KeyRing:
        return self._keyring

    @classmethod
    async def unlock(
        cls,
        conn: SetupConn,
        keyring: KeyRing,
        now: int,
        cache_size: int = 4096,
        tree_path: Path | None = None,
    ) -> Vault:
        """Checks the ring and the key tree against the database (recording them if new).

        Runs in its own IMMEDIATE transaction on the writer connection, before the
        write queue starts. Without `tree_path` the key tree lives only in memory
        (tests of the writer alone).
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
            blind_key = await _purpose_key(conn, keyring, now, BLIND_INDEX_PURPOSE)
            audit_key = await _purpose_key(conn, keyring, now, AUDIT_PURPOSE)
            tree = await _key_tree(conn, tree_path)
            await conn.execute("COMMIT")
        except BaseException:
            await conn.execute("ROLLBACK")
            raise
        return cls(keyring, blind_key, DekCache(cache_size), tree, audit_key)

    def blind(self, kind: str, value: str) -> bytes:
        """The blind index of an address (or transport id) of this kind."""
        return blind_index(self._blind_key, kind, value)

    def wrap_dek(self, contact_id: int, dek: bytes) -> tuple[str, bytes]:
        """(master key id, wrapped key) for storing a contact's data key (bound to its leaf)."""
        key = self._keyring.primary
        leaf = self.tree.leaf(contact_id)
        if leaf is None:
            raise ErasedError(
                f"contact id {contact_id} was erased before; its key-tree leaf cannot be reused"
            )
        return key.key_id, seal(_contact_wrap_key(key, leaf), dek, dek_place(contact_id))

    def unwrap_dek(self, contact_id: int, master_key_id: str, wrapped: bytes) -> bytes:
        """A contact's data key, from the cache or by unwrapping it."""
        cached = self.cached_dek(contact_id)
        if cached is not None:
            return cached
        dek = self.unwrap_dek_uncached(contact_id, master_key_id, wrapped)
        self.remember_dek(contact_id, dek)
        return dek

    def _check_cache(self) -> None:
        """Drops every cached key once the tree changed (here or in another process)."""
        generation = self.tree.generation
        if generation != self._cache_generation:
            self.cache.clear()
            self._cache_generation = generation

    def cached_dek(self, contact_id: int) -> bytes | None:
        """A cached data key, only while the tree is as it was when the key was cached."""
        self._check_cache()
        return self.cache.get(contact_id)

    def remember_dek(self, contact_id: int, dek: bytes) -> None:
        """Caches a key unwrapped (or created) through the tree; never an erased contact's."""
        self._check_cache()  # the tree was just refreshed
        if not self.tree.is_erased(contact_id, refresh=False):
            self.cache.put(contact_id, dek)

    def unwrap_dek_uncached(self, contact_id: int, master_key_id: str, wrapped: bytes) -> bytes:
        """Unwraps without touching the cache (the writer stages keys until COMMIT)."""
        key = self._keyring.get(master_key_id)
        if key is None:
            raise WrongKeyError(
                f"the data key of contact {contact_id} is wrapped under master key id"
                f" {master_key_id}, which {self._keyring.source} does not hold"
            )
        place = dek_place(contact_id)
        leaf = self.tree.leaf(contact_id)
        if leaf is not None:
            try:
                return open_blob(_contact_wrap_key(key, leaf), wrapped, place)
            except DecryptError:
                pass  # perhaps wrapped before the key tree existed: try the master key alone
        try:
            return open_blob(key.wrap_key, wrapped, place)
        except DecryptError:
            if leaf is None:
                raise ErasedError(
                    f"cannot decrypt {place}: the contact was erased (its key is destroyed)"
                ) from None
            raise

    @staticmethod
    def seal_text(dek: bytes, place: Place, text: str) -> bytes:
        return seal(dek, text.encode("utf-8"), place)

    @staticmethod
    def open_text(dek: bytes, place: Place, blob: bytes) -> str:
        return open_blob(dek, blob, place).decode("utf-8")


async def _fetchall(conn: SetupConn, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
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


def _contact_wrap_key(key: MasterKey, leaf: bytes) -> bytes:
    """The key that wraps one contact's data key: master key and key-tree leaf together."""
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=leaf, info=b"lk3/contact-wrap/v1")
    return hkdf.derive(key.wrap_key)


def purpose_place(purpose: str) -> Place:
    """Where a database-wide key (blind index, audit) is stored wrapped."""
    return Place("wrapped_keys", "wrapped", purpose)


async def _purpose_key(conn: SetupConn, keyring: KeyRing, now: int, purpose: str) -> bytes:
    """Loads a wrapped database-wide key (blind index, audit), creating it if missing."""
    place = purpose_place(purpose)
    label = purpose.replace("_", "-")
    rows = await _fetchall(
        conn,
        "SELECT master_key_id, wrapped FROM wrapped_keys WHERE purpose = ?",
        (purpose,),
    )
    if rows:
        key: MasterKey | None = keyring.get(str(rows[0][0]))
        if key is None:
            raise WrongKeyError(
                f"the {label} key is wrapped under master key id {rows[0][0]},"
                f" which {keyring.source} does not hold"
            )
        try:
            return open_blob(key.wrap_key, bytes(rows[0][1]), place)
        except DecryptError:
            raise WrongKeyError(
                f"the {label} key does not open with master key id {key.key_id}"
                f" from {keyring.source}"
            ) from None
    secret = new_key()
    primary = keyring.primary
    await conn.execute(
        "INSERT INTO wrapped_keys (purpose, master_key_id, wrapped, created_at)"
        " VALUES (?, ?, ?, ?)",
        (purpose, primary.key_id, seal(primary.wrap_key, secret, place), now),
    )
    return secret


async def _key_tree(conn: SetupConn, path: Path | None) -> KeyTree:
    """Opens the database's key tree, creating it for a database that has none yet.

    A database that recorded a tree refuses to open without that very tree: a new
    tree would not open anything written under the old one. Contact ids are moved
    above every leaf the tree has destroyed, so that a restored older database
    never hands an erased id (and its destroyed leaf) to a new person.
    """
    if path is None:
        return KeyTree.in_memory()
    rows = await _fetchall(conn, "SELECT value FROM meta WHERE name = ?", (KEYTREE_META,))
    if rows:
        expected = str(rows[0][0])
        try:
            tree = KeyTree.load(path)
        except FileNotFoundError:
            raise KeyFileError(
                f"key tree {path} is missing, but this database was written with key tree"
                f" {expected}; restore that file (it is kept apart from database backups)"
            ) from None
        if tree.tree_id != expected:
            raise WrongKeyError(
                f"key tree {path} has id {tree.tree_id}, but this database was written with"
                f" key tree {expected}"
            )
        seen = await _fetchall(
            conn, "SELECT value FROM meta WHERE name = ?", (KEYTREE_GENERATION_META,)
        )
        if seen and tree.generation < int(seen[0][0]):
            raise KeyFileError(
                f"key tree {path} is at generation {tree.generation}, but erasures up to"
                f" generation {seen[0][0]} were recorded in this database: it is an older copy"
                " (or another host's), which would make erased contacts readable again;"
                " use the newest copy of the tree"
            )
    else:
        tree, _ = KeyTree.open_or_create(path)
        await conn.execute(
            "INSERT INTO meta (name, value) VALUES (?, ?)", (KEYTREE_META, tree.tree_id)
        )
    highest = tree.highest_erased
    if highest and getattr(conn, "dialect", "sqlite") == "postgres":
        await conn.execute(
            "SELECT setval(pg_get_serial_sequence('contacts', 'id'),"
            " GREATEST(?, (SELECT last_value FROM contacts_id_seq)))",
            (highest,),
        )
    elif highest:
        seq = await _fetchall(conn, "SELECT seq FROM sqlite_sequence WHERE name = 'contacts'")
        if not seq:
            await conn.execute(
                "INSERT INTO sqlite_sequence (name, seq) VALUES ('contacts', ?)", (highest,)
            )
        elif int(seq[0][0]) < highest:
            await conn.execute(
                "UPDATE sqlite_sequence SET seq = ? WHERE name = 'contacts'", (highest,)
            )
    return tree


class _Executes(Protocol):
    async def execute(self, sql: str, params: tuple[Any, ...] = ...) -> int: ...


async def record_tree_generation(tx: _Executes, generation: int) -> None:
    """Records in the database how far the tree has been changed (a count, no key material),
    so that an older copy of the tree, or another host's, is refused at open (`_key_tree`)."""
    await tx.execute(
        "INSERT INTO meta (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET"
        " value = excluded.value"
        " WHERE CAST(meta.value AS INTEGER) < CAST(excluded.value AS INTEGER)",
        (KEYTREE_GENERATION_META, str(generation)),
    )
