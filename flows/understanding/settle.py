"""Settling what the word scores leave open, by where things are said (pure, no I/O).

Why rules of their own: the matcher's scores weigh words, not their order, so a
message that names two choices, or a position and a remark, is a close call or
nothing though the family said plainly what they meant. Three readings settle it:

- the answer comes first and the reason after it: of two close choices, the one said
  first in a clause of its own is meant ("hapus sa beta pung data samua, beta takut
  paitua lia"), unless the message asks, leaves the answer open ("mungkin"), adds
  another ("tapi", "juga"), or says the other alone in a clause too ("darurat, mau
  curhat");
- a position said in a first clause of its own picks by position ("yang pertama, my
  grandfather"), unless another clause names another position;
- of two choices each with a phrase said whole, the one whose phrase holds the other's
  is meant ("not very helpful" says "not helpful" and "not very helpful").
"""

from __future__ import annotations

from collections.abc import Sequence

from flows.understanding.aboutness import Clause, answers_anywhere, answers_first
from flows.understanding.numbers import LAST, names_position, position
from flows.understanding.reading import UNSURE, Lexicon, asks, typed_clauses
from flows.understanding.text import words

SHORT_CLAUSE = 4
"""The most words a first clause that names a position has ("yang pertama saja")."""


def said_first(
    text: str,
    standard: tuple[str, ...],
    lexicon: Lexicon,
    leaders: tuple[int, int],
    clauses: Sequence[Sequence[Clause]],
) -> int | None:
    """Of two close choices (`leaders`, with the message's `clauses` as each reads
    them), the one a statement says first in a clause of its own; None when neither
    or both are, or the message asks, leaves the answer open or adds another."""
    parts = typed_clauses(text)
    if len(parts) < 2 or asks(standard, text) or not UNSURE.isdisjoint(standard):
        return None
    if len(lexicon.clauses(parts[0])) > 1:
        return None  # "mau info tapi ...": the first clause holds a second one
    alone = [i for i, said in zip(leaders, clauses, strict=True) if answers_first(said)]
    if len(alone) != 1 or sum(answers_anywhere(said) for said in clauses) > 1:
        return None  # "darurat, mau curhat": two answers, each in a clause of its own
    return alone[0]


def leading_position(text: str, lexicon: Lexicon, count: int) -> int | None:
    """The 1-based position a message's first clause names alone, among `count`
    choices, when the message has more clauses and none names another position."""
    parts = typed_clauses(text)
    said = words(parts[0]) if len(parts) > 1 else []
    if not said or len(said) > SHORT_CLAUSE or not names_position(said):
        return None
    first = position(lexicon.standard(parts[0]), lexicon.stop)
    place = count if first == LAST else first
    if place is None or not 1 <= place <= count:
        return None
    later = (position(lexicon.standard(p), lexicon.stop) for p in parts[1:])
    return None if any(p not in (None, first) for p in later) else place


def longer_phrase(longest: dict[int, frozenset[str]], first: int, second: int) -> int | None:
    """Of two choices each with a phrase said whole (`longest`: per choice, the keys of
    its longest such phrase), the one whose phrase holds the other's and more."""
    one, two = longest.get(first), longest.get(second)
    if one is None or two is None:
        return None
    return first if one > two else second if two > one else None
