"""The kind of danger an urgent case is about, from the crisis check's reasons (rule ids).

A counsellor choosing among several emergencies needs to know which is a
suicide and which a child in danger before opening any of them. The kinds are
codes (`suicide`, `violence_now`, ...) derived from the rule ids that matched,
stored plain on the case like its category, and shown by name
(`crisis_<code>` in the console's texts): never any of the family's words.
"""

from __future__ import annotations

from bot.safety import Assessment, Level

__all__ = ["KINDS", "UNCLEAR", "crisis_kinds"]

UNCLEAR = "unclear"
"""Urgent by the learned layer alone: no rule says which danger; the transcript does."""

_BY_PREFIX: tuple[tuple[str, str], ...] = (
    ("suicide.", "suicide"),
    ("passive_death_wish", "suicide"),
    ("farewell.", "suicide"),
    ("self_harm.", "self_harm"),
    ("violence.past", ""),
    ("violence.mention", ""),
    ("violence.", "violence_now"),
    ("child.", "child_danger"),
    ("sexual.", "sexual_violence"),
    ("trafficking", "trafficking"),
    ("confinement", "confinement"),
)
KINDS = (
    "suicide",
    "self_harm",
    "violence_now",
    "child_danger",
    "sexual_violence",
    "trafficking",
    "confinement",
    UNCLEAR,
)


def _kind(reason: str) -> str:
    for prefix, kind in _BY_PREFIX:
        if reason.startswith(prefix):
            return kind
    return ""


def crisis_kinds(assessment: Assessment) -> str:
    """The kinds of an urgent assessment, comma-separated in the order found; "" otherwise."""
    if assessment.level is not Level.URGENT:
        return ""
    kinds: list[str] = []
    for reason in assessment.reasons:
        kind = _kind(reason)
        if kind and kind not in kinds:
            kinds.append(kind)
    return ",".join(kinds) if kinds else UNCLEAR
