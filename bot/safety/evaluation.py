"""The labelled evaluation sets and the figures that say how well the classifier does.

``eval.tsv`` is the part the rules were tuned on; ``eval_holdout.tsv`` was written at the
same time and kept out of tuning, so its figures estimate performance on unseen messages.
Lines are ``level<TAB>text``; blank lines and lines starting with ``#`` are ignored.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from importlib.resources import files

from bot.safety.classifier import Classifier
from bot.safety.datafile import fail
from bot.safety.levels import Level

TUNING_FILE = "eval.tsv"
HOLDOUT_FILE = "eval_holdout.tsv"


@dataclass(frozen=True, slots=True)
class Example:
    """One labelled message of an evaluation set."""

    level: Level
    text: str


@dataclass(frozen=True, slots=True)
class Miss:
    """An example the classifier got wrong, kept for the tuning report."""

    example: Example
    got: Level
    reasons: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Figures:
    """Counts per label and outcome, and the rates the project's targets are set on."""

    urgent: int
    urgent_as_urgent: int
    urgent_as_none: int
    check: int
    check_flagged: int
    none: int
    none_as_urgent: int
    none_as_check: int
    misses: tuple[Miss, ...]

    @property
    def urgent_recall(self) -> float:
        """Share of urgent messages flagged urgent."""
        return _ratio(self.urgent_as_urgent, self.urgent)

    @property
    def check_recall(self) -> float:
        """Share of check messages flagged check or urgent."""
        return _ratio(self.check_flagged, self.check)

    @property
    def false_alarm_rate(self) -> float:
        """Share of ordinary messages flagged urgent."""
        return _ratio(self.none_as_urgent, self.none)

    def summary(self, name: str) -> str:
        """One line a person can read in a test log or a terminal."""
        return (
            f"{name}: {self.urgent + self.check + self.none} messages | "
            f"urgent recall {self.urgent_recall:.3f} ({self.urgent_as_urgent}/{self.urgent}), "
            f"urgent->none {self.urgent_as_none} | "
            f"check recall {self.check_recall:.3f} ({self.check_flagged}/{self.check}) | "
            f"none->urgent {self.false_alarm_rate:.3f} ({self.none_as_urgent}/{self.none}), "
            f"none->check {self.none_as_check}"
        )


def _ratio(part: int, whole: int) -> float:
    return part / whole if whole else 1.0


def parse_examples(text: str, source: str) -> tuple[Example, ...]:
    """Parses an evaluation set; a malformed line is reported by file and line number."""
    examples: list[Example] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        label, tab, message = line.partition("\t")
        if not tab or not message.strip():
            raise fail(source, f"line {number}", "expected 'level<TAB>text'")
        if label not in {level.value for level in Level}:
            raise fail(
                source,
                f"line {number}",
                f"unknown level '{label}' (expected urgent, check or none)",
            )
        examples.append(Example(Level(label), message))
    return tuple(examples)


def bundled_examples(name: str = TUNING_FILE) -> tuple[Example, ...]:
    """Loads one of the package's evaluation sets by file name."""
    text = files("bot.safety").joinpath(name).read_text(encoding="utf-8")
    return parse_examples(text, name)


def evaluate(classifier: Classifier, examples: Iterable[Example]) -> Figures:
    """Classifies every example and counts the outcomes against the labels."""
    counts = dict.fromkeys(
        (
            "urgent",
            "urgent_as_urgent",
            "urgent_as_none",
            "check",
            "check_flagged",
            "none",
            "none_as_urgent",
            "none_as_check",
        ),
        0,
    )
    misses: list[Miss] = []
    for example in examples:
        result = classifier.classify(example.text)
        got = result.level
        counts[example.level.value] += 1
        if example.level is Level.URGENT:
            counts["urgent_as_urgent"] += got is Level.URGENT
            counts["urgent_as_none"] += got is Level.NONE
        elif example.level is Level.CHECK:
            counts["check_flagged"] += got is not Level.NONE
        else:
            counts["none_as_urgent"] += got is Level.URGENT
            counts["none_as_check"] += got is Level.CHECK
        if got is not example.level:
            misses.append(Miss(example, got, result.reasons))
    return Figures(misses=tuple(misses), **counts)
