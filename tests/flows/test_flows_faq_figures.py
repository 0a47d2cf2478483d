"""`lk3 flows understand` on questions of the family's own (`faq:TOPIC` lines).

A line is read as the engine reads it: the choice, or the FAQ topic (layers.py). It is
right when what was taken equals the expected value; a close call is neither; a
file without `faq:` lines measures the choices alone, as it always did.
"""

from __future__ import annotations

import io
from itertools import count
from pathlib import Path

import pytest

from flows import cli
from flows.library import FlowLibrary
from flows.loader import bundled_library_dir, load_library
from flows.understanding.evaluation import AnswerFileError, evaluate, parse_answers

DEV_D3 = Path(__file__).parent / "data" / "typed_answers_dev_d3.tsv"


@pytest.fixture(scope="module")
def bundled() -> FlowLibrary:
    return load_library(bundled_library_dir())


def test_faq_lines_count_right_and_wrong_by_what_the_engine_would_take(
    bundled: FlowLibrary,
) -> None:
    lines = [
        "triage.category\tfaq:hours\tstd\tjam buka kantor?",  # right: answered as hours
        "triage.category\tfaq:cost\tstd\tjam buka kantor?",  # wrong: another topic
        "triage.category\t-\tstd\tini robot ya?",  # wrong: nothing was expected
        "triage.category\tfaq:robot\tstd\tasdfgh",  # neither: nothing taken
        "triage.category\tkdrt\tstd\tKekerasan rumah tangga",  # a choice, as before
        "welcome.language\ten\ten\tenglish please",  # the question offers it: the choice
    ]
    ticks = count()
    figures = evaluate(bundled, parse_answers(lines), lambda: float(next(ticks)))
    assert [(r.got, r.right, r.wrong) for r in figures.results] == [
        ("faq:hours", True, False),
        ("faq:hours", False, True),
        ("faq:robot", False, True),
        ("-", False, False),
        ("kdrt", True, False),
        ("en", True, False),
    ]


def test_a_file_without_faq_lines_measures_the_choices_alone(bundled: FlowLibrary) -> None:
    lines = ["triage.category\t-\tstd\tini robot ya?"]
    figures = evaluate(bundled, parse_answers(lines), lambda: 0.0)
    assert [(r.got, r.right) for r in figures.results] == [("-", True)]


def test_an_unknown_faq_topic_is_a_mistake_of_the_file(bundled: FlowLibrary) -> None:
    lines = ["triage.category\tfaq:weather\tstd\thujan ya?"]
    with pytest.raises(AnswerFileError, match="'faq:weather' is not a choice of"):
        evaluate(bundled, parse_answers(lines), lambda: 0.0)


def test_the_dev_set_of_questions_asked_anywhere_is_reported_per_kind_and_topic(
    bundled: FlowLibrary,
) -> None:
    out = io.StringIO()
    assert cli.understand_command(bundled_library_dir(), [DEV_D3], out) == 0
    text = out.getvalue()
    for heading in ("per expected kind", "per FAQ topic", "answered the intended FAQ topic"):
        assert heading in text
    answers = parse_answers(DEV_D3.read_text("utf-8").splitlines())
    figures = evaluate(bundled, answers, lambda: 0.0, strict=False)  # the booking modes aside
    asked = [r for r in figures.results if r.answer.kind == "faq"]
    assert sum(r.right for r in asked) / len(asked) >= 0.8
    # An FAQ answer given where none was asked for stays rare.
    stray = [r for r in figures.results if r.topic and r.answer.kind != "faq"]
    assert len(stray) / len(figures.results) < 0.01
