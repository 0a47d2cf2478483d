"""Indonesian stemming through PySastrawi, loaded once and cached per word."""

from __future__ import annotations

from functools import cache, lru_cache
from typing import Any

_CACHE_SIZE = 65536


@cache
def _stemmer() -> Any:
    """Builds Sastrawi's stemmer on first use (its dictionary load takes tens of ms)."""
    from Sastrawi.Stemmer.StemmerFactory import StemmerFactory

    return StemmerFactory().create_stemmer()


@lru_cache(maxsize=_CACHE_SIZE)
def stem(word: str) -> str:
    """Returns the Indonesian stem of one lowercase word (``dipukuli`` -> ``pukul``)."""
    if not word.isascii() or not word.isalpha():
        return word
    return str(_stemmer().stem(word))


@lru_cache(maxsize=_CACHE_SIZE)
def is_indonesian(word: str) -> bool:
    """Tells whether a word, or its stem, is a root word of Sastrawi's Indonesian dictionary.

    A real word (``dibantai``) must never be re-read as a typo of a crisis word
    (``dirantai``); only words the dictionary does not know are.
    """
    dictionary = _stemmer().delegatedStemmer.dictionary
    return bool(dictionary.contains(word) or dictionary.contains(stem(word)))
