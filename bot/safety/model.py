"""The learned second layer: a linear model over hashed features that may only raise a level.

The rules are precise where they know the words; the model generalises from the labelled
corpus to phrasings nobody wrote a rule for. It has two heads, each a logistic regression
over the TF-IDF vector of ``features.extract``: ``urgent`` (urgent against the rest) and
``flagged`` (urgent or check against none); the IDF weights are learned with them. The
classifier raises a message to ``urgent`` when the urgent head reaches its threshold, and
to ``check`` when the flagged head does; it never lowers what the rules found. The
thresholds are chosen when the model is trained (``lk3 safety train``, see
``training.py``) and stored with the weights in ``model.json``.

Scoring is plain Python over at most a few hundred bucket lookups; nothing is downloaded
and no machine-learning library is needed at run time.
"""

from __future__ import annotations

import base64
import json
import math
import zlib
from array import array
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeGuard

from bot.safety.datafile import fail
from bot.safety.features import (
    BUCKETS,
    NO_CONCEPTS,
    Concepts,
    Features,
    all_names,
    bucket,
    extract,
)

MODEL_FILE = "model.json"
MODEL_SPEC = 2
HEADS = ("urgent", "flagged")


@dataclass(frozen=True, slots=True)
class Scores:
    """The model's probabilities for one message."""

    urgent: float
    flagged: float


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Where each head raises a level; chosen on the dev split and written down."""

    urgent: float
    check: float


@dataclass(frozen=True, slots=True)
class Head:
    """One logistic regression: a bias and one weight per bucket."""

    bias: float
    weights: array[float]

    def logit(self, vector: dict[int, float]) -> float:
        """The log-odds for a message's feature vector."""
        weights = self.weights
        return self.bias + sum(weights[index] * value for index, value in vector.items())


def vectorise(found: Features, idf: array[float]) -> dict[int, float]:
    """The TF-IDF vector of one message: each text block at unit length, signals at 1.

    A bucket whose IDF is 0 was never (or too rarely) seen in training and is left out,
    so that unknown n-grams do not dilute the known ones.
    """
    vector: dict[int, float] = {}
    for block in (found.chars, found.words):
        weighted: dict[int, float] = {}
        for index, count in block.items():
            weight = idf[index]
            if weight:
                weighted[index] = (1.0 + math.log(count)) * weight
        norm = math.sqrt(sum(value * value for value in weighted.values()))
        if norm:
            for index, value in weighted.items():
                vector[index] = vector.get(index, 0.0) + value / norm
    for index in found.signals:
        vector[index] = vector.get(index, 0.0) + 1.0
    return vector


class LearnedLayer:
    """Scores messages with the two heads; safe to share between tasks."""

    __slots__ = ("_concepts", "_replace", "about", "idf", "thresholds", "urgent", "flagged")

    def __init__(
        self,
        idf: array[float],
        urgent: Head,
        flagged: Head,
        thresholds: Thresholds,
        replace: Mapping[str, tuple[str, ...]],
        about: Mapping[str, Any] | None = None,
        concepts: Concepts = NO_CONCEPTS,
    ) -> None:
        self.idf = idf
        self.urgent = urgent
        self.flagged = flagged
        self.thresholds = thresholds
        self._replace = replace
        self._concepts = concepts
        self.about = dict(about or {})

    def scores(self, text: str, signals: Iterable[str] = ()) -> Scores:
        """The probabilities of ``urgent`` and of ``urgent or check`` for one message.

        ``signals`` are the rule and frame ids the rules found, matches lowered included.
        """
        return self.score_features(extract(text, self._replace, signals, self._concepts))

    def score_features(self, found: Features) -> Scores:
        """The probabilities for a message already turned into features."""
        vector = vectorise(found, self.idf)
        return Scores(_sigmoid(self.urgent.logit(vector)), _sigmoid(self.flagged.logit(vector)))

    def contributions(
        self, text: str, signals: Iterable[str] = (), head: str = "urgent", top: int = 8
    ) -> list[tuple[str, float]]:
        """The features that pushed one head most, for ``lk3 safety explain``."""
        chosen = self.urgent if head == "urgent" else self.flagged
        vector = vectorise(extract(text, self._replace, signals, self._concepts), self.idf)
        ranked = sorted(
            (
                (name, chosen.weights[bucket(name)] * vector.get(bucket(name), 0.0))
                for name in all_names(text, self._replace, signals, self._concepts)
            ),
            key=lambda item: -abs(item[1]),
        )
        return ranked[:top]


