"""Training the learned layer (``lk3 safety train``): learn from train and dev, keep a budget.

scikit-learn is needed here and only here (``pip install 'lk3-bot[train]'``); the running
bot reads the resulting ``model.json`` with plain Python. Thresholds are chosen *together
with the rules*, because the model only ever raises what the rules found: the urgent
threshold is the lowest that keeps every ordinary message raised to urgent (the rules' own
false alarms included) within ``urgent_false_alarms`` of the ordinary ones, and the check
threshold likewise for ``check_false_alarms``. The scores they are chosen on are
out-of-fold (each message scored by a model that never saw it), over train and dev
together; the final model then learns from both. The test split is never read here.
Training is deterministic: the same files give the same model.
"""

from __future__ import annotations

import hashlib
import math
from array import array
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot.safety.corpus import Example
from bot.safety.features import BUCKETS, Concepts, Features, extract
from bot.safety.levels import Level
from bot.safety.model import Head, LearnedLayer, Scores, Thresholds, dump_model, vectorise

if TYPE_CHECKING:
    from bot.safety.classifier import Classifier

DEFAULT_C = 4.0
MIN_CHAR_DF = 2
FOLDS = 5
URGENT_FALSE_ALARMS = 0.035
CHECK_FALSE_ALARMS = 0.14
# The model never raises below these scores, however much budget is left.
URGENT_FLOOR = 0.3
CHECK_FLOOR = 0.15


@dataclass(frozen=True, slots=True)
class TrainingReport:
    """What training chose, for the person who ran it."""

    train_lines: int
    dev_lines: int
    thresholds: Thresholds
    dev_urgent_recall: float
    dev_urgent_as_none: int
    dev_check_caught: float
    dev_none_as_urgent: float
    dev_none_as_check: float


def corpus_digest(examples: Sequence[Example]) -> str:
    """A hash of the labelled lines a model learns from, recorded in ``model.json``."""
    digest = hashlib.sha256()
    for example in examples:
        digest.update(f"{example.level.value}\t{example.text}\n".encode())
    return digest.hexdigest()[:16]


def learn_idf(found: Sequence[Features]) -> array[float]:
    """Smoothed IDF per bucket, as scikit-learn computes it; 0 where a feature is too rare.

    Character n-grams must occur in at least two messages (one message's typo teaches
    nothing); word n-grams and signals count from one.
    """
    docs = len(found)
    chars = Counter[int]()
    words = Counter[int]()
    for features in found:
        chars.update(features.chars.keys())
        words.update(features.words.keys())
    idf = array("f", bytes(4 * BUCKETS))
    for counts, least in ((chars, MIN_CHAR_DF), (words, 1)):
        for index, df in counts.items():
            if df >= least:
                idf[index] = max(idf[index], math.log((1 + docs) / (1 + df)) + 1)
    return idf


def _matrix(vectors: Sequence[dict[int, float]]) -> Any:
    from scipy.sparse import csr_matrix

    indptr = [0]
    indices: list[int] = []
    data: list[float] = []
    for vector in vectors:
        for index in sorted(vector):
            indices.append(index)
            data.append(vector[index])
        indptr.append(len(indices))
    return csr_matrix((data, indices, indptr), shape=(len(vectors), BUCKETS), dtype="float64")


def _heads(
    found: Sequence[Features], urgent_labels: Sequence[int], flagged_labels: Sequence[int], c: float
) -> tuple[array[float], Head, Head]:
    """IDF and both heads learned from one set of messages."""
    idf = learn_idf(found)
    matrix = _matrix([vectorise(features, idf) for features in found])
    return idf, _fit(matrix, list(urgent_labels), c), _fit(matrix, list(flagged_labels), c)


def _fit(matrix: Any, labels: list[int], c: float) -> Head:
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=c, class_weight="balanced", solver="liblinear", max_iter=2000)
    model.fit(matrix, labels)
    weights = array("f", (float(w) for w in model.coef_[0]))
    return Head(float(model.intercept_[0]), weights)


def _threshold(raised: list[tuple[float, bool]], allowed: int, floor: float) -> float:
    """The lowest score threshold that raises at most ``allowed`` ordinary messages.

    ``raised`` holds (score, is_ordinary) for every message the threshold could raise.
    """
    allowed = max(0, allowed)
    false_scores = sorted((score for score, false in raised if false), reverse=True)
    if len(false_scores) <= allowed:
        return floor
    # Just above the (allowed+1)-th highest score of an ordinary message.
    return min(0.999, max(floor, false_scores[allowed] + 1e-4))


def _combined(
    rules_level: Level, scores: Scores, thresholds: Thresholds, ceiling: Level = Level.URGENT
) -> Level:
    """The level the classifier gives: the rules' level, raised by the model (model.py) no
    higher than ``ceiling`` (check for a story a ``reported`` frame holds for)."""
    if rules_level is Level.URGENT:
        return Level.URGENT
    if scores.urgent >= thresholds.urgent:
        return Level.URGENT if ceiling is Level.URGENT else Level.CHECK
    if rules_level is Level.NONE and scores.flagged < thresholds.check:
        return Level.NONE
    return Level.CHECK


