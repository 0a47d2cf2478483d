"""Word keys for matching: Indonesian stems (PySastrawi) and a light English suffix rule.

Sastrawi's stemmer is built once, on first use (its dictionary takes ~10 ms to load),
and every word's key is cached. A first sight of a long affixed word can still cost
Sastrawi milliseconds (`perempuan`), so the matcher only stems a typed word that
could hold one of the question's own stems (`fragments`).
"""

from __future__ import annotations

import re
from functools import cache, lru_cache
from typing import Any

_CACHE_SIZE = 65536
_UNDOUBLE = frozenset(c * 2 for c in "bdgmnprt")
"""Doubled before -ing or -ed only to spell it: chatting, stopped (not calling)."""
_AFFIXED = re.compile(r"^(?:me|di|be|te|pe|ke|se)|(?:kan|an|i|nya|lah|kah|ku|mu|pun)$")
_OWN_ROOTS = {"setuju": "setuju", "nyetuju": "setuju"}
"""Roots Sastrawi takes a prefix off: `setuju` (agree) would be `tuju`, one with
`menuju` and `tujuan` (toward, aim), so "di kapal menuju Banda" read as consent.
A word holding one (`persetujuan`, `menyetujui`) is keyed by it."""


@cache
def _stemmer() -> Any:
    from Sastrawi.Stemmer.StemmerFactory import StemmerFactory

    return StemmerFactory().create_stemmer()


@lru_cache(maxsize=_CACHE_SIZE)
def key(word: str) -> str:
    """The form two words are compared by: ``dipukul``/``pukul``, ``services``/``service``."""
    if not word.isascii() or not word.isalpha() or len(word) < 4:
        return word
    for inside, root in _OWN_ROOTS.items():
        if inside in word:
            return root
    # Sastrawi can spend milliseconds on a word without Indonesian affixes (`withdraw`).
    stem = str(_stemmer().stem(word)) or word if _AFFIXED.search(word) else word
    if stem != word:
        return stem
    if word.endswith("in") and len(word) >= 6:
        # Jakarta `-in` stands for `-kan`/`-i`: dilecehin, pukulin, nanyain.
        spoken = str(_stemmer().stem(word[:-2] + "kan"))
        if _stemmer().delegatedStemmer.dictionary.contains(spoken):
            return spoken
    return plain_key(word)


@lru_cache(maxsize=_CACHE_SIZE)
def plain_key(word: str) -> str:
    """The key without Indonesian stemming: English plurals and suffixes only."""
    if not word.isascii() or not word.isalpha() or len(word) < 4:
        return word
    if word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    for suffix, shortest in (("ing", 6), ("ment", 8), ("ed", 6), ("ly", 6)):
        if len(word) >= shortest and word.endswith(suffix):
            stem = word[: -len(suffix)]
            if suffix in ("ing", "ed") and stem[-2:] in _UNDOUBLE:
                stem = stem[:-1]  # chatting, stopped
            return stem
    return word


def fragments(stem: str) -> tuple[str, ...]:
    """What a word must contain to stem to `stem`: the stem, or (a nasal prefix
    replaces its first letter: memukul, menendang) the stem without it."""
    if len(stem) < 3:
        return ()
    return (stem, stem[1:]) if len(stem) >= 4 else (stem,)


def inner(word: str, shortest: int = 3) -> set[str]:
    """Every run of `shortest` letters or more inside a word."""
    return {word[i:j] for i in range(len(word)) for j in range(i + shortest, len(word) + 1)}
