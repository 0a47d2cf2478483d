"""Sealing, blind indexes and the data-key cache, below the database."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from storage.crypto.aead import (
    BLOB_VERSION,
    DekCache,
    Place,
    blind_index,
    new_key,
    normalise_address,
    open_blob,
    seal,
)
from storage.errors import DecryptError

HOME = Place("inbox", "text", "a1b2")


def test_sealed_text_opens_in_its_own_place() -> None:
    key = new_key()
    blob = seal(key, b"Saya takut pulang ke rumah", HOME)
    assert blob[0] == BLOB_VERSION
    assert open_blob(key, blob, HOME).decode() == "Saya takut pulang ke rumah"


def test_sealing_twice_gives_different_blobs() -> None:
    key = new_key()
    assert seal(key, b"sama", HOME) != seal(key, b"sama", HOME)


@pytest.mark.parametrize(
    "elsewhere",
    [
        Place("outbox", "text", "a1b2"),
        Place("inbox", "transport_id", "a1b2"),
        Place("inbox", "text", "a1b3"),
    ],
    ids=["other table", "other column", "other row"],
)
def test_sealed_text_refuses_to_open_anywhere_else(elsewhere: Place) -> None:
    key = new_key()
    blob = seal(key, b"rahasia", HOME)
    with pytest.raises(DecryptError, match=f"cannot decrypt {elsewhere.table}.{elsewhere.column}"):
        open_blob(key, blob, elsewhere)


def test_wrong_key_is_a_decrypt_error_naming_the_place_not_the_content() -> None:
    blob = seal(new_key(), b"rahasia", HOME)
    with pytest.raises(DecryptError) as caught:
        open_blob(new_key(), blob, HOME)
    assert str(caught.value).startswith("cannot decrypt inbox.text of row a1b2: wrong key")
    assert "rahasia" not in str(caught.value)


@pytest.mark.parametrize(
    "damage",
    [
        lambda b: b[:-1] + bytes([b[-1] ^ 1]),
        lambda b: b[:5] + bytes([b[5] ^ 0x80]) + b[6:],
        lambda b: bytes([2]) + b[1:],
        lambda b: b[:20],
    ],
    ids=["flipped tag bit", "flipped nonce bit", "unknown version", "truncated"],
)
def test_damaged_blob_is_refused(damage: Callable[[bytes], bytes]) -> None:
    key = new_key()
    blob = seal(key, b"rahasia", HOME)
    with pytest.raises(DecryptError, match="cannot decrypt inbox.text of row a1b2"):
        open_blob(key, damage(blob), HOME)


@pytest.mark.parametrize(
    ("kind", "raw", "normalised"),
    [
        ("whatsapp", "whatsapp:+6281234567890", "+6281234567890"),
        ("whatsapp", "+62 812-3456-7890", "+6281234567890"),
        ("whatsapp", "0812 3456 7890", "+6281234567890"),
        ("whatsapp", "006281234567890", "+6281234567890"),
        ("phone", "(0911) 352.000", "+62911352000"),
        ("telegram", " 123456789 ", "123456789"),
        ("telegram", "0123", "0123"),
    ],
)
def test_addresses_are_normalised_before_indexing(kind: str, raw: str, normalised: str) -> None:
    assert normalise_address(kind, raw) == normalised


def test_blind_index_matches_spelling_variants_of_one_number() -> None:
    key = new_key()
    variants = {
        blind_index(key, "whatsapp", v) for v in ("whatsapp:+6281234567890", "0812-3456-7890")
    }
    assert len(variants) == 1
    assert len(variants.pop()) == 16


def test_blind_index_separates_kinds_keys_and_values() -> None:
    key = new_key()
    base = blind_index(key, "telegram", "123")
    assert blind_index(key, "whatsapp", "123") != base
    assert blind_index(key, "telegram", "124") != base
    assert blind_index(new_key(), "telegram", "123") != base


def test_dek_cache_forgets_the_least_recently_used_key() -> None:
    cache = DekCache(capacity=2)
    cache.put(1, b"a" * 32)
    cache.put(2, b"b" * 32)
    assert cache.get(1) == b"a" * 32  # 1 is now the most recent
    cache.put(3, b"c" * 32)
    assert cache.get(2) is None
    assert cache.get(1) == b"a" * 32
    assert len(cache) == 2
    cache.discard(1)
    assert cache.get(1) is None
