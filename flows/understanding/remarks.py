"""When a message that names a choice's word is a remark, not an answer (pure).

Why a rule of its own: families step away mid-conversation and say so ("bentar ya,
anak gue nangis", "bos gue nelpon, bentar", "tunggu dulu"). The reason they give
may hold a choice's word (`nelpon` is "Telepon", `anak` a child), but a message that
is a pause and a remark answers nothing: it is read as nothing, and the question
stays on screen for when they are back. A pause said with an answer that the choice
explains whole ("bentar, telepon aja") is still that answer, and a pause word a
choice knows itself (the crisis flow's "Saya tunggu") is that choice's word.
"""

from __future__ import annotations

from dataclasses import dataclass

from flows.understanding.reading import NEGATORS

PAUSES = frozenset({"sebentar", "tunggu", "wait", "hold"})
"""Words that put the conversation on hold, after the word table (`bentar`, `bntr`
are `sebentar`); "hold on" is `hold` (`on` is a stop word)."""
DEFERRALS = frozenset({"nanti", "later"})
"""Words that put off what the message speaks of ("nanti aja ya bacanya", "nanti beta
sambung"): a pause, unless a negation says what will not happen later ("tapi nanti
gak disebar kan?" is about the data, not a pause)."""
HOLDS = frozenset({"sabar"})
"""Words that ask the bot to bear with them ("sabar e, anak menangis"): a pause, unless
negated ("sudah tidak sabar dengan suami" speaks of something else)."""
PAUSE_TAILS = frozenset({"dulu", "bentar", "sebentar", "please"})
"""Words said right after a pause word that belong to it ("tunggu dulu", "tunggu
sebentar"), not to any answer."""


@dataclass(frozen=True, slots=True)
class Said:
    """What a message says, as far as one picked choice is concerned."""

    words: tuple[str, ...]  # the message's meaningful words (standard forms), in order
    chosen: frozenset[str]  # those the picked choice knows
    known: frozenset[str]  # those any choice of the question knows
    whole: bool  # a phrase of the choice of two words or more is said whole


def pause_words(said: Said) -> tuple[str, ...]:
    """The words of a pause ("tunggu dulu"): pause words no choice of the question
    knows, with the words that belong to them."""
    out: list[str] = []
    previous = ""
    pauses = PAUSES if not NEGATORS.isdisjoint(said.words) else PAUSES | DEFERRALS | HOLDS
    for word in said.words:
        if (word in pauses and word not in said.known) or (previous and word in PAUSE_TAILS):
            out.append(word)
            previous = word
        else:
            previous = ""
    return tuple(out)


def paused_remark(said: Said) -> bool:
    """True when the message is a pause and a remark: it holds a pause, and the picked
    choice neither has a phrase of several words said whole nor explains every other
    meaningful word ("bos gue nelpon, bentar" is a remark; "bentar, telepon aja" is
    "Telepon"). A pause alone ("tunggu dulu") picks nothing either."""
    pause = pause_words(said)
    if not pause:
        return False
    rest = [w for w in said.words if w not in pause]
    if said.whole and rest:
        return False
    return not rest or not set(rest) <= said.chosen