def _choose_thresholds(
    labels: Sequence[Level],
    by_rules: Sequence[Level],
    scores: Sequence[Scores],
    urgent_false_alarms: float,
    check_false_alarms: float,
    ceilings: Sequence[Level] | None = None,
) -> Thresholds:
    """Thresholds that keep every false alarm, the rules' own included, within budget.

    A message the model may raise to check only (``ceilings``) never counts for the
    urgent threshold; its urgent score raises it to check like the check score does.
    """
    caps = list(ceilings) if ceilings is not None else [Level.URGENT] * len(labels)
    labelled = list(zip(labels, scores, by_rules, strict=True))
    ordinary = sum(label is Level.NONE for label in labels)
    rules_urgent_alarms = sum(e is Level.NONE and r is Level.URGENT for e, _, r in labelled)
    urgent_threshold = _threshold(
        [
            (s.urgent, e is Level.NONE)
            for (e, s, r), cap in zip(labelled, caps, strict=True)
            if r is not Level.URGENT and cap is Level.URGENT
        ],
        math.floor(urgent_false_alarms * ordinary) - rules_urgent_alarms,
        URGENT_FLOOR,
    )
    capped = [cap is Level.CHECK for cap in caps]
    rules_check_alarms = sum(
        e is Level.NONE
        and (r is Level.CHECK or (r is Level.NONE and held and s.urgent >= urgent_threshold))
        and (held or s.urgent < urgent_threshold)
        for (e, s, r), held in zip(labelled, capped, strict=True)
    )
    check_threshold = _threshold(
        [
            (s.flagged, e is Level.NONE)
            for (e, s, r), held in zip(labelled, capped, strict=True)
            if r is Level.NONE and s.urgent < urgent_threshold
        ],
        math.floor(check_false_alarms * ordinary) - rules_check_alarms,
        CHECK_FLOOR,
    )
    return Thresholds(round(urgent_threshold, 4), round(check_threshold, 4))


def _figures(
    labels: Sequence[Level], levels: Sequence[Level]
) -> tuple[float, int, float, float, float]:
    pairs = list(zip(labels, levels, strict=True))
    urgent = [got for label, got in pairs if label is Level.URGENT]
    check = [got for label, got in pairs if label is Level.CHECK]
    none = [got for label, got in pairs if label is Level.NONE]
    return (
        sum(g is Level.URGENT for g in urgent) / max(len(urgent), 1),
        sum(g is Level.NONE for g in urgent),
        sum(g is not Level.NONE for g in check) / max(len(check), 1),
        sum(g is Level.URGENT for g in none) / max(len(none), 1),
        sum(g is Level.CHECK for g in none) / max(len(none), 1),
    )


def train(
    train_set: Sequence[Example],
    dev_set: Sequence[Example],
    rules: Classifier,
    *,
    c: float = DEFAULT_C,
    urgent_false_alarms: float = URGENT_FALSE_ALARMS,
    check_false_alarms: float = CHECK_FALSE_ALARMS,
    folds: int = FOLDS,
) -> tuple[str, TrainingReport]:
    """Fits both heads on train and dev; returns the text of ``model.json`` and a report.

    Thresholds are chosen on out-of-fold scores: each message is scored by a model that
    did not see it, so the thresholds hold for new messages, and every labelled line
    still teaches the final model. The report's dev figures are out-of-fold too.
    """
    examples = [*train_set, *dev_set]
    replace = rules.lexicon.replace
    concepts = Concepts.from_lists(rules.lexicon.lists)
    by_rules = [rules.rules_level(e.text) for e in examples]
    ceilings = [rules.model_ceiling(e.text) for e in examples]
    features = [extract(e.text, replace, rules.signals(e.text), concepts) for e in examples]
    urgent_labels = [int(e.level is Level.URGENT) for e in examples]
    flagged_labels = [int(e.level is not Level.NONE) for e in examples]
    out_of_fold: list[Scores | None] = [None] * len(examples)
    for fold in range(folds):
        seen = [i for i in range(len(examples)) if i % folds != fold]
        held = [i for i in range(len(examples)) if i % folds == fold]
        idf, urgent, flagged = _heads(
            [features[i] for i in seen],
            [urgent_labels[i] for i in seen],
            [flagged_labels[i] for i in seen],
            c,
        )
        layer = LearnedLayer(idf, urgent, flagged, Thresholds(1.0, 1.0), replace, concepts=concepts)
        for i in held:
            out_of_fold[i] = layer.score_features(features[i])
    scores = [score for score in out_of_fold if score is not None]
    labels = [e.level for e in examples]
    thresholds = _choose_thresholds(
        labels, by_rules, scores, urgent_false_alarms, check_false_alarms, ceilings
    )
    idf, urgent, flagged = _heads(features, urgent_labels, flagged_labels, c)
    dev_from = len(train_set)
    dev_levels = [
        _combined(by_rules[i], scores[i], thresholds, ceilings[i])
        for i in range(dev_from, len(examples))
    ]
    recall, as_none, caught, none_urgent, none_check = _figures(labels[dev_from:], dev_levels)
    about = {
        "rules_digest": rules.digest,
        "corpus_digest": corpus_digest(examples),
        "train_lines": len(train_set),
        "dev_lines": len(dev_set),
        "c": c,
        "folds": folds,
        "urgent_false_alarm_budget": urgent_false_alarms,
        "check_false_alarm_budget": check_false_alarms,
    }
    report = TrainingReport(
        len(train_set), len(dev_set), thresholds, recall, as_none, caught, none_urgent, none_check
    )
    return dump_model(idf, urgent, flagged, thresholds, about), report
