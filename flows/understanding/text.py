"""Typed text as plain words: case, accents, punctuation, stretched letters, reduplication.

Why before anything else: families type on cheap phones in a hurry (``TOLONGGG``,
``anak2``, ``Alamat-nya??``); every later step sees the same plain lowercase words.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)
_APOSTROPHES = re.compile(r"['\u2018\u2019\u02bc`\u00b4]")
_GROUP = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_STRETCHED = re.compile(r"([a-z])\1{2,}")
_DIGIT_REDUPLICATION = re.compile(r"([a-z]{3,})2")
DOUBLED_WORDS = frozenset({"laki"})
"""Words whose doubling means something else (`laki` is a husband, `laki-laki` and
`laki2` male): read as one word, `lakilaki` (the word table reads it)."""
_BOTH = re.compile(r"dua-?(?:2|dua)(?:nya)?")


def fold(text: str) -> str:
    """Folds case, compatibility forms, accents, apostrophes and invisible characters away."""
    folded = unicodedata.normalize("NFKC", text).casefold().translate(_INVISIBLE)
    bare = "".join(
        ch for ch in unicodedata.normalize("NFKD", folded) if not unicodedata.combining(ch)
    )
    return _APOSTROPHES.sub("", bare)


def squeeze(word: str) -> str:
    """Undoes stretching: three or more of one letter become one (``tolongggg`` -> ``tolong``)."""
    return _STRETCHED.sub(r"\1", word)


def words(text: str) -> list[str]:
    """The plain words of a text; ``anak2`` and ``anak-anak`` are one ``anak``."""
    return list(_words(text))


@lru_cache(maxsize=2048)
def _words(text: str) -> tuple[str, ...]:
    """`words`, kept for the texts read lately: a message is read by several layers,
    whole and clause by clause."""
    out: list[str] = []
    for group in _GROUP.findall(fold(text)):
        if _BOTH.fullmatch(group):
            out.append("keduanya")  # dua-dua, dua2nya: both, never the number two
            continue
        parts = group.split("-")
        if len(parts) == 2 and parts[0] == parts[1]:
            # anak-anak is anak; a word whose doubling is a word of its own stays doubled
            parts = [parts[0] * 2] if parts[0] in DOUBLED_WORDS else parts[:1]
        for part in parts:
            redup = _DIGIT_REDUPLICATION.fullmatch(part)
            if redup:
                part = redup.group(1) * (2 if redup.group(1) in DOUBLED_WORDS else 1)
            if part:
                out.append(squeeze(part))
    return tuple(out)
