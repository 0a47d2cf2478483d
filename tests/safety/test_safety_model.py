"""The learned layer: it only raises, it is trained from the corpus, and its file is checked."""

from __future__ import annotations

import json
import random
from array import array

import pytest

from bot.safety import Classifier, Level, SafetyDataError
from bot.safety.classifier import MODEL_CHECK, MODEL_URGENT
from bot.safety.corpus import Example, bundled_split
from bot.safety.features import BUCKETS, bucket, canonical_words, char_names, extract, word_names
from bot.safety.model import Head, LearnedLayer, Thresholds, dump_model, load_model, vectorise
from bot.safety.training import URGENT_FLOOR, corpus_digest, learn_idf, train


@pytest.fixture(scope="module")
def bundled() -> Classifier:
    return Classifier.bundled()


def _zeros() -> array[float]:
    return array("f", bytes(4 * BUCKETS))


def _layer_raising(feature: str, head: str, replace: dict[str, tuple[str, ...]]) -> LearnedLayer:
    """A hand-made model whose one heavy weight sits on one feature."""
    idf = _zeros()
    idf[bucket(feature)] = 1.0
    urgent, flagged = _zeros(), _zeros()
    (urgent if head == "urgent" else flagged)[bucket(feature)] = 60.0
    return LearnedLayer(idf, Head(-5.0, urgent), Head(-5.0, flagged), Thresholds(0.5, 0.5), replace)


def test_the_bundled_classifier_ships_with_a_model(bundled: Classifier) -> None:
    assert bundled.model is not None
    assert 0 < bundled.model.thresholds.check <= bundled.model.thresholds.urgent <= 1


def test_the_bundled_model_was_trained_on_the_current_corpus_and_rules(bundled: Classifier) -> None:
    """After editing the corpus, the lexicon or the rules, run `make safety-model`."""
    assert bundled.model is not None
    about = bundled.model.about
    examples = [*bundled_split("train"), *bundled_split("dev")]
    assert about["rules_digest"] == bundled.digest, "rules changed: run `make safety-model`"
    assert about["corpus_digest"] == corpus_digest(examples), "corpus changed: `make safety-model`"


def test_the_model_raises_none_to_check_and_to_urgent(bundled: Classifier) -> None:
    replace = dict(bundled.lexicon.replace)
    rules = bundled.with_model(None)
    assert rules.classify("kabar burung").level is Level.NONE
    to_check = rules.with_model(_layer_raising("w:burung", "flagged", replace))
    assert to_check.classify("kabar burung").reasons == (MODEL_CHECK,)
    to_urgent = rules.with_model(_layer_raising("w:burung", "urgent", replace))
    assert to_urgent.classify("kabar burung").level is Level.URGENT
    assert to_urgent.classify("kabar burung").reasons == (MODEL_URGENT,)


def test_the_model_never_lowers_what_the_rules_found(bundled: Classifier) -> None:
    replace = dict(bundled.lexicon.replace)
    silent = LearnedLayer(
        _zeros(),
        Head(-50.0, _zeros()),
        Head(-50.0, _zeros()),
        Thresholds(0.99, 0.99),
        replace,
    )
    quiet = bundled.with_model(None).with_model(silent)
    assert quiet.classify("saya mau bunuh diri").level is Level.URGENT
    assert quiet.classify("capek hidup").level is Level.CHECK


def test_features_read_slang_and_typing_tricks_as_the_rules_do(bundled: Classifier) -> None:
    replace = bundled.lexicon.replace
    assert canonical_words("Sy pengeeeen M4TI", replace) == ["sy", "ingin", "mati"]
    assert canonical_words("beta seng kuat", replace) == ["beta", "tidak", "kuat"]
    assert {"c: p", "c:ukul ", "c:pukul"} <= set(char_names(["pukul"]))
    assert word_names(["dia", "pukul", "saya"])["w:dia pukul saya"] == 1
    assert extract("gw pengen mati", replace) == extract("GW  PENGEN  MATI", replace)
    assert extract("x", replace, ["violence.mention"]).signals == {bucket("r:violence.mention")}


def test_the_vector_is_tfidf_with_unit_length_text_blocks() -> None:
    found = [extract(text, {}) for text in ("dia pukul saya", "dia pukul dia", "halo kak")]
    idf = learn_idf(found)
    assert idf[bucket("w:dia")] < idf[bucket("w:halo")], "a word in more messages weighs less"
    assert idf[bucket("c:halo")] == 0, "a character n-gram seen once is left out"
    vector = vectorise(extract("dia pukul saya", {}, ["violence.mention"]), idf)
    words = [vector[bucket(name)] for name in word_names(["dia", "pukul", "saya"])]
    assert abs(sum(value * value for value in words) - 1) < 1e-6
    assert vector[bucket("r:violence.mention")] == 1.0


