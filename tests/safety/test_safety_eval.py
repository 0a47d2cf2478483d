"""The labelled evaluation sets: recall and false-alarm figures, printed and held to targets."""

from __future__ import annotations

import pytest

from bot.safety import Classifier, Level, SafetyDataError
from bot.safety.evaluation import (
    HOLDOUT_FILE,
    TUNING_FILE,
    Example,
    bundled_examples,
    evaluate,
    parse_examples,
)

MIN_URGENT_RECALL = 0.95
MAX_FALSE_ALARM_RATE = 0.05
MIN_CHECK_RECALL = 0.90
MIN_HELD_OUT = 80


@pytest.fixture(scope="module")
def classifier() -> Classifier:
    return Classifier.bundled()


def test_the_sets_are_large_and_balanced_as_promised() -> None:
    examples = bundled_examples(TUNING_FILE) + bundled_examples(HOLDOUT_FILE)
    counts = {level: sum(e.level is level for e in examples) for level in Level}
    assert len(examples) >= 300
    assert counts[Level.URGENT] >= len(examples) // 4
    assert counts[Level.CHECK] >= len(examples) // 6
    assert counts[Level.NONE] >= 60
    assert len(bundled_examples(HOLDOUT_FILE)) >= MIN_HELD_OUT


@pytest.mark.parametrize("name", [TUNING_FILE, HOLDOUT_FILE])
def test_figures_meet_the_targets(
    classifier: Classifier, name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    figures = evaluate(classifier, bundled_examples(name))
    with capsys.disabled():
        print(f"\n{figures.summary(name)}")
        for miss in figures.misses:
            if miss.example.level is Level.URGENT or miss.got is Level.URGENT:
                print(f"  {miss.example.level.value}->{miss.got.value} {miss.reasons}: "
                      f"{miss.example.text}")
    assert figures.urgent_as_none == 0
    assert figures.urgent_recall >= MIN_URGENT_RECALL
    assert figures.false_alarm_rate <= MAX_FALSE_ALARM_RATE
    assert figures.check_recall >= MIN_CHECK_RECALL


def test_figures_count_each_outcome_once(classifier: Classifier) -> None:
    examples = (
        Example(Level.URGENT, "saya mau bunuh diri"),
        Example(Level.URGENT, "halo"),
        Example(Level.CHECK, "capek hidup"),
        Example(Level.NONE, "suami pukul saya"),
        Example(Level.NONE, "saya capek hidup"),
    )
    figures = evaluate(classifier, examples)
    assert (figures.urgent, figures.urgent_as_urgent, figures.urgent_as_none) == (2, 1, 1)
    assert (figures.check, figures.check_flagged) == (1, 1)
    assert (figures.none, figures.none_as_urgent, figures.none_as_check) == (2, 1, 1)
    assert figures.urgent_recall == 0.5
    assert len(figures.misses) == 3


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("urgent no tab here", "set.tsv: line 1: expected 'level<TAB>text'"),
        ("# note\n\nbad\tsome text", "set.tsv: line 3: unknown level 'bad' (expected urgent, "
                                     "check or none)"),
        ("none\t   ", "set.tsv: line 1: expected 'level<TAB>text'"),
    ],
)
def test_a_malformed_eval_line_is_reported_by_line(text: str, error: str) -> None:
    with pytest.raises(SafetyDataError) as caught:
        parse_examples(text, "set.tsv")
    assert str(caught.value) == error
