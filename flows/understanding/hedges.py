"""A message that says the family is not sure yet answers nothing (pure, no I/O).

Why a rule of its own: "not sure" negates `sure`, a word of "Setuju", and the matcher
reads a negated choice's word as its opposite, so "hmm gak yakin" recorded a refusal
at the consent question and "not sure yet" cancelled a booking; "mungkin iya mungkin
tidak" names both answers and took one. Someone who is unsure has not answered: the
question is asked again (the kind re-ask) rather than guessed. A clause of its own
beside the doubt is still read ("gak yakin sih, tapi ya udah setuju").
"""

from __future__ import annotations

from collections.abc import Sequence

from flows.understanding.reading import NEGATORS

CERTAIN = frozenset({"yakin", "sure", "pasti", "certain", "positive"})
"""Words of certainty: negated, they say the family is unsure, not the opposite answer."""
DOUBTS = frozenset({"ragu", "entah", "entahlah", "unsure", "bimbang"})
"""Words that say doubt on their own."""
MAYBES = frozenset({"mungkin", "maybe", "perhaps"})
"""Said twice ("mungkin iya mungkin tidak"), they leave the answer open."""
REACH = 2
"""How many words after a negation its certainty word may stand ("not really sure")."""


def unsure(standard: Sequence[str]) -> bool:
    """True when the words (standard forms) say the family is not sure: a doubt, a
    negated word of certainty, or two maybes."""
    if not DOUBTS.isdisjoint(standard):
        return True
    if sum(word in MAYBES for word in standard) >= 2:
        return True
    return any(
        word in NEGATORS and not CERTAIN.isdisjoint(standard[n + 1 : n + 1 + REACH])
        for n, word in enumerate(standard)
    )
