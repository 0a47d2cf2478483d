"""Reading unknown words as known ones: colloquial verb forms, and single typos through
the choice matcher's own index (``flows.understanding.typos``).

Both are tried only for words the lexicon does not know, and both only ever propose words
the lexicon does know, so they widen what the rules can see without inventing meaning.
"""

from __future__ import annotations

__all__ = ["MIN_TYPED", "colloquial_bases"]

_VOWELS = frozenset("aeiou")
MIN_TYPED = 4
"""A typed word this long may be a typo of a crisis word (``tusu`` for ``tusuk``); the
crisis words themselves need five letters (``flows.understanding.typos``)."""


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
