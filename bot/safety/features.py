"""The features the learned layer sees: one pure function shared by training and scoring.

A message is normalised as the rules see it (``normalise.pieces``: case, look-alike
letters, leetspeak, spaced and starred words), elongations are collapsed and slang is read
through the lexicon's ``replace`` map (``gw`` -> ``saya``, ``seng`` -> ``tidak``). Three
blocks of features follow:

- character n-grams (2 to 5) of each word, padded with spaces, which carry typos and
  unknown Ambonese or Jakarta forms that share most of their letters with a known word;
- word n-grams (1 to 3), which carry who does what to whom and phrases such as farewells,
  and the lexicon lists each word belongs to (``l:self`` for ``saya``, ``beta``, ``i`` and
  ``me``; ``l:hit`` for ``pukul`` and ``beating``), so that what the larger Indonesian part
  of the corpus teaches carries over to English words of the same meaning;
- the rule and frame ids the rules found (``r:violence.mention``), so the model learns
  when a milder rule, or two of them together, still mean danger.

Every feature is hashed into a fixed number of buckets (CRC-32), so the model is a few
arrays of numbers and no vocabulary has to be shipped or kept in memory. The two text
blocks are weighted as TF-IDF (sublinear term frequency) and each scaled to unit length,
as scikit-learn's ``TfidfVectorizer`` would; rule signals count 1 each.
"""

from __future__ import annotations

import re
import zlib
from array import array
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

from bot.safety.normalise import BIG_NUMBER, NUMBER, pieces
from bot.safety.stemming import stem
from bot.safety.words import Word

BUCKETS = 1 << 18
"""Hash space of the features; collisions cost little at the corpus's size."""

CHAR_SIZES = (2, 3, 4, 5)
WORD_SIZES = (1, 2, 3)
MAX_WORDS = 400
"""Only the first words of a very long message are read by the model (the rules read all)."""

_RUN = re.compile(r"(.)\1{2,}")
_WORD_CACHE = 16384
_CACHED_WORD_CHARS = 24
"""Longer "words" are noise or an attack; caching them would let one sender fill memory."""


class Concepts:
    """Which lexicon lists each single word belongs to: as typed, and by its stem for the
    entries that match stems (``dipukuli`` is ``l:passive_hurt`` and, as ``pukul``, ``l:hit``).
    """

    __slots__ = ("_exact", "_loose", "_cached")

    def __init__(
        self, exact: Mapping[str, frozenset[str]], loose: Mapping[str, frozenset[str]]
    ) -> None:
        self._exact = exact
        self._loose = loose
        self._cached = lru_cache(maxsize=_WORD_CACHE)(self._lookup)

    @classmethod
    def from_lists(cls, lists: Mapping[str, Sequence[Sequence[Word]]]) -> Concepts:
        """The concepts of a lexicon's lists (phrases are left to the rules)."""
        exact: dict[str, set[str]] = {}
        loose: dict[str, set[str]] = {}
        for name, phrases in lists.items():
            for phrase in phrases:
                if len(phrase) == 1:
                    word = phrase[0]
                    exact.setdefault(word.text, set()).add(name)
                    if not word.exact:
                        loose.setdefault(word.text, set()).add(name)
        return cls(
            {word: frozenset(names) for word, names in exact.items()},
            {word: frozenset(names) for word, names in loose.items()},
        )

    def of(self, word: str) -> tuple[str, ...]:
        """The feature names of one word's concepts (``l:self``), empty for most words."""
        if len(word) > _CACHED_WORD_CHARS:
            return ()
        return self._cached(word)

    def _lookup(self, word: str) -> tuple[str, ...]:
        names = self._exact.get(word, frozenset())
        if self._loose:
            names |= self._loose.get(stem(word), frozenset())
        return tuple(sorted(f"l:{name}" for name in names))


NO_CONCEPTS = Concepts({}, {})


@dataclass(frozen=True, slots=True)
class Features:
    """One message's features as hashed counts, block by block."""

    chars: Counter[int]
    words: Counter[int]
    signals: frozenset[int]


def canonical_words(text: str, replace: Mapping[str, tuple[str, ...]]) -> list[str]:
    """The message as plain standard words: elongation collapsed, slang replaced."""
    words: list[str] = []
    for piece in pieces(text):
        word = piece.text
        if word in (NUMBER, BIG_NUMBER):
            words.append("#num")
            continue
        word = _RUN.sub(r"\1", word.replace("-", ""))
        replaced = replace.get(word)
        if replaced is None and _RUN.search(piece.text):
            replaced = replace.get(_RUN.sub(r"\1\1", piece.text))
        words.extend(replaced if replaced is not None else (word,))
        if len(words) >= MAX_WORDS:
            break
    return words[:MAX_WORDS]


def char_names(words: list[str]) -> Counter[str]:
    """Character n-grams of each word padded with spaces, with their counts."""
    out: Counter[str] = Counter()
    for word in words:
        padded = f" {word} "
        for size in CHAR_SIZES:
            for start in range(len(padded) - size + 1):
                out[f"c:{padded[start : start + size]}"] += 1
    return out


def word_names(words: list[str], concepts: Concepts = NO_CONCEPTS) -> Counter[str]:
    """Word n-grams and the words' concepts, with their counts."""
    out: Counter[str] = Counter()
    for size in WORD_SIZES:
        for start in range(len(words) - size + 1):
            out["w:" + " ".join(words[start : start + size])] += 1
    for word in words:
        out.update(concepts.of(word))
    return out


def signal_names(signals: Iterable[str]) -> set[str]:
    """What the rules found, as feature names."""
    return {f"r:{signal}" for signal in signals}


def bucket(feature: str) -> int:
    """The stable bucket of one feature (CRC-32, the same on every machine and run)."""
    return zlib.crc32(feature.encode("utf-8")) % BUCKETS


def _hashed(names: Counter[str]) -> Counter[int]:
    out: Counter[int] = Counter()
    for name, count in names.items():
        out[bucket(name)] += count
    return out


@lru_cache(maxsize=_WORD_CACHE)
def _word_char_buckets(word: str) -> array[int]:
    """The buckets of one word's character n-grams; words repeat, so this is cached.

    Packed as 32-bit integers, so the full cache of short words stays a few MB whatever
    a sender types.
    """
    return array(
        "I", (bucket(name) for name, count in char_names([word]).items() for _ in range(count))
    )


def extract(
    text: str,
    replace: Mapping[str, tuple[str, ...]],
    signals: Iterable[str] = (),
    concepts: Concepts = NO_CONCEPTS,
) -> Features:
    """The hashed features of one message."""
    words = canonical_words(text, replace)
    chars: Counter[int] = Counter()
    for word in words:
        if len(word) > _CACHED_WORD_CHARS:
            chars.update(_hashed(char_names([word])).elements())
        else:
            chars.update(_word_char_buckets(word))
    return Features(
        chars,
        _hashed(word_names(words, concepts)),
        frozenset(map(bucket, signal_names(signals))),
    )


def all_names(
    text: str,
    replace: Mapping[str, tuple[str, ...]],
    signals: Iterable[str] = (),
    concepts: Concepts = NO_CONCEPTS,
) -> set[str]:
    """Every feature of one message by name (``lk3 safety explain`` shows the strongest)."""
    words = canonical_words(text, replace)
    return set(char_names(words)) | set(word_names(words, concepts)) | signal_names(signals)
