"""The crisis classifier: one pure function from a message to a level and reason codes.

The rules decide first; the learned layer (``model.py``) may then raise the level, never
lower it. Reasons are rule ids, plus ``model.urgent`` or ``model.check`` when the model
raised the level, so a verdict never carries the person's words.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, replace
from functools import cache
from importlib.resources import files
from pathlib import Path

from bot.safety.analysis import Analyser
from bot.safety.datafile import fail
from bot.safety.features import Concepts
from bot.safety.levels import NO_CONCERN, Assessment, Level
from bot.safety.lexicon import Lexicon, load_lexicon
from bot.safety.model import MODEL_FILE, LearnedLayer, Scores, load_model
from bot.safety.rules import Frame, Rule, RuleSet, load_rule_set
from bot.safety.words import forms_of

log = logging.getLogger(__name__)

LEXICON_FILE = "lexicon.toml"
RULES_FILE = "rules.toml"
MODEL_URGENT = "model.urgent"
MODEL_CHECK = "model.check"


@dataclass(frozen=True, slots=True)
class Explanation:
    """Why a message got its level: for ``lk3 safety explain``, never for logs."""

    assessment: Assessment
    rules_level: Level
    rules: tuple[str, ...]
    scores: Scores | None
    urgent_features: tuple[tuple[str, float], ...]
    flagged_features: tuple[tuple[str, float], ...]


class Classifier:
    """Classifies messages with one lexicon and rule set; safe to share between tasks."""

    __slots__ = (
        "_analyser",
        "_by_id",
        "_frames",
        "_lexicon",
        "_model",
        "_order",
        "_rules",
        "digest",
    )

    def __init__(
        self,
        lexicon: Lexicon,
        rules: tuple[Rule, ...] | RuleSet,
        model: LearnedLayer | None = None,
    ) -> None:
        rule_set = rules if isinstance(rules, RuleSet) else RuleSet(rules, ())
        self._lexicon = lexicon
        self._rules = rule_set.rules
        self._frames: tuple[Frame, ...] = rule_set.frames
        self._by_id = {rule.id: rule for rule in rule_set.rules}
        rules = rule_set.rules
        self._model = model
        self.digest = ""
        """A hash of the lexicon and rules texts; a model records the one it was trained with."""
        self._analyser = Analyser(lexicon)
        self._order = {rule.id: (-rule.level.rank, index) for index, rule in enumerate(rules)}

    @property
    def lexicon(self) -> Lexicon:
        """The lexicon the rules are written in (the model reads its spelling map too)."""
        return self._lexicon

    @property
    def model(self) -> LearnedLayer | None:
        """The learned layer, when one is loaded."""
        return self._model

    def with_model(self, model: LearnedLayer | None) -> Classifier:
        """The same rules with another learned layer (or none): for training and evaluation."""
        clone = Classifier.__new__(Classifier)
        clone._lexicon = self._lexicon
        clone._rules = self._rules
        clone._frames = self._frames
        clone._by_id = self._by_id
        clone._analyser = self._analyser
        clone._order = self._order
        clone._model = model
        clone.digest = self.digest
        return clone

    @classmethod
    def bundled(cls) -> Classifier:
        """Returns the classifier built from the package's own data (built once)."""
        return _bundled()

    @classmethod
    def bundled_rules(cls) -> Classifier:
        """The package's lexicon and rules without the learned layer (training starts here)."""
        return _bundled_rules()

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
        built = cls(lexicon, load_rule_set(rules_text, lexicon, rules_source))
        built.digest = hashlib.sha256(f"{lexicon_text}\0{rules_text}".encode()).hexdigest()[:16]
        return built

    @classmethod
    def from_dir(cls, directory: Path) -> Classifier:
        """Builds a classifier from ``lexicon.toml``, ``rules.toml`` and, if present,
        ``model.json`` in a directory."""
        texts = []
        for name in (LEXICON_FILE, RULES_FILE):
            texts.append(_read(directory / name))
        built = cls.from_texts(
            texts[0], texts[1], str(directory / LEXICON_FILE), str(directory / RULES_FILE)
        )
        model_path = directory / MODEL_FILE
        if not model_path.exists():
            log.warning("crisis check: no %s in %s; the rules run alone", MODEL_FILE, directory)
            return built
        return built.with_model(_checked(built, _load(built, _read(model_path), str(model_path))))

    @property
    def rule_ids(self) -> tuple[str, ...]:
        """Every reason code this classifier can report: rules, frames and the model's."""
        frames = tuple(f"frame.{frame.id}" for frame in self._frames)
        return (*(rule.id for rule in self._rules), *frames, MODEL_URGENT, MODEL_CHECK)

    def classify(self, text: str) -> Assessment:
        """Assesses one message; the reasons are rule ids, most serious first."""
        view = self._by_rules(text)
        if self._model is None or view.assessment.level is Level.URGENT:
            return view.assessment
        return self._raised(view, self._model.scores(text, view.signals))

    def rules_level(self, text: str) -> Level:
        """What the rules alone make of a message (training chooses thresholds on top)."""
        return self._by_rules(text).assessment.level

    def signals(self, text: str) -> tuple[str, ...]:
        """The rule and frame ids the rules found, matches a frame lowered included."""
        return self._by_rules(text).signals

    def model_ceiling(self, text: str) -> Level:
        """The highest level the learned layer may raise this message to (a reported story:
        check)."""
        return self._by_rules(text).ceiling

    def explain(self, text: str) -> Explanation:
        """The rules that fired, the model's scores and its strongest features."""
        view = self._by_rules(text)
        by_rules, signals = view.assessment, view.signals
        if self._model is None:
            return Explanation(by_rules, by_rules.level, signals, None, (), ())
        scores = self._model.scores(text, signals)
        final = by_rules if by_rules.level is Level.URGENT else self._raised(view, scores)
        return Explanation(
            final,
            by_rules.level,
            signals,
            scores,
            tuple(self._model.contributions(text, signals, "urgent")),
            tuple(self._model.contributions(text, signals, "flagged")),
        )

    def _raised(self, view: _RulesView, scores: Scores) -> Assessment:
        assert self._model is not None
        by_rules = view.assessment
        limits = self._model.thresholds
        if scores.urgent >= limits.urgent and view.ceiling is Level.URGENT:
            return Assessment(Level.URGENT, (MODEL_URGENT, *by_rules.reasons))
        if by_rules.level is Level.NONE and (
            scores.flagged >= limits.check or scores.urgent >= limits.urgent
        ):
            return replace(by_rules, level=Level.CHECK, reasons=(MODEL_CHECK, *by_rules.reasons))
        return by_rules

    def _by_rules(self, text: str) -> _RulesView:
        tokens = self._analyser.tokens(text)
        if not tokens:
            return _NOTHING
        forms = forms_of(tokens)
        found: set[str] = set()
        for rule in self._rules:
            outcome = rule.evaluate(tokens, forms)
            if outcome.matched:
                found.add(rule.id)
            found.update(outcome.demoted_to)
        if not found:
            # A story with no rule match still keeps the learned layer at check.
            capping = tuple(f for f in self._frames if f.model_at_most is Level.CHECK)
            if any(frame.applies(tokens, forms) for frame in capping):
                return _RulesView(NO_CONCERN, (), Level.CHECK)
            return _NOTHING
        reasons = tuple(sorted(found, key=self._order.__getitem__))
        level = Level.URGENT if self._order[reasons[0]][0] == -Level.URGENT.rank else Level.CHECK
        holding = tuple(frame for frame in self._frames if frame.applies(tokens, forms))
        if not holding:
            return _RulesView(Assessment(level, reasons), reasons, Level.URGENT)
        # Each rule takes the lowest level any frame that holds allows; the most serious
        # of those is the message's.
        lowered = max(
            (
                min((self._by_id[reason].lowered_by(frame) for frame in holding), key=_rank)
                for reason in reasons
            ),
            key=_rank,
        )
        framed = (*(f"frame.{frame.id}" for frame in holding), *reasons)
        ceiling = min((frame.model_at_most for frame in holding), key=_rank)
        if lowered is Level.NONE:
            return _RulesView(NO_CONCERN, framed, ceiling)
        return _RulesView(Assessment(lowered, framed), framed, ceiling)


