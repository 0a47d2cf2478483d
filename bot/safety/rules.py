"""Crisis rules, loaded from ``rules.toml``: what to look for, how serious it is, and when not.

A rule has an ``id`` (the reason code reported and logged), a ``level`` (``urgent`` or
``check``), ``patterns`` and optional ``unless`` blocks. A pattern is a line of elements
separated by spaces: ``@list`` (a word list of the lexicon), inline alternatives
``mau|ingin|bunuh+diri`` and gaps ``_3`` (up to three other words may stand there); two
elements without a gap must be adjacent. An ``unless`` block cancels a match that one of its
patterns overlaps (negation, the past), except when a ``but_not_if`` pattern occurs anywhere
in the message; with ``demote_to`` the cancelled match counts as that other, milder rule
instead, so that ``saya tidak mau bunuh diri`` is still asked about rather than ignored.
With ``anywhere = true`` an ``unless`` pattern cancels the match wherever it occurs in the
message (``kebun`` beside ``bawa parang``), not only where it overlaps it.

A ``[[frame]]`` lowers the matches in a message that talks about a topic rather than a
person in danger (a leaflet, a training, the news), unless a ``but_not_if`` pattern shows
a crisis now; ``lowers_to`` is ``none`` or ``check``. Each rule says how far a frame may
lower it (``framed``): ``none`` (bare violence words), ``check`` (the default: at worst
the family is asked one gentle question), ``reported`` (a weapon held: only a frame marked
``reported = true`` lowers it, and only to ``check``) or ``never`` (a first person hurt,
preparations, farewells: no framing hides them). A ``reported`` frame holds for a story
told in the third person about another place or time (the news, a film, a trial,
history) with no first or second person in danger and no *now* or *here*; with
``model_at_most = "check"`` the learned layer may raise such a message to one gentle
question, never to urgent. When several frames hold, each rule takes the lowest level
any of them allows.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.safety.datafile import check_keys, check_spec_version, fail, parse_toml, string_list
from bot.safety.levels import Level
from bot.safety.lexicon import Lexicon
from bot.safety.words import Token, WordSet

_RULE_ID = re.compile(r"[a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)*")
_GAP = re.compile(r"_(\d+)")
_MAX_GAP = 12


@dataclass(frozen=True, slots=True)
class Step:
    """One element of a pattern; up to ``gap`` other tokens may come before it."""

    words: WordSet
    gap: int


@dataclass(frozen=True, slots=True)
class Pattern:
    """A compiled pattern; ``text`` is the line an admin wrote, for error messages."""

    text: str
    steps: tuple[Step, ...]

    def possible(self, forms: frozenset[str]) -> bool:
        """Cheap pre-check: does every element have a candidate word in the message?"""
        return all(step.words.possible(forms) for step in self.steps)

    def spans(self, tokens: Sequence[Token]) -> Iterator[tuple[int, int]]:
        """Yields (start, end) of the first match from each start position."""
        for start in range(len(tokens)):
            for end in self._ends(tokens, 0, start):
                yield start, end
                break

    def found_in(self, tokens: Sequence[Token]) -> bool:
        """Tells whether the pattern occurs anywhere in the tokens."""
        return next(self.spans(tokens), None) is not None

    def _ends(self, tokens: Sequence[Token], index: int, position: int) -> Iterator[int]:
        if index == len(self.steps):
            yield position
            return
        step = self.steps[index]
        for at in range(position, min(position + step.gap + 1, len(tokens))):
            for end in step.words.ends(tokens, at):
                yield from self._ends(tokens, index + 1, end)


@dataclass(frozen=True, slots=True)
class Unless:
    """Cancels a match that one of ``patterns`` overlaps, unless ``but_not_if`` is present."""

    patterns: tuple[Pattern, ...]
    but_not_if: tuple[Pattern, ...]
    demote_to: str | None
    anywhere: bool = False

    def blocking_spans(
        self, tokens: Sequence[Token], forms: frozenset[str]
    ) -> tuple[tuple[int, int], ...]:
        """The spans this block cancels in one message (none when `but_not_if` is present).

        Worked out once per message and rule, so that checking many candidate
        matches stays linear in the message length. With ``anywhere`` one occurrence
        blocks the whole message.
        """
        if any(p.possible(forms) and p.found_in(tokens) for p in self.but_not_if):
            return ()
        if self.anywhere:
            found = any(p.possible(forms) and p.found_in(tokens) for p in self.patterns)
            return ((0, len(tokens)),) if found else ()
        return tuple(
            span
            for pattern in self.patterns
            if pattern.possible(forms)
            for span in pattern.spans(tokens)
        )


def _overlaps(span: tuple[int, int], others: tuple[tuple[int, int], ...]) -> bool:
    start, end = span
    return any(other_start < end and start < other_end for other_start, other_end in others)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one rule made of a message: matched, and the milder rules it was demoted to."""

    matched: bool
    demoted_to: tuple[str, ...]


