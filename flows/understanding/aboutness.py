"""Whether a typed message is about the question it answers, or a remark that merely
holds one of a choice's words (pure, no I/O).

Why a model of its own: the word-overlap score says how well a choice's phrases are
covered by what was typed, not whether the message is about them. "Nomor rekening
saya berubah" covers "Ubah jadwal" whole (`berubah`), "the school fees are due next
week" covers "Beberapa minggu" (`week`): both are about something else, and a family
told "jadwal Anda diubah" or asked nothing at all would be wronged. So each meaningful
word of the message is given a role as far as the picked choice is concerned:

- `chosen`: the choice knows it (its label, synonyms, examples); read through a typo
  or a vowel-less spelling it is weaker evidence (`FUZZY`);
- `supposed`: the choice knows it, but it is said in a supposition ("kalau konselor
  ke rumah, bayar gak?", "tergantung suami di rumah"): it is no pick, and a message
  whose choice's words are all supposed is not about choosing it;
- `question`: another choice of the question knows it: the message is about the
  question, if not about this choice (`QUESTION`);
- `light`: it names no topic of its own: a number, or a word of the admins' `light`
  list (globals.toml `[words]`: degree, hedging, politeness, age, family members);
- `foreign`: nothing of the question explains it: the message speaks of something
  else.

Where a foreign word stands tells how much it weighs. Before the choice's words in
their clause, it is what the clause is about, the topic ("Nomor rekening saya
berubah", "rain ... today"); after them, it most often qualifies them ("tetangga
sebelah rumah", "a friend from church"), and in a clause without the choice's words
it gives a reason or an aside ("ganti jam, ada acara"). In a question of the family's
own every foreign word weighs more: a question about something else is no answer.

The aboutness is the share of this evidence the choice explains; the matcher scales
its score by it (`factor`), so the existing thresholds (take, "Maksud Anda ...?",
nothing) decide as before on a score that now says how much the message is about
the choice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

Role = Literal["chosen", "supposed", "question", "light", "foreign"]

FUZZY = 0.5
"""What a choice's word read through a typo or a short spelling is worth (an exact one: 1)."""
QUESTION = 0.5
"""What a word another choice knows is worth for the picked one: it is about the question."""
TOPIC = 1.0
"""What a foreign word weighs before the choice's words in its clause: the clause's topic."""
GOVERNOR = 0.5
"""What a foreign word weighs when it is the only one before the choice's words in its
clause: most often the verb that governs them ("mau tukar waktu", "uses a wheelchair")."""
MODIFIER = 0.5
"""What a foreign word weighs after the choice's words in its clause: it qualifies them."""
ASIDE = 0.5
"""What a foreign word weighs in a clause without the choice's words: a reason, an aside."""
ASKED = 1.5
"""How much more foreign words weigh in a question of the family's own."""
FULL = 0.5
"""The aboutness at and above which a choice's score is kept whole."""
POWER = 2.0
"""How steeply a score falls below `FULL` (a remark's score drops below the take)."""


@dataclass(frozen=True, slots=True)
class Word:
    """One meaningful word of a message and its role for the picked choice."""

    text: str
    role: Role
    fuzzy: bool = False  # a `chosen` word read through a typo or a short spelling


Clause = Sequence[Word]


def aboutness(clauses: Sequence[Clause], *, asks: bool = False) -> float:
    """The share of a message's evidence the picked choice explains, in [0, 1]; 1 when
    nothing in it speaks of anything else."""
    if len(clauses) > 1 and any(_answers(clause) for clause in clauses):
        return 1.0  # "mau bikin janji, kantor buka jam berapa?": an answer, and a question
    explained = 0.0
    foreign = 0.0
    for clause in clauses:
        first = next((n for n, w in enumerate(clause) if w.role == "chosen"), None)
        before = sum(w.role == "foreign" for w in clause[:first]) if first is not None else 0
        for n, word in enumerate(clause):
            if word.role == "chosen":
                explained += FUZZY if word.fuzzy else 1.0
            elif word.role == "question":
                explained += QUESTION
            elif word.role == "foreign":
                if first is None:
                    where = ASIDE
                elif asks:
                    where = TOPIC  # a question asks about what it names beside the choice
                elif n > first:
                    where = MODIFIER
                else:
                    # one word before the choice's most often governs them ("mau tukar
                    # waktu", "uses a wheelchair"); several are a topic of their own
                    where = GOVERNOR if before == 1 else TOPIC
                foreign += where * (ASKED if asks else 1.0)
    if not explained and any(w.role == "supposed" for c in clauses for w in c):
        return 0.0  # the choice is only supposed ("kalau konselor ke rumah, bayar gak?")
    if not foreign:
        return 1.0
    return explained / (explained + foreign)


def _answers(clause: Clause) -> bool:
    """True when a clause is an answer on its own: the choice's words, and nothing
    foreign beside them."""
    return any(w.role == "chosen" for w in clause) and all(w.role != "foreign" for w in clause)


def answers_first(clauses: Sequence[Clause]) -> bool:
    """True when the message's first clause (with meaningful words) is the choice's words
    alone, beside words that name no topic: "hapus sa beta pung data samua" in "...,
    beta takut paitua lia". The answer comes first and the reason after it."""
    return _alone(next((c for c in clauses if c), ()))


def answers_anywhere(clauses: Sequence[Clause]) -> bool:
    """True when some clause is the choice's words alone ("mau curhat" in "darurat, mau
    curhat"): a second answer, not a reason."""
    return any(_alone(clause) for clause in clauses)


def _alone(clause: Clause) -> bool:
    return any(w.role == "chosen" for w in clause) and all(
        w.role in ("chosen", "light") for w in clause
    )


def factor(about: float) -> float:
    """How much of a choice's score a message of this aboutness keeps."""
    if about >= FULL:
        return 1.0
    return float((about / FULL) ** POWER)
