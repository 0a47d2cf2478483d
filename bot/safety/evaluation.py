"""How well the crisis check does on a labelled set: the figures the targets are set on.

The targets (``docs/safety.md``) are about harm: an urgent message read as ``none`` is the
worst outcome, an ordinary message raised to ``urgent`` costs a counsellor's time, and one
raised to ``check`` costs the family one gentle question. So the figures are the confusion
table, and the same counts per category and per writing style, since a detector that is
good on standard Indonesian and poor on Ambonese Malay fails the people we serve most.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from bot.safety.classifier import Classifier
from bot.safety.corpus import Example
from bot.safety.levels import Level

LEVELS = (Level.URGENT, Level.CHECK, Level.NONE)


@dataclass(frozen=True, slots=True)
class Miss:
    """An example the classifier got wrong."""

    example: Example
    got: Level
    reasons: tuple[str, ...]

    @property
    def harm(self) -> int:
        """How bad the miss is: urgent read as none first, ordinary read as urgent next."""
        gap = self.example.level.rank - self.got.rank
        return gap * 3 if gap > 0 else -gap


@dataclass(frozen=True, slots=True)
class Figures:
    """Counts per label and outcome, and the rates the project's targets are set on."""

    table: dict[tuple[Level, Level], int]
    misses: tuple[Miss, ...]
    seconds: float = 0.0

    def count(self, label: Level, got: Level | None = None) -> int:
        """How many messages had this label (and, if given, this outcome)."""
        if got is not None:
            return self.table.get((label, got), 0)
        return sum(self.table.get((label, outcome), 0) for outcome in LEVELS)

    @property
    def total(self) -> int:
        return sum(self.table.values())

    @property
    def urgent(self) -> int:
        return self.count(Level.URGENT)

    @property
    def urgent_as_urgent(self) -> int:
        return self.count(Level.URGENT, Level.URGENT)

    @property
    def urgent_as_none(self) -> int:
        return self.count(Level.URGENT, Level.NONE)

    @property
    def check(self) -> int:
        return self.count(Level.CHECK)

    @property
    def check_flagged(self) -> int:
        return self.check - self.count(Level.CHECK, Level.NONE)

    @property
    def none(self) -> int:
        return self.count(Level.NONE)

    @property
    def none_as_urgent(self) -> int:
        return self.count(Level.NONE, Level.URGENT)

    @property
    def none_as_check(self) -> int:
        return self.count(Level.NONE, Level.CHECK)

    @property
    def urgent_recall(self) -> float:
        """Share of urgent messages flagged urgent."""
        return _ratio(self.urgent_as_urgent, self.urgent)

    @property
    def urgent_none_rate(self) -> float:
        """Share of urgent messages read as none: the worst failure."""
        return _ratio(self.urgent_as_none, self.urgent, empty=0.0)

    @property
    def check_recall(self) -> float:
        """Share of check messages flagged check or urgent."""
        return _ratio(self.check_flagged, self.check)

    @property
    def false_alarm_rate(self) -> float:
        """Share of ordinary messages flagged urgent."""
        return _ratio(self.none_as_urgent, self.none, empty=0.0)

    @property
    def none_check_rate(self) -> float:
        """Share of ordinary messages flagged check."""
        return _ratio(self.none_as_check, self.none, empty=0.0)

    @property
    def micros_per_message(self) -> float:
        return self.seconds / self.total * 1e6 if self.total else 0.0

    def summary(self, name: str) -> str:
        """One line a person can read in a test log or a terminal."""
        return (
            f"{name}: {self.total} messages | "
            f"urgent recall {self.urgent_recall:.3f} ({self.urgent_as_urgent}/{self.urgent}), "
            f"urgent->none {self.urgent_as_none} | "
            f"check caught {self.check_recall:.3f} ({self.check_flagged}/{self.check}) | "
            f"none->urgent {self.false_alarm_rate:.3f} ({self.none_as_urgent}/{self.none}), "
            f"none->check {self.none_check_rate:.3f} ({self.none_as_check})"
        )


def _ratio(part: int, whole: int, empty: float = 1.0) -> float:
    return part / whole if whole else empty


def evaluate(
    classifier: Classifier,
    examples: Iterable[Example],
    clock: Callable[[], float] = time.perf_counter,
) -> Figures:
    """Classifies every example and counts the outcomes against the labels."""
    table: dict[tuple[Level, Level], int] = {}
    misses: list[Miss] = []
    spent = 0.0
    for example in examples:
        began = clock()
        result = classifier.classify(example.text)
        spent += clock() - began
        key = (example.level, result.level)
        table[key] = table.get(key, 0) + 1
        if result.level is not example.level:
            misses.append(Miss(example, result.level, result.reasons))
    misses.sort(key=lambda miss: -miss.harm)
    return Figures(table, tuple(misses), spent)


def breakdown(
    classifier: Classifier, examples: Iterable[Example], key: Callable[[Example], str]
) -> dict[str, Figures]:
    """The figures per group (``lambda e: e.style`` or ``lambda e: e.category``)."""
    groups: dict[str, list[Example]] = {}
    for example in examples:
        groups.setdefault(key(example), []).append(example)
    return {name: evaluate(classifier, groups[name]) for name in sorted(groups)}


def confusion_lines(figures: Figures) -> list[str]:
    """The confusion table as aligned text lines (labels down, outcomes across)."""
    lines = ["label \\ got   urgent   check    none   total"]
    for label in LEVELS:
        cells = "".join(f"{figures.count(label, got):>8}" for got in LEVELS)
        lines.append(f"{label.value:<12}{cells}{figures.count(label):>8}")
    return lines


def group_lines(groups: dict[str, Figures], title: str) -> list[str]:
    """One line per group: its size and the rates the targets are set on."""
    lines = [
        f"{title:<20}{'n':>5}{'urg->urg':>10}{'urg->none':>10}{'chk caught':>11}"
        f"{'none->urg':>10}{'none->chk':>10}"
    ]
    for name, figures in groups.items():
        lines.append(
            f"{name:<20}{figures.total:>5}"
            f"{_cell(figures.urgent_as_urgent, figures.urgent):>10}"
            f"{_cell(figures.urgent_as_none, figures.urgent):>10}"
            f"{_cell(figures.check_flagged, figures.check):>11}"
            f"{_cell(figures.none_as_urgent, figures.none):>10}"
            f"{_cell(figures.none_as_check, figures.none):>10}"
        )
    return lines


def _cell(part: int, whole: int) -> str:
    return f"{100 * part / whole:.0f}%/{whole}" if whole else "-"