def test_a_model_file_round_trips_and_bad_files_name_the_key() -> None:
    head = Head(0.25, _zeros())
    text = dump_model(_zeros(), head, head, Thresholds(0.6, 0.4), {"note": "x"})
    loaded = load_model(text, {})
    assert loaded.thresholds == Thresholds(0.6, 0.4)
    assert loaded.urgent.bias == 0.25
    data = json.loads(text)
    data["thresholds"]["urgent"] = 2
    with pytest.raises(SafetyDataError, match="model.json: thresholds.urgent: must be a number"):
        load_model(json.dumps(data), {})
    data = json.loads(text)
    data["heads"]["flagged"]["weights"] = "not base64!"
    with pytest.raises(SafetyDataError, match="heads.flagged.weights"):
        load_model(json.dumps(data), {})
    with pytest.raises(SafetyDataError, match="invalid JSON"):
        load_model("{", {})


def test_training_learns_the_corpus_and_chooses_thresholds_within_budget(
    bundled: Classifier,
) -> None:
    rules = bundled.with_model(None)
    train_set = [e for e in bundled_split("train") if e.style in ("ambon", "typo")][:900]
    dev_set = [e for e in bundled_split("dev") if e.style in ("ambon", "typo")]
    text, report = train(train_set, dev_set, rules, folds=3)
    layer = load_model(text, rules.lexicon.replace)
    assert report.train_lines == len(train_set) and report.dev_lines == len(dev_set)
    assert layer.thresholds == report.thresholds
    assert report.dev_urgent_recall > 0.5
    # The same lines give the same model.
    assert train(train_set, dev_set, rules, folds=3)[0] == text


def test_training_works_on_a_tiny_corpus(bundled: Classifier) -> None:
    rules = bundled.with_model(None)
    lines = [
        Example(Level.URGENT, "saya mau bunuh diri"),
        Example(Level.CHECK, "capek hidup"),
        Example(Level.NONE, "jam buka kantor"),
    ] * 4
    text, _ = train(lines, lines, rules, folds=2)
    assert load_model(text, {}).thresholds.urgent >= URGENT_FLOOR


@pytest.mark.parametrize(
    ("edit", "problem"),
    [
        (lambda d: d["heads"]["urgent"].update(bias=float("nan")), "heads.urgent"),
        (lambda d: d["heads"]["flagged"].update(bias=True), "heads.flagged"),
        (lambda d: d["thresholds"].update(urgent=True), "thresholds.urgent"),
        (lambda d: d["thresholds"].update(check=float("inf")), "thresholds.check"),
    ],
)
def test_a_model_file_that_would_silently_switch_the_layer_off_is_refused(
    edit: object, problem: str
) -> None:
    head = Head(0.25, _zeros())
    data = json.loads(dump_model(_zeros(), head, head, Thresholds(0.6, 0.4), {}))
    edit(data)  # type: ignore[operator]
    with pytest.raises(SafetyDataError, match=problem):
        load_model(json.dumps(data), {})


def test_non_finite_weights_are_refused() -> None:
    weights = _zeros()
    weights[7] = float("nan")
    text = dump_model(_zeros(), Head(0.0, weights), Head(0.0, _zeros()), Thresholds(0.6, 0.4), {})
    with pytest.raises(SafetyDataError, match="heads.urgent.weights: holds a weight"):
        load_model(text, {})


def test_attacker_words_do_not_fill_the_caches(bundled: Classifier) -> None:
    """Long random "words" are read but never cached (they would fill memory)."""
    from bot.safety.features import _word_char_buckets
    from bot.safety.stemming import _in_dictionary, _stem

    before = (_word_char_buckets.cache_info().currsize, _stem.cache_info().currsize,
              _in_dictionary.cache_info().currsize)
    rng = random.Random(7)
    junk = " ".join("".join(rng.choice("bcdfghjklmnpqrstvwxyz") for _ in range(45))
                    for _ in range(50))
    bundled.classify(junk)
    after = (_word_char_buckets.cache_info().currsize, _stem.cache_info().currsize,
             _in_dictionary.cache_info().currsize)
    # Only known words found inside the junk (a handful, bounded by the lexicon) are cached.
    assert all(now - then <= 5 for now, then in zip(after, before, strict=True))
