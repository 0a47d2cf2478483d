"""Words, phrases and word sets: the vocabulary that rules and neutralisers are written in.

An entry in a list is one word (``mati``), an exact word (``=pukul``: matches that spelling
only, never another word that merely shares its stem), a phrase of such words separated by
spaces (``bunuh diri``, ``tidak kasih makan``) or a reference to another list
(``@self``). Inline alternatives in a rule pattern use ``|`` between entries and ``+``
between the words of a phrase (``bunuh+diri|@suicide``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from bot.safety.normalise import BIG_NUMBER, NUMBER

_WORD = re.compile(r"=?(?:[a-z]+|#num|#big)")
_LIST_NAME = re.compile(r"[a-z][a-z0-9_]*")


@dataclass(frozen=True, slots=True)
class Token:
    """One analysed word: every spelling it may stand for and every stem of those spellings."""

    spellings: frozenset[str]
    stems: frozenset[str]

    def has(self, word: str, exact: bool) -> bool:
        """Tells whether this token can be read as ``word``."""
        return word in self.spellings or (not exact and word in self.stems)


BLANK = Token(frozenset(), frozenset())


@dataclass(frozen=True, slots=True)
class Word:
    """One word of an entry; ``exact`` refuses a match on the stem alone."""

    text: str
    exact: bool


@dataclass(frozen=True, slots=True)
class WordSet:
    """A compiled set of entries, matched at a position of a token sequence."""

    loose: frozenset[str]
    exact: frozenset[str]
    phrases: tuple[tuple[Word, ...], ...]
    firsts: frozenset[str]
    by_first: Mapping[str, tuple[tuple[int, tuple[Word, ...]], ...]] = field(default_factory=dict)
    """Phrases indexed by their first word, so a token is tried only against its own."""

    def possible(self, forms: frozenset[str]) -> bool:
        """Cheap pre-check: can any entry start somewhere in a message with these forms?"""
        return not self.firsts.isdisjoint(forms)

    def ends(self, tokens: Sequence[Token], start: int) -> list[int]:
        """Returns every end position of an entry that starts at ``start``."""
        if start >= len(tokens):
            return []
        token = tokens[start]
        found: list[int] = []
        if (
            not token.spellings.isdisjoint(self.loose)
            or not token.stems.isdisjoint(self.loose)
            or not token.spellings.isdisjoint(self.exact)
        ):
            found.append(start + 1)
        if not self.by_first:
            return found
        candidates: set[tuple[int, tuple[Word, ...]]] = set()
        for form in token.spellings | token.stems:
            candidates.update(self.by_first.get(form, ()))
        # In the order the phrases were written, as before the index existed.
        for _, phrase in sorted(candidates, key=lambda item: item[0]):
            end = start + len(phrase)
            if end <= len(tokens) and all(
                tokens[start + k].has(word.text, word.exact) for k, word in enumerate(phrase)
            ):
                found.append(end)
        return found

    def words(self) -> set[str]:
        """Every plain word this set mentions, for the analyser's vocabulary."""
        out = set(self.loose) | set(self.exact)
        for phrase in self.phrases:
            out.update(word.text for word in phrase)
        out.difference_update((NUMBER, BIG_NUMBER))
        return out


def build_word_set(phrases: Sequence[tuple[Word, ...]]) -> WordSet:
    """Compiles parsed entries into a set with fast single-word lookups."""
    loose: set[str] = set()
    exact: set[str] = set()
    longer: list[tuple[Word, ...]] = []
    for phrase in phrases:
        if len(phrase) == 1:
            (exact if phrase[0].exact else loose).add(phrase[0].text)
        elif phrase not in longer:
            longer.append(phrase)
    firsts = loose | exact | {phrase[0].text for phrase in longer}
    by_first: dict[str, list[tuple[int, tuple[Word, ...]]]] = {}
    for index, phrase in enumerate(longer):
        by_first.setdefault(phrase[0].text, []).append((index, phrase))
    return WordSet(
        frozenset(loose),
        frozenset(exact),
        tuple(longer),
        frozenset(firsts),
        {first: tuple(group) for first, group in by_first.items()},
    )


def forms_of(tokens: Sequence[Token]) -> frozenset[str]:
    """Every spelling and stem in a message, for the cheap pre-checks."""
    out: set[str] = set()
    for token in tokens:
        out.update(token.spellings)
        out.update(token.stems)
    return frozenset(out)


def parse_phrase(text: str, separator: str) -> tuple[Word, ...] | None:
    """Parses one entry that is not a list reference; None when it is malformed."""
    parts = text.split(separator)
    if not all(_WORD.fullmatch(part) for part in parts):
        return None
    return tuple(Word(part.lstrip("="), part.startswith("=")) for part in parts)


def is_list_name(name: str) -> bool:
    """Tells whether ``name`` is a valid word-list name."""
    return _LIST_NAME.fullmatch(name) is not None
