"""Indonesian stemming through PySastrawi, loaded once and cached per word."""

from __future__ import annotations

from functools import cache, lru_cache
from typing import Any

_CACHE_SIZE = 65536
_CACHED_WORD_CHARS = 40
"""Real words are short; a longer "word" is noise or an attack and is never cached."""


@cache
def _stemmer() -> Any:
    """Builds Sastrawi's stemmer on first use (its dictionary load takes tens of ms)."""
    from Sastrawi.Stemmer.StemmerFactory import StemmerFactory

    return StemmerFactory().create_stemmer()


def stem(word: str) -> str:
    """Returns the Indonesian stem of one lowercase word (``dipukuli`` -> ``pukul``)."""
    if not word.isascii() or not word.isalpha() or len(word) > _CACHED_WORD_CHARS:
        return word
    return _stem(word)


@lru_cache(maxsize=_CACHE_SIZE)
def _stem(word: str) -> str:
    return str(_stemmer().stem(word))


def is_indonesian(word: str) -> bool:
    """Tells whether a word, or its stem, is a root word of Sastrawi's Indonesian dictionary.

    A real word (``dibantai``) must never be re-read as a typo of a crisis word
    (``dirantai``); only words the dictionary does not know are.
    """
    if len(word) > _CACHED_WORD_CHARS:
        return False
    return _in_dictionary(word)


@lru_cache(maxsize=_CACHE_SIZE)
def _in_dictionary(word: str) -> bool:
    dictionary = _stemmer().delegatedStemmer.dictionary
    return bool(dictionary.contains(word) or dictionary.contains(stem(word)))