def _finite(value: object) -> TypeGuard[float]:
    """A real number: not a bool, not NaN, not infinite (json reads all three)."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _sigmoid(value: float) -> float:
    if value >= 0:
        return 1 / (1 + math.exp(-value))
    exp = math.exp(value)
    return exp / (1 + exp)


def encode_weights(values: array[float]) -> str:
    """Packs float32 weights as base64 of zlib, so the file stays a few hundred KB."""
    return base64.b64encode(zlib.compress(values.tobytes(), 9)).decode("ascii")


def _decode_weights(text: str, source: str, path: str) -> array[float]:
    try:
        raw = zlib.decompress(base64.b64decode(text.encode("ascii"), validate=True))
    except (ValueError, zlib.error):
        raise fail(source, path, "weights are not base64 of zlib-compressed float32") from None
    values = array("f")
    if len(raw) != BUCKETS * values.itemsize:
        raise fail(source, path, f"expected {BUCKETS} weights, found {len(raw) // 4}")
    values.frombytes(raw)
    if not all(map(math.isfinite, values)):
        raise fail(source, path, "holds a weight that is not a finite number")
    return values


def load_model(
    text: str,
    replace: Mapping[str, tuple[str, ...]],
    source: str = MODEL_FILE,
    concepts: Concepts = NO_CONCEPTS,
) -> LearnedLayer:
    """Reads ``model.json``; errors name the file and the key that was wrong.

    ``replace`` and ``concepts`` come from the lexicon the model was trained with.
    """
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise fail(source, "", f"invalid JSON: {exc.msg} at line {exc.lineno}") from None
    if not isinstance(data, dict):
        raise fail(source, "", "must be a JSON object")
    if data.get("spec_version") != MODEL_SPEC:
        found = data.get("spec_version")
        raise fail(source, "spec_version", f"must be {MODEL_SPEC}, found {found!r}")
    if data.get("buckets") != BUCKETS:
        raise fail(source, "buckets", f"must be {BUCKETS}, found {data.get('buckets')!r}")
    idf_text = data.get("idf")
    if not isinstance(idf_text, str):
        raise fail(source, "idf", "must be a string of packed weights")
    idf = _decode_weights(idf_text, source, "idf")
    heads = data.get("heads")
    if not isinstance(heads, dict):
        raise fail(source, "heads", "must be an object with 'urgent' and 'flagged'")
    loaded: dict[str, Head] = {}
    for name in HEADS:
        head = heads.get(name)
        if not isinstance(head, dict):
            raise fail(source, f"heads.{name}", "is missing")
        bias = head.get("bias")
        weights = head.get("weights")
        if not _finite(bias) or not isinstance(weights, str):
            raise fail(source, f"heads.{name}", "needs a number 'bias' and a string 'weights'")
        loaded[name] = Head(float(bias), _decode_weights(weights, source, f"heads.{name}.weights"))
    limits = data.get("thresholds")
    if not isinstance(limits, dict):
        raise fail(source, "thresholds", "must be an object with 'urgent' and 'check'")
    values: dict[str, float] = {}
    for name in ("urgent", "check"):
        value = limits.get(name)
        if not _finite(value) or not 0 < value <= 1:
            raise fail(source, f"thresholds.{name}", f"must be a number in (0, 1], found {value!r}")
        values[name] = float(value)
    about = data.get("about", {})
    return LearnedLayer(
        idf,
        loaded["urgent"],
        loaded["flagged"],
        Thresholds(values["urgent"], values["check"]),
        replace,
        about if isinstance(about, dict) else {},
        concepts,
    )


def dump_model(
    idf: array[float],
    urgent: Head,
    flagged: Head,
    thresholds: Thresholds,
    about: Mapping[str, Any],
) -> str:
    """The text of ``model.json`` for trained heads and chosen thresholds."""
    data = {
        "spec_version": MODEL_SPEC,
        "buckets": BUCKETS,
        "idf": encode_weights(idf),
        "thresholds": {"urgent": round(thresholds.urgent, 4), "check": round(thresholds.check, 4)},
        "about": dict(about),
        "heads": {
            name: {"bias": head.bias, "weights": encode_weights(head.weights)}
            for name, head in (("urgent", urgent), ("flagged", flagged))
        },
    }
    return json.dumps(data, indent=1) + "\n"
