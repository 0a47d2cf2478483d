"""Word keys for matching: Indonesian stems (PySastrawi) and a light English suffix rule.

Sastrawi's stemmer is built once, on first use (its dictionary takes ~10 ms to load),
and every word's key is cached, so a typed answer costs microseconds.
"""

from __future__ import annotations

from functools import cache, lru_cache
from typing import Any

_CACHE_SIZE = 65536


@cache
def _stemmer() -> Any:
    from Sastrawi.Stemmer.StemmerFactory import StemmerFactory

    return StemmerFactory().create_stemmer()


@lru_cache(maxsize=_CACHE_SIZE)
def key(word: str) -> str:
    """The form two words are compared by: ``dipukul``/``pukul``, ``services``/``service``."""
    if not word.isascii() or not word.isalpha() or len(word) < 4:
        return word
    stem = str(_stemmer().stem(word)) or word
    if stem == word and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        stem = word[:-1]
    elif stem == word and len(word) >= 6 and word.endswith("ing"):
        stem = word[:-3]
    return stem