@dataclass(frozen=True, slots=True)
class _RulesView:
    """What the rules make of a message: the verdict, the signals the model reads, and
    the highest level the model may raise it to."""

    assessment: Assessment
    signals: tuple[str, ...]
    ceiling: Level


_NOTHING = _RulesView(NO_CONCERN, (), Level.URGENT)


def _rank(level: Level) -> int:
    return level.rank


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise fail(str(path), "", f"cannot be read ({type(exc).__name__})") from None


@cache
def _bundled_rules() -> Classifier:
    package = files("bot.safety")
    return Classifier.from_texts(
        package.joinpath(LEXICON_FILE).read_text(encoding="utf-8"),
        package.joinpath(RULES_FILE).read_text(encoding="utf-8"),
    )


@cache
def _bundled() -> Classifier:
    package = files("bot.safety")
    rules = _bundled_rules()
    model_file = package.joinpath(MODEL_FILE)
    if not model_file.is_file():
        log.error("crisis check: the bundled %s is missing; the rules run alone", MODEL_FILE)
        return rules
    model = _load(rules, model_file.read_text(encoding="utf-8"), MODEL_FILE)
    return rules.with_model(_checked(rules, model))


def _load(rules: Classifier, text: str, source: str) -> LearnedLayer:
    """The model read with the lexicon's slang and concepts, as it was trained."""
    lexicon = rules.lexicon
    return load_model(text, lexicon.replace, source, Concepts.from_lists(lexicon.lists))


def _checked(rules: Classifier, model: LearnedLayer) -> LearnedLayer:
    """Says loudly when the model was trained with other rules (it still runs: it can only
    raise levels, and the rules alone are worse)."""
    trained_with = model.about.get("rules_digest")
    if trained_with != rules.digest:
        log.error(
            "crisis check: %s was trained with other rules (%s, now %s): retrain it "
            "(make safety-model)",
            MODEL_FILE,
            trained_with,
            rules.digest,
        )
    return model
