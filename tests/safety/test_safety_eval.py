"""The labelled corpus and the figures the crisis check is held to on it."""

from __future__ import annotations

import pytest

from bot.safety import Classifier, Level, SafetyDataError
from bot.safety.corpus import SPLITS, Example, bundled_split, parse_examples, split_files
from bot.safety.evaluation import breakdown, evaluate
from bot.safety.normalise import clean

MIN_URGENT_RECALL = 0.95
MAX_URGENT_AS_NONE = 0.01
MIN_CHECK_CAUGHT = 0.90
MAX_NONE_AS_URGENT = 0.05
MAX_NONE_AS_CHECK = 0.20
MIN_CORPUS = 3000
MIN_TEST = 600


@pytest.fixture(scope="module")
def classifier() -> Classifier:
    return Classifier.bundled()


def test_the_corpus_is_large_labelled_and_split_by_file() -> None:
    splits = {split: bundled_split(split) for split in SPLITS}
    assert sum(map(len, splits.values())) >= MIN_CORPUS
    assert len(splits["test"]) >= MIN_TEST
    for split, examples in splits.items():
        counts = {level: sum(e.level is level for e in examples) for level in Level}
        assert min(counts.values()) >= len(examples) // 6, split
    for example in splits["dev"] + splits["test"]:
        assert example.category != "-" and example.style != "-" and example.reason


def test_no_message_is_in_two_splits() -> None:
    seen: dict[str, str] = {}
    for split in SPLITS:
        for example in bundled_split(split):
            key = " ".join(clean(example.text).split())
            assert seen.setdefault(key, split) == split, f"{split} repeats a {seen[key]} line"


def test_every_style_is_covered_in_the_blind_test_split() -> None:
    styles = {e.style for e in bundled_split("test")}
    assert styles >= {"standard", "ambon", "jakarta", "typo", "english", "mixed"}
    assert all(name.startswith("blind_") for name in split_files("test"))


@pytest.mark.parametrize("split", ["dev", "test"])
def test_figures_meet_the_targets(
    classifier: Classifier, split: str, capsys: pytest.CaptureFixture[str]
) -> None:
    examples = bundled_split(split)
    figures = evaluate(classifier, examples)
    with capsys.disabled():
        print(f"\n{figures.summary(split)}")
        # The blind split's misses are never printed: reading them would make it a dev set.
        if split == "dev":
            for miss in figures.misses[:10]:
                print(f"  {miss.example.level.value}->{miss.got.value} {miss.reasons}: "
                      f"{miss.example.text}")
    # Plain numbers, so that a failure never prints a blind message either.
    rates = {
        "urgent->urgent": figures.urgent_recall,
        "urgent->none": figures.urgent_none_rate,
        "check caught": figures.check_recall,
        "none->urgent": figures.false_alarm_rate,
        "none->check": figures.none_check_rate,
    }
    targets_met = {
        "urgent->urgent": rates["urgent->urgent"] >= MIN_URGENT_RECALL,
        "urgent->none": rates["urgent->none"] <= MAX_URGENT_AS_NONE,
        "check caught": rates["check caught"] >= MIN_CHECK_CAUGHT,
        "none->urgent": rates["none->urgent"] <= MAX_NONE_AS_URGENT,
        "none->check": rates["none->check"] <= MAX_NONE_AS_CHECK,
    }
    missed = sorted(name for name, met in targets_met.items() if not met)
    assert not missed, f"{split}: targets missed: {', '.join(missed)} ({rates})"


def test_figures_count_each_outcome_once(classifier: Classifier) -> None:
    examples = (
        Example(Level.URGENT, "saya mau bunuh diri", "suicide", "standard"),
        Example(Level.URGENT, "halo", "suicide", "standard"),
        Example(Level.CHECK, "capek hidup", "hopelessness", "typo"),
        Example(Level.NONE, "suami pukul saya", "family_problem", "standard"),
        Example(Level.NONE, "saya capek hidup", "family_problem", "typo"),
    )
    figures = evaluate(classifier, examples)
    assert (figures.urgent, figures.urgent_as_urgent, figures.urgent_as_none) == (2, 1, 1)
    assert (figures.check, figures.check_flagged) == (1, 1)
    assert (figures.none, figures.none_as_urgent, figures.none_as_check) == (2, 1, 1)
    assert figures.urgent_recall == 0.5
    assert len(figures.misses) == 3
    assert figures.misses[0].example.text == "halo", "urgent read as none is the worst miss"
    by_style = breakdown(classifier, examples, lambda e: e.style)
    assert {name: f.total for name, f in by_style.items()} == {"standard": 3, "typo": 2}


def test_evaluation_times_each_message_with_the_given_clock(classifier: Classifier) -> None:
    ticks = iter(range(100))
    figures = evaluate(
        classifier, [Example(Level.NONE, "halo"), Example(Level.NONE, "makasih")],
        clock=lambda: float(next(ticks)),
    )
    assert figures.seconds == 2.0
    assert figures.micros_per_message == 1e6


def test_short_lines_are_read_for_hand_written_files() -> None:
    (example,) = parse_examples("urgent\tdia bawa parang", "mine.tsv")
    assert (example.level, example.text, example.category, example.style) == (
        Level.URGENT, "dia bawa parang", "-", "-"
    )


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("urgent no tab here", "set.tsv: line 1: expected "
                               "'level<TAB>category<TAB>style<TAB>text<TAB>reason'"),
        ("# note\n\nbad\tsome text", "set.tsv: line 3: unknown level 'bad' (expected urgent, "
                                     "check or none)"),
        ("none\t   ", "set.tsv: line 1: the text is empty"),
        ("none\tgossip\tstandard\thalo\tx", "set.tsv: line 1: unknown category 'gossip'"),
        ("none\tgreeting\tklingon\thalo\tx", "set.tsv: line 1: unknown style 'klingon'"),
    ],
)
def test_a_malformed_corpus_line_is_reported_by_line(text: str, error: str) -> None:
    with pytest.raises(SafetyDataError) as caught:
        parse_examples(text, "set.tsv")
    assert str(caught.value) == error