_UNMATCHED = Outcome(False, ())


@dataclass(frozen=True, slots=True)
class Rule:
    """One crisis rule; its id is the reason code, never anything the person wrote."""

    id: str
    level: Level
    patterns: tuple[Pattern, ...]
    unless: tuple[Unless, ...]
    framed_floor: Level = Level.CHECK
    """How far a frame may lower this rule's match: ``none``, ``check``, or its own level."""
    reported_only: bool = False
    """Only a ``reported`` frame (a third-person story elsewhere or long ago) lowers it."""
    anchors: frozenset[str] | None = field(default=None, init=False, repr=False, compare=False)
    """Every pattern's most selective first words together: a message with none of them
    cannot match any pattern, so the rule is passed over with one set test (most
    messages match no rule; this was most of the crisis check's time)."""

    def __post_init__(self) -> None:
        if self.patterns and all(pattern.steps for pattern in self.patterns):
            chosen = (min(p.steps, key=lambda step: len(step.words.firsts)) for p in self.patterns)
            object.__setattr__(
                self, "anchors", frozenset().union(*(s.words.firsts for s in chosen))
            )

    def lowered_by(self, frame: Frame) -> Level:
        """This rule's level in a message a frame holds for."""
        if self.reported_only and not frame.reported:
            return self.level
        target = max(frame.lowers_to, self.framed_floor, key=lambda level: level.rank)
        return min(self.level, target, key=lambda level: level.rank)

    def evaluate(self, tokens: Sequence[Token], forms: frozenset[str]) -> Outcome:
        """Finds the first match no ``unless`` cancels, noting demotions on the way.

        ``forms`` holds every spelling and stem of the message (see ``forms_of``): patterns
        that cannot match are skipped without walking the tokens.
        """
        if self.anchors is not None and self.anchors.isdisjoint(forms):
            return _UNMATCHED  # no pattern is `possible`: the loop below would find nothing
        demoted: list[str] = []
        blocks: dict[int, tuple[tuple[int, int], ...]] = {}

        def cancels(index: int, span: tuple[int, int]) -> bool:
            if index not in blocks:
                blocks[index] = self.unless[index].blocking_spans(tokens, forms)
            return _overlaps(span, blocks[index])

        for pattern in self.patterns:
            if not pattern.possible(forms):
                continue
            for span in pattern.spans(tokens):
                blocker = next((u for i, u in enumerate(self.unless) if cancels(i, span)), None)
                if blocker is None:
                    return Outcome(True, tuple(demoted))
                if blocker.demote_to is not None and blocker.demote_to not in demoted:
                    demoted.append(blocker.demote_to)
        return Outcome(False, tuple(demoted))


@dataclass(frozen=True, slots=True)
class Frame:
    """Lowers every match in a message about a topic, unless a crisis now shows through."""

    id: str
    patterns: tuple[Pattern, ...]
    but_not_if: tuple[Pattern, ...]
    lowers_to: Level
    reported: bool = False
    """A third-person story elsewhere or long ago: it also lowers ``framed = "reported"`` rules."""
    model_at_most: Level = Level.URGENT
    """The highest level the learned layer may raise a message this frame holds for to."""

    def applies(self, tokens: Sequence[Token], forms: frozenset[str]) -> bool:
        """Tells whether this frame holds for one message."""
        if not any(p.possible(forms) and p.found_in(tokens) for p in self.patterns):
            return False
        return not any(p.possible(forms) and p.found_in(tokens) for p in self.but_not_if)


