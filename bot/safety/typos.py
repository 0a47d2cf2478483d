"""Reading unknown words as known ones: colloquial verb forms and single typos.

Both are tried only for words the lexicon does not know, and both only ever propose words
the lexicon does know, so they widen what the rules can see without inventing meaning.
"""

from __future__ import annotations

from collections.abc import Iterable

_VOWELS = frozenset("aeiou")
MIN_TYPED = 4
MIN_TARGET = 5


def colloquial_bases(word: str) -> tuple[str, ...]:
    """Standard forms a Jakarta or Ambonese verb may stand for (``nyekik`` -> ``cekik``).

    Nasal prefixes replace the first letter of the base (``mukul``/``pukul``,
    ``nendang``/``tendang``, ``nyekik``/``cekik``, ``nyayat``/``sayat``, ``ngancem``),
    ``nge-`` stands before short bases (``ngebacok``), and ``-in``/``-an`` endings are
    spoken suffixes (``pukulin``).
    """
    out: list[str] = []
    stems = [word]
    for suffix in ("in", "nya", "kan"):
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            stems.append(word[: -len(suffix)])
    for base in stems:
        if len(base) < MIN_TYPED:
            continue
        if base.startswith("nge") and len(base) > 5:
            out.append(base[3:])
        if base.startswith("ny") and base[2:3] in _VOWELS:
            out += ["s" + base[2:], "c" + base[2:]]
        elif base.startswith("ng") and base[2:3] in _VOWELS:
            out += ["k" + base[2:], base[2:]]
        elif base.startswith("m") and base[1:2] in _VOWELS:
            out += ["p" + base[1:], "b" + base[1:]]
        elif base.startswith("n") and base[1:2] in _VOWELS:
            out.append("t" + base[1:])
        if base.endswith("ng") and len(base) > 5:
            out.append(base[:-1])
        if base != word:
            out.append(base)
    return tuple(dict.fromkeys(out))


def _deletes(word: str) -> Iterable[str]:
    return (word[:index] + word[index + 1 :] for index in range(len(word)))


def within_one_edit(typed: str, known: str) -> bool:
    """True when one insertion, deletion, substitution or swap turns ``typed`` into ``known``."""
    if typed == known:
        return True
    if abs(len(typed) - len(known)) > 1:
        return False
    if len(typed) == len(known):
        diffs = [i for i, (a, b) in enumerate(zip(typed, known, strict=True)) if a != b]
        if len(diffs) == 1:
            return True
        return (
            len(diffs) == 2
            and diffs[1] == diffs[0] + 1
            and typed[diffs[0]] == known[diffs[1]]
            and typed[diffs[1]] == known[diffs[0]]
        )
    shorter, longer = (typed, known) if len(typed) < len(known) else (known, typed)
    return any(candidate == shorter for candidate in _deletes(longer))


class TypoIndex:
    """Finds the known words one typo away from a typed word, by an index of deletions."""

    __slots__ = ("_index",)

    def __init__(self, vocabulary: Iterable[str]) -> None:
        index: dict[str, set[str]] = {}
        for word in vocabulary:
            if len(word) < MIN_TARGET or not word.isalpha():
                continue
            index.setdefault(word, set()).add(word)
            for deleted in _deletes(word):
                index.setdefault(deleted, set()).add(word)
        self._index = {key: tuple(sorted(words)) for key, words in index.items()}

    def near(self, typed: str) -> tuple[str, ...]:
        """Known words within one edit of ``typed``; empty for short or unmatched words."""
        if len(typed) < MIN_TYPED or not typed.isalpha():
            return ()
        candidates: set[str] = set(self._index.get(typed, ()))
        for deleted in _deletes(typed):
            candidates.update(self._index.get(deleted, ()))
        return tuple(sorted(w for w in candidates if w != typed and within_one_edit(typed, w)))
