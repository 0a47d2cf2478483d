"""The lexicon: spelling maps, named word lists and neutralisers, loaded from ``lexicon.toml``.

- ``replace`` maps slang, Ambonese Malay and abbreviations to standard words
  (``gw`` -> ``saya``, ``bundir`` -> ``bunuh diri``, ``seng`` -> ``tidak``).
- ``passive_markers`` are words that make the next word passive (Ambonese ``dapa pukul``
  and colloquial ``kena pukul`` read as ``dipukul``).
- ``lists`` are the named word lists that rules refer to as ``@name``.
- ``neutralise`` entries switch off a word in a harmless context (``pukul 10`` is a time,
  ``mati lampu`` a power cut) so that no rule can match it there.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.safety.datafile import check_keys, check_spec_version, fail, parse_toml, string_list
from bot.safety.words import Token, Word, WordSet, build_word_set, is_list_name, parse_phrase

Phrase = tuple[Word, ...]

_PLAIN = re.compile(r"[a-z]+")
_MAX_WINDOW = 12
_ENTRY_HELP = (
    "words of lowercase letters, '=' before a word for its exact spelling, "
    "spaces between the words of a phrase, '@name' for another list"
)


@dataclass(frozen=True, slots=True)
class Neutraliser:
    """Switches off ``words`` where they are preceded or followed by a harmless context."""

    id: str
    words: WordSet
    preceded_by: WordSet | None
    before: int
    followed_by: WordSet | None
    after: int

    def span(self, tokens: Sequence[Token], start: int) -> int | None:
        """Returns the end of the neutralised words starting at ``start``, if any."""
        for end in self.words.ends(tokens, start):
            if self._context_at(tokens, start, end):
                return end
        return None

    def _context_at(self, tokens: Sequence[Token], start: int, end: int) -> bool:
        if self.followed_by is not None:
            for at in range(end, min(end + self.after, len(tokens))):
                if self.followed_by.ends(tokens, at):
                    return True
        if self.preceded_by is not None:
            for at in range(max(0, start - self.before), start):
                if any(stop <= start for stop in self.preceded_by.ends(tokens, at)):
                    return True
        return False


@dataclass(frozen=True, slots=True)
class Lexicon:
    """Everything the analyser and the rules need to know about words."""

    replace: Mapping[str, tuple[str, ...]]
    passive_markers: frozenset[str]
    lists: Mapping[str, tuple[Phrase, ...]]
    compiled: Mapping[str, WordSet]
    neutralisers: tuple[Neutraliser, ...]
    vocabulary: frozenset[str]

    @property
    def longest_word(self) -> int:
        """Length of the longest known word (bounds run-together word splitting)."""
        return max(map(len, self.vocabulary), default=0)

    def words_of(self, names: Sequence[str]) -> frozenset[str]:
        """Every plain word of the named lists (unknown names are skipped)."""
        return frozenset(
            word.text
            for name in names
            for phrase in self.lists.get(name, ())
            for word in phrase
        )

    def word_set(self, entries: Sequence[str], separator: str, source: str, path: str) -> WordSet:
        """Compiles entries (words, phrases, ``@list`` references) against these lists."""
        return build_word_set(_resolve(entries, separator, self.lists, source, path))


def load_lexicon(text: str, source: str = "lexicon.toml") -> Lexicon:
    """Parses and validates lexicon TOML; raises SafetyDataError naming file and path."""
    data = parse_toml(text, source)
    check_keys(
        data, {"spec_version", "replace", "passive_markers", "lists", "neutralise"}, source, ""
    )
    check_spec_version(data, source)
    replace = _load_replace(data.get("replace", {}), source)
    markers = string_list(data.get("passive_markers", []), source, "passive_markers")
    for index, marker in enumerate(markers):
        if not _PLAIN.fullmatch(marker):
            raise fail(source, f"passive_markers[{index}]", f"'{marker}' must be one plain word")
    lists = _load_lists(data.get("lists"), source)
    vocabulary: set[str] = set(replace) | set(markers)
    for words in replace.values():
        vocabulary.update(words)
    for phrases in lists.values():
        vocabulary.update(word.text for phrase in phrases for word in phrase)
    neutralisers = _load_neutralisers(data.get("neutralise", []), lists, source)
    vocabulary.difference_update(("#num", "#big"))
    compiled = {name: build_word_set(phrases) for name, phrases in lists.items()}
    return Lexicon(
        replace, frozenset(markers), lists, compiled, neutralisers, frozenset(vocabulary)
    )


def _load_replace(value: object, source: str) -> dict[str, tuple[str, ...]]:
    if not isinstance(value, dict):
        raise fail(source, "replace", 'must be a table of word = "replacement words"')
    out: dict[str, tuple[str, ...]] = {}
    for key, target in value.items():
        if not _PLAIN.fullmatch(key):
            raise fail(source, f"replace -> '{key}'", "the key must be one plain lowercase word")
        if not isinstance(target, str) or not all(
            _PLAIN.fullmatch(word) for word in target.split(" ")
        ):
            raise fail(
                source,
                f"replace -> '{key}'",
                "the replacement must be lowercase words separated by single spaces",
            )
        out[key] = tuple(target.split(" "))
    return out


def _load_lists(value: object, source: str) -> dict[str, tuple[Phrase, ...]]:
    if not isinstance(value, dict) or not value:
        raise fail(source, "lists", "must be a non-empty table of name = [entries]")
    raw: dict[str, list[str]] = {}
    for name, entries in value.items():
        if not is_list_name(name):
            raise fail(
                source,
                f"lists -> '{name}'",
                "a list name is lowercase letters, digits and '_', starting with a letter",
            )
        raw[name] = string_list(entries, source, f"lists -> '{name}'")
    resolved: dict[str, tuple[Phrase, ...]] = {}
    for name in raw:
        _resolve_list(name, raw, resolved, (), source)
    return resolved


def _resolve_list(
    name: str,
    raw: Mapping[str, list[str]],
    resolved: dict[str, tuple[Phrase, ...]],
    stack: tuple[str, ...],
    source: str,
) -> tuple[Phrase, ...]:
    """Flattens a list and the lists it includes, refusing cycles."""
    if name in resolved:
        return resolved[name]
    phrases: list[Phrase] = []
    for index, entry in enumerate(raw[name]):
        path = f"lists -> '{name}'[{index}]"
        if entry.startswith("@"):
            ref = entry[1:]
            if ref not in raw:
                raise fail(source, path, f"unknown word list '{ref}'")
            if ref == name or ref in stack:
                raise fail(source, path, f"list '{ref}' includes itself")
            phrases.extend(_resolve_list(ref, raw, resolved, (*stack, name), source))
            continue
        phrase = parse_phrase(entry, " ")
        if phrase is None:
            raise fail(source, path, f"'{entry}' is not a valid entry ({_ENTRY_HELP})")
        phrases.append(phrase)
    resolved[name] = tuple(phrases)
    return resolved[name]


def _resolve(
    entries: Sequence[str],
    separator: str,
    lists: Mapping[str, tuple[Phrase, ...]],
    source: str,
    path: str,
) -> list[Phrase]:
    """Turns entries that may reference already loaded lists into phrases."""
    phrases: list[Phrase] = []
    for entry in entries:
        if entry.startswith("@"):
            if entry[1:] not in lists:
                raise fail(source, path, f"unknown word list '{entry[1:]}'")
            phrases.extend(lists[entry[1:]])
            continue
        phrase = parse_phrase(entry, separator)
        if phrase is None:
            raise fail(source, path, f"'{entry}' is not a valid entry ({_ENTRY_HELP})")
        phrases.append(phrase)
    return phrases


def _load_neutralisers(
    value: object, lists: Mapping[str, tuple[Phrase, ...]], source: str
) -> tuple[Neutraliser, ...]:
    if not isinstance(value, list):
        raise fail(source, "neutralise", "must be an array of tables ([[neutralise]])")
    out: list[Neutraliser] = []
    seen: set[str] = set()
    for index, table in enumerate(value):
        where = f"neutralise[{index}]"
        if not isinstance(table, dict):
            raise fail(source, where, "must be a table")
        ident = table.get("id")
        if not isinstance(ident, str) or not ident:
            raise fail(source, where, "needs an 'id' string")
        where = f"neutralise '{ident}'"
        if ident in seen:
            raise fail(source, where, "the id is used twice")
        seen.add(ident)
        check_keys(
            table, {"id", "words", "preceded_by", "before", "followed_by", "after"}, source, where
        )
        if "words" not in table:
            raise fail(source, where, "needs 'words'")
        words = _word_set(table["words"], lists, source, f"{where} -> words")
        preceded = followed = None
        if "preceded_by" in table:
            preceded = _word_set(table["preceded_by"], lists, source, f"{where} -> preceded_by")
        if "followed_by" in table:
            followed = _word_set(table["followed_by"], lists, source, f"{where} -> followed_by")
        if preceded is None and followed is None:
            raise fail(source, where, "needs 'preceded_by' or 'followed_by'")
        before = _window(table, "before", source, where)
        after = _window(table, "after", source, where)
        out.append(Neutraliser(ident, words, preceded, before, followed, after))
    return tuple(out)


def _word_set(
    value: object, lists: Mapping[str, tuple[Phrase, ...]], source: str, path: str
) -> WordSet:
    entries = string_list(value, source, path)
    for index, entry in enumerate(entries):
        _resolve([entry], " ", lists, source, f"{path}[{index}]")
    return build_word_set(_resolve(entries, " ", lists, source, path))


def _window(table: dict[str, Any], key: str, source: str, where: str) -> int:
    value = table.get(key, 1)
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= _MAX_WINDOW:
        raise fail(source, f"{where} -> {key}", f"must be a whole number from 1 to {_MAX_WINDOW}")
    return value
