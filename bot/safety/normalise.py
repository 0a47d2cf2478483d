"""Turns text as people type it into plain word pieces the lexicon can be matched against.

Typing tricks are undone here, before any word is looked up: case, compatibility forms
(fullwidth letters, ligatures), look-alike letters of other scripts (Cyrillic ``ѕауа``),
accents, zero-width characters, leetspeak inside words (``m4ti``, ``d1ri``),
reduplication written with a digit (``anak2``), spaced-out letters (``b u n u h``) and
hyphenated reduplication (``dipukul-pukul``). Bare numbers become the marker ``#num`` so
that a rule can tell ``pukul 10`` (a time) from ``dipukul``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

NUMBER = "#num"
BIG_NUMBER = "#big"
BIG_FROM = 10

_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)
# Letters of other scripts that look Latin (Cyrillic, Greek), as typed to slip past a
# filter or produced by some keyboards: ``ѕауа`` is read as ``saya``. Applied after case
# folding, so only lowercase forms are listed.
_LOOKALIKES = str.maketrans(
    {
        "а": "a",
        "в": "b",
        "с": "c",
        "ԁ": "d",
        "е": "e",
        "ё": "e",
        "һ": "h",
        "і": "i",
        "ї": "i",
        "ј": "j",
        "к": "k",
        "м": "m",
        "н": "h",
        "о": "o",
        "п": "n",
        "р": "p",
        "ԛ": "q",
        "ѕ": "s",
        "т": "t",
        "у": "y",
        "ѡ": "w",
        "х": "x",
        "ү": "y",
        "ɡ": "g",
        "ı": "i",
        "α": "a",
        "β": "b",
        "ε": "e",
        "η": "n",
        "ι": "i",
        "κ": "k",
        "μ": "u",
        "ν": "v",
        "ο": "o",
        "ρ": "p",
        "τ": "t",
        "υ": "u",
        "χ": "x",
        "ω": "w",
        "ς": "s",
        "ѵ": "v",
    }
)
_APOSTROPHES = re.compile(r"['\u2018\u2019\u02bc`\u00b4]")
_GROUP = re.compile(r"[a-z0-9@$]+(?:-[a-z0-9@$]+)*")
_LEET = str.maketrans(
    {"4": "a", "1": "i", "3": "e", "0": "o", "5": "s", "7": "t", "8": "b", "@": "a", "$": "s"}
)
_DIGIT_REDUPLICATION = re.compile(r"([a-z]{2,})2([a-z]{0,3})")
_REDUPLICATION_SUFFIXES = ("in", "kan", "nya", "i")
_NUMBER_WITH_SUFFIX = re.compile(r"(\d+)(?:an|x|an-an)")
_MIN_SPACED_RUN = 3


@dataclass(frozen=True, slots=True)
class Piece:
    """One word of the message after normalisation.

    ``joined`` marks a word rebuilt from spaced-out letters, whose word boundaries are lost
    (``a k u m a u m a t i``), so the analyser may split it into known words. ``opaque``
    marks a reciprocal or playful reduplication (``bunuh-bunuhan``, ``mati-matian``), which
    must never be read as the base word. ``repeated`` marks a reduplicated word
    (``pegang-pegang``, ``pegang2``), which often carries a meaning of its own.
    ``#big`` stands for a number of at least ten (``minum 20 butir``).
    """

    text: str
    joined: bool = False
    opaque: bool = False
    repeated: bool = False


def clean(text: str) -> str:
    """Folds case, compatibility forms, accents and invisible characters away."""
    folded = (
        unicodedata.normalize("NFKC", text).casefold().translate(_INVISIBLE).translate(_LOOKALIKES)
    )
    decomposed = unicodedata.normalize("NFKD", folded)
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _APOSTROPHES.sub("", bare)


def pieces(text: str) -> list[Piece]:
    """Splits a message into normalised word pieces."""
    raw: list[list[str]] = [group.split("-") for group in _GROUP.findall(clean(text))]
    out: list[Piece] = []
    singles: list[str] = []
    for parts in raw:
        if len(parts) == 1 and len(parts[0]) == 1:
            singles.append(parts[0])
            continue
        _flush_singles(singles, out)
        out.extend(_group_pieces(parts))
    _flush_singles(singles, out)
    return [piece for piece in out if piece.text]


def _flush_singles(singles: list[str], out: list[Piece]) -> None:
    """Rejoins a run of spaced-out letters (``b u n u h``); shorter runs stay as they are."""
    letters = sum(ch.isalpha() for ch in singles)
    if len(singles) >= _MIN_SPACED_RUN and letters >= 2:
        out.append(Piece(_unleet("".join(singles)), joined=True))
    else:
        out.extend(Piece(_unleet(ch)) for ch in singles)
    singles.clear()


def _unleet(part: str) -> str:
    """Reads digits and symbols inside a word as the letters they stand for."""
    if part.isdigit():
        digits = part.lstrip("0")
        big = len(digits) > len(str(BIG_FROM)) or (bool(digits) and int(digits) >= BIG_FROM)
        return BIG_NUMBER if big else NUMBER
    stripped = part.strip("@")
    if not stripped:
        return ""
    if stripped.isdigit():
        return _unleet(stripped)
    return stripped.translate(_LEET)


def _piece(part: str) -> Piece:
    """One piece from one hyphen-free part; ``anak2`` is a reduplication of ``anak``.

    A suffix after the digit is kept (``apa2in`` is ``apain``, ``pukul2an`` the opaque
    ``pukul-pukulan``), and a number with a suffix is a number (``20an`` pills, ``3x``).
    """
    counted = _NUMBER_WITH_SUFFIX.fullmatch(part)
    if counted:
        return Piece(_unleet(counted.group(1)))
    redup = _DIGIT_REDUPLICATION.fullmatch(part)
    if redup:
        base, suffix = redup.groups()
        if not suffix:
            return Piece(_unleet(base), repeated=True)
        if suffix in ("an", "nan"):
            return Piece(f"{_unleet(base)}-{_unleet(base)}{suffix}", opaque=True)
        if suffix in _REDUPLICATION_SUFFIXES:
            return Piece(_unleet(base + suffix), repeated=True)
    return Piece(_unleet(part))


def _group_pieces(raw: list[str]) -> list[Piece]:
    """Resolves a hyphenated group: reduplication collapses, reciprocals stay opaque."""
    parts = [piece for piece in map(_piece, raw) if piece.text]
    texts = [piece.text for piece in parts]
    if len(texts) == 2 and not {NUMBER, BIG_NUMBER} & set(texts):
        first, second = texts
        if second in (first + "an", first + "nan"):
            return [Piece(f"{first}-{second}", opaque=True)]
        if first == second or first.endswith(second) or second.endswith(first):
            return [Piece(max(texts, key=len), repeated=True)]
    return parts
