"""The crisis classifier: one pure function from a message to a level and rule ids."""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from pathlib import Path

from bot.safety.analysis import Analyser
from bot.safety.datafile import fail
from bot.safety.levels import NO_CONCERN, Assessment, Level
from bot.safety.lexicon import Lexicon, load_lexicon
from bot.safety.rules import Rule, load_rules
from bot.safety.words import forms_of

LEXICON_FILE = "lexicon.toml"
RULES_FILE = "rules.toml"


class Classifier:
    """Classifies messages with one lexicon and rule set; safe to share between tasks."""

    __slots__ = ("_analyser", "_lexicon", "_order", "_rules")

    def __init__(self, lexicon: Lexicon, rules: tuple[Rule, ...]) -> None:
        self._lexicon = lexicon
        self._rules = rules
        self._analyser = Analyser(lexicon)
        self._order = {rule.id: (-rule.level.rank, index) for index, rule in enumerate(rules)}

    @classmethod
    def bundled(cls) -> Classifier:
        """Returns the classifier built from the package's own data (built once)."""
        return _bundled()

    @classmethod
    def from_texts(
        cls,
        lexicon_text: str,
        rules_text: str,
        lexicon_source: str = LEXICON_FILE,
        rules_source: str = RULES_FILE,
    ) -> Classifier:
        """Builds a classifier from TOML texts; errors name the given sources."""
        lexicon = load_lexicon(lexicon_text, lexicon_source)
        return cls(lexicon, load_rules(rules_text, lexicon, rules_source))

    @classmethod
    def from_dir(cls, directory: Path) -> Classifier:
        """Builds a classifier from ``lexicon.toml`` and ``rules.toml`` in a directory."""
        texts = []
        for name in (LEXICON_FILE, RULES_FILE):
            path = directory / name
            try:
                texts.append(path.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError) as exc:
                raise fail(str(path), "", f"cannot be read ({type(exc).__name__})") from None
        return cls.from_texts(
            texts[0], texts[1], str(directory / LEXICON_FILE), str(directory / RULES_FILE)
        )

    @property
    def rule_ids(self) -> tuple[str, ...]:
        """Every reason code this classifier can report."""
        return tuple(rule.id for rule in self._rules)

    def classify(self, text: str) -> Assessment:
        """Assesses one message; the reasons are rule ids, most serious first."""
        tokens = self._analyser.tokens(text)
        if not tokens:
            return NO_CONCERN
        forms = forms_of(tokens)
        found: set[str] = set()
        for rule in self._rules:
            outcome = rule.evaluate(tokens, forms)
            if outcome.matched:
                found.add(rule.id)
            found.update(outcome.demoted_to)
        if not found:
            return NO_CONCERN
        reasons = tuple(sorted(found, key=self._order.__getitem__))
        level = Level.URGENT if self._order[reasons[0]][0] == -Level.URGENT.rank else Level.CHECK
        return Assessment(level, reasons)


@cache
def _bundled() -> Classifier:
    package = files("bot.safety")
    return Classifier.from_texts(
        package.joinpath(LEXICON_FILE).read_text(encoding="utf-8"),
        package.joinpath(RULES_FILE).read_text(encoding="utf-8"),
    )
