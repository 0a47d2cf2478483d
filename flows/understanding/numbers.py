"""Answers that pick by position: ``2``, ``no 2``, ``yang kedua``, ``dua``, ``the first one``.

Only a message that is nothing but a position (and filler words around it) counts:
``anak saya yang kedua`` is about a child, not the second choice.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

LAST = -1
"""The position `terakhir` / `last` stands for."""

_CARDINALS = {
    "satu": 1, "dua": 2, "tiga": 3, "empat": 4, "lima": 5, "enam": 6, "tujuh": 7,
    "delapan": 8, "sembilan": 9, "sepuluh": 10,
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10,
}  # fmt: skip
_ORDINALS = {
    "pertama": 1, "kesatu": 1, "pertamax": 1, "kedua": 2, "ketiga": 3, "keempat": 4,
    "kelima": 5, "keenam": 6, "ketujuh": 7, "kedelapan": 8, "kesembilan": 9, "kesepuluh": 10,
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6,
    "seventh": 7, "eighth": 8, "ninth": 9, "tenth": 10,
    "terakhir": LAST, "last": LAST,
}  # fmt: skip
_FILLERS = frozenset(
    "yang yg ke no nomor nomer nmr nr pilihan pilih pilihannya opsi option options number "
    "choice the a an saja aja ajah sj deh dong ya iya itu kak ka pak bu bapak ibu mau saya "
    "beta sy aku i want take pick choose that please pls tolong ambil nya yah is it".split()
)
_SUFFIXED = re.compile(r"^(?:no|nomor|nmr|ke|opsi)?(\d{1,2})(?:st|nd|rd|th)?$")


def _skeleton(word: str) -> str:
    """A word's first letter and the consonants after it (`prtama`, `pertama`: prtm)."""
    return word[:1] + "".join(c for c in word[1:] if c.isalpha() and c not in "aeiou")


_SHORT_ORDINALS = {
    _skeleton(word): place
    for word, place in _ORDINALS.items()
    if len(_skeleton(word)) >= 3 and word[:1] in "ptk"
}
"""Ordinals typed without some vowels (`prtama`, `ktiga`, `trakhir`), by their
consonants; only those with three or more, so that no short word is read as one."""


def position(said: Sequence[str], fillers: frozenset[str] = frozenset()) -> int | None:
    """The 1-based position a message of plain words names, `LAST`, or None; `fillers`
    are more words that may stand around it (the word table's stop words)."""
    found: list[int] = []
    rest: list[str] = []
    for word in said:
        digits = _SUFFIXED.match(word)
        if digits:
            found.append(int(digits.group(1)))
        elif word in _ORDINALS:
            found.append(_ORDINALS[word])
        elif word in _CARDINALS:
            found.append(_CARDINALS[word])
        elif word not in _FILLERS and word not in fillers:
            if (short := _SHORT_ORDINALS.get(_skeleton(word))) is None:
                rest.append(word)
            else:
                found.append(short)
    if rest or not found:
        return None
    if len(found) == 2 and found[1] == 1 and said[-1] in ("one", "satu"):
        found = found[:1]  # "the first one", "yang kedua satu" is not a thing
    if len(set(found)) != 1:
        return None
    return found[0]


def names_position(said: Sequence[str]) -> bool:
    """True when some word could name a position (a number, an ordinal, a cardinal): a
    quick test before a clause is read for one."""
    return any(
        w in _ORDINALS or w in _CARDINALS or _SUFFIXED.match(w) or _skeleton(w) in _SHORT_ORDINALS
        for w in said
    )


def named_number(said: Sequence[str]) -> int | None:
    """The one number a message names among other words (``5, really helpful``,
    ``lumayan, empat deh``), or None when it names none or several."""
    found = set()
    for word in said:
        digits = _SUFFIXED.match(word)
        if digits:
            found.add(int(digits.group(1)))
        elif word in _CARDINALS:
            found.add(_CARDINALS[word])
    return found.pop() if len(found) == 1 else None