@dataclass(frozen=True, slots=True)
class RuleSet:
    """The rules, most serious first as written, and the frames that may lower them."""

    rules: tuple[Rule, ...]
    frames: tuple[Frame, ...]


def load_rule_set(text: str, lexicon: Lexicon, source: str = "rules.toml") -> RuleSet:
    """Parses rules and frames; errors name the rule or frame and the path inside it."""
    data = parse_toml(text, source)
    rules = load_rules(text, lexicon, source, data)
    tables = data.get("frame", [])
    if not isinstance(tables, list):
        raise fail(source, "frame", "must be an array of tables ([[frame]])")
    frames: list[Frame] = []
    for index, table in enumerate(tables):
        if not isinstance(table, dict) or not isinstance(table.get("id"), str):
            raise fail(source, f"frame[{index}]", "must be a table with an 'id'")
        where = f"frame '{table['id']}'"
        check_keys(
            table,
            {"id", "patterns", "but_not_if", "lowers_to", "reported", "model_at_most"},
            source,
            where,
        )
        patterns = _patterns(table.get("patterns"), lexicon, source, f"{where} -> patterns")
        if not patterns:
            raise fail(source, f"{where} -> patterns", "needs at least one pattern")
        keep = _patterns(table.get("but_not_if", []), lexicon, source, f"{where} -> but_not_if")
        lowers = table.get("lowers_to")
        if lowers not in (Level.NONE.value, Level.CHECK.value):
            raise fail(
                source, f"{where} -> lowers_to", f"must be 'none' or 'check', found {lowers!r}"
            )
        reported = table.get("reported", False)
        if not isinstance(reported, bool):
            raise fail(source, f"{where} -> reported", "must be true or false")
        ceiling = table.get("model_at_most", Level.URGENT.value)
        if ceiling not in (Level.CHECK.value, Level.URGENT.value):
            raise fail(
                source,
                f"{where} -> model_at_most",
                f"must be 'check' or 'urgent', found {ceiling!r}",
            )
        frames.append(Frame(table["id"], patterns, keep, Level(lowers), reported, Level(ceiling)))
    return RuleSet(rules, tuple(frames))


def load_rules(
    text: str, lexicon: Lexicon, source: str = "rules.toml", parsed: dict[str, Any] | None = None
) -> tuple[Rule, ...]:
    """Parses and validates rules TOML against a lexicon; errors name the rule and path."""
    data = parsed if parsed is not None else parse_toml(text, source)
    check_keys(data, {"spec_version", "rule", "frame"}, source, "")
    check_spec_version(data, source)
    tables = data.get("rule")
    if not isinstance(tables, list) or not tables:
        raise fail(source, "rule", "needs at least one [[rule]] table")
    rules: list[Rule] = []
    demotions: list[tuple[str, str, str]] = []
    for index, table in enumerate(tables):
        rule = _load_rule(table, index, lexicon, source, demotions)
        if any(existing.id == rule.id for existing in rules):
            raise fail(source, f"rule '{rule.id}'", "the id is used twice")
        rules.append(rule)
    levels = {rule.id: rule.level for rule in rules}
    for rule_id, path, target in demotions:
        if target not in levels:
            raise fail(source, path, f"unknown rule '{target}'")
        if target == rule_id:
            raise fail(source, path, "a rule cannot be demoted to itself")
        if levels[target].rank > levels[rule_id].rank:
            raise fail(source, path, f"rule '{target}' is more serious than '{rule_id}'")
    return tuple(rules)


