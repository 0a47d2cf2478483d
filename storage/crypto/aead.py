"""AES-GCM sealing bound to a place, data-key wrapping, blind indexes, and a DEK cache.

A sealed blob is `version (1 byte) || nonce (12) || ciphertext+tag`. Its associated
data names the table, column and row it belongs to, so a blob copied anywhere else
fails authentication instead of decrypting as someone else's words.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import unicodedata
from collections import OrderedDict
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from storage.errors import DecryptError

__all__ = [
    "BLOB_VERSION",
    "DekCache",
    "Place",
    "blind_index",
    "new_key",
    "normalise_address",
    "open_blob",
    "seal",
]

BLOB_VERSION = 1
NONCE_BYTES = 12
BLIND_INDEX_BYTES = 16
_PHONE_JUNK = re.compile(r"[\s\-().]")


@dataclass(frozen=True, slots=True)
class Place:
    """Where a ciphertext lives; its text is the associated data and the error location."""

    table: str
    column: str
    row_key: str

    @property
    def aad(self) -> bytes:
        return f"{self.table}.{self.column}.{self.row_key}".encode()

    def __str__(self) -> str:
        return f"{self.table}.{self.column} of row {self.row_key}"


def new_key() -> bytes:
    """32 random bytes: a data key or the blind-index key."""
    return os.urandom(32)


def seal(key: bytes, plaintext: bytes, place: Place) -> bytes:
    """Encrypts `plaintext` for exactly this place."""
    nonce = os.urandom(NONCE_BYTES)
    return bytes([BLOB_VERSION]) + nonce + AESGCM(key).encrypt(nonce, plaintext, place.aad)


def open_blob(key: bytes, blob: bytes, place: Place) -> bytes:
    """Decrypts a blob sealed for `place`, or raises `DecryptError` naming the place."""
    if len(blob) < 1 + NONCE_BYTES + 16 or blob[0] != BLOB_VERSION:
        raise DecryptError(f"cannot decrypt {place}: not a version {BLOB_VERSION} sealed value")
    nonce = blob[1 : 1 + NONCE_BYTES]
    try:
        return AESGCM(key).decrypt(nonce, blob[1 + NONCE_BYTES :], place.aad)
    except InvalidTag:
        raise DecryptError(
            f"cannot decrypt {place}: wrong key, or the value was moved from another row"
            " or column, or altered"
        ) from None


def normalise_address(kind: str, value: str) -> str:
    """The canonical form an address is indexed under, so spelling variants find one contact.

    Phone numbers ('phone', 'whatsapp') keep digits and a leading '+'; a 'whatsapp:'
    prefix, spaces, dashes, dots and brackets are dropped; '00' becomes '+' and a
    national '0' becomes Indonesia's '+62'. Other kinds (chat ids) are only trimmed.
    """
    text = unicodedata.normalize("NFKC", value).strip()
    # An office's own sender (`whatsapp:tual`) is a WhatsApp number like any other.
    if kind.split(":", 1)[0] not in ("phone", "whatsapp"):
        return text
    if text.lower().startswith("whatsapp:"):
        text = text[len("whatsapp:") :]
    text = _PHONE_JUNK.sub("", text)
    if text.startswith("00"):
        text = "+" + text[2:]
    elif text.startswith("0"):
        text = "+62" + text[1:]
    return text


def blind_index(key: bytes, kind: str, value: str) -> bytes:
    """A keyed, truncated HMAC: equal addresses match, the address itself is not stored."""
    message = f"{kind}:{normalise_address(kind, value)}".encode()
    return hmac.new(key, message, hashlib.sha256).digest()[:BLIND_INDEX_BYTES]


class DekCache:
    """A bounded LRU of unwrapped per-contact data keys, so hot contacts skip an unwrap.

    Only committed keys belong here: the writer stages keys it meets inside a
    transaction and publishes them after COMMIT (see `storage.engine.db`).
    """

    def __init__(self, capacity: int = 4096) -> None:
        self._capacity = capacity
        self._items: OrderedDict[int, bytes] = OrderedDict()

    def get(self, contact_id: int) -> bytes | None:
        dek = self._items.get(contact_id)
        if dek is not None:
            self._items.move_to_end(contact_id)
        return dek

    def put(self, contact_id: int, dek: bytes) -> None:
        self._items[contact_id] = dek
        self._items.move_to_end(contact_id)
        while len(self._items) > self._capacity:
            self._items.popitem(last=False)

    def clear(self) -> None:
        """Forgets every key (the key tree changed: some may belong to erased contacts)."""
        self._items.clear()

    def discard(self, contact_id: int) -> None:
        """Forgets a key (a shredded contact must not stay readable from memory)."""
        self._items.pop(contact_id, None)

    def __len__(self) -> int:
        return len(self._items)