def _load_rule(
    table: object,
    index: int,
    lexicon: Lexicon,
    source: str,
    demotions: list[tuple[str, str, str]],
) -> Rule:
    if not isinstance(table, dict):
        raise fail(source, f"rule[{index}]", "must be a table")
    ident = table.get("id")
    if not isinstance(ident, str) or not _RULE_ID.fullmatch(ident):
        raise fail(
            source,
            f"rule[{index}]",
            "needs an 'id' of lowercase words joined by dots, like 'suicide.intent'",
        )
    where = f"rule '{ident}'"
    check_keys(table, {"id", "level", "note", "patterns", "unless", "framed"}, source, where)
    level = table.get("level")
    if level not in (Level.URGENT.value, Level.CHECK.value):
        raise fail(source, f"{where} -> level", f"must be 'urgent' or 'check', found {level!r}")
    if not isinstance(table.get("note", ""), str):
        raise fail(source, f"{where} -> note", "must be a string")
    patterns = _patterns(table.get("patterns"), lexicon, source, f"{where} -> patterns")
    if not patterns:
        raise fail(source, f"{where} -> patterns", "needs at least one pattern")
    blocks = table.get("unless", [])
    if not isinstance(blocks, list):
        raise fail(source, f"{where} -> unless", "must be an array of tables ([[rule.unless]])")
    unless = tuple(
        _unless(block, lexicon, source, f"{where} -> unless[{number}]", ident, demotions)
        for number, block in enumerate(blocks)
    )
    framed = table.get("framed", Level.CHECK.value)
    if framed not in ("none", "check", "reported", "never"):
        raise fail(
            source,
            f"{where} -> framed",
            f"must be 'none', 'check', 'reported' or 'never', found {framed!r}",
        )
    if framed == "never":
        floor = Level(level)
    elif framed == "reported":
        floor = Level.CHECK
    else:
        floor = Level(framed)
    return Rule(ident, Level(level), patterns, unless, floor, framed == "reported")


def _unless(
    block: object,
    lexicon: Lexicon,
    source: str,
    where: str,
    rule_id: str,
    demotions: list[tuple[str, str, str]],
) -> Unless:
    if not isinstance(block, dict):
        raise fail(source, where, "must be a table")
    check_keys(block, {"patterns", "but_not_if", "demote_to", "anywhere"}, source, where)
    anywhere = block.get("anywhere", False)
    if not isinstance(anywhere, bool):
        raise fail(source, f"{where} -> anywhere", "must be true or false")
    patterns = _patterns(block.get("patterns"), lexicon, source, f"{where} -> patterns")
    if not patterns:
        raise fail(source, f"{where} -> patterns", "needs at least one pattern")
    keep = _patterns(block.get("but_not_if", []), lexicon, source, f"{where} -> but_not_if")
    target = block.get("demote_to")
    if target is not None:
        if not isinstance(target, str):
            raise fail(source, f"{where} -> demote_to", "must be a rule id")
        demotions.append((rule_id, f"{where} -> demote_to", target))
    return Unless(patterns, keep, target, anywhere)


def _patterns(value: Any, lexicon: Lexicon, source: str, where: str) -> tuple[Pattern, ...]:
    lines = string_list(value, source, where)
    return tuple(
        compile_pattern(line, lexicon, source, f"{where}[{index}]")
        for index, line in enumerate(lines)
    )


def compile_pattern(line: str, lexicon: Lexicon, source: str, where: str) -> Pattern:
    """Compiles one pattern line such as ``@want _3 mati|bunuh+diri``."""
    steps: list[Step] = []
    gap: int | None = None
    for element in line.split():
        found = _GAP.fullmatch(element)
        if found:
            if not steps or gap is not None:
                raise fail(source, where, f"gap '{element}' must stand between two words")
            gap = int(found.group(1))
            if not 1 <= gap <= _MAX_GAP:
                raise fail(source, where, f"gap '{element}' must be from _1 to _{_MAX_GAP}")
            continue
        words = lexicon.word_set(element.split("|"), "+", source, where)
        steps.append(Step(words, gap or 0))
        gap = None
    if gap is not None:
        raise fail(source, where, "a pattern cannot end with a gap")
    if not steps:
        raise fail(source, where, "the pattern is empty")
    return Pattern(line, tuple(steps))
