"""`lk3 flows understand`: the matcher measured on typed answers, per question and style."""

from __future__ import annotations

import io
from collections.abc import Mapping
from itertools import count
from pathlib import Path

import pytest

from flows import cli
from flows.exchange import Option
from flows.library import FlowLibrary
from flows.loader import bundled_library_dir, load_library
from flows.model import Value
from flows.understanding.evaluation import AnswerFileError, evaluate, parse_answers

DEV = Path(__file__).parent / "data" / "typed_answers_dev.tsv"


@pytest.fixture(scope="module")
def bundled() -> FlowLibrary:
    return load_library(bundled_library_dir())


def test_the_dev_answers_are_understood_and_reported(bundled: FlowLibrary) -> None:
    out = io.StringIO()
    assert cli.understand_command(bundled_library_dir(), [DEV], out) == 0
    text = out.getvalue()
    for heading in ("per question (fitting)", "per style (fitting)", "fitting no choice"):
        assert heading in text
    assert "time per answer: mean" in text
    figures = evaluate(bundled, parse_answers(DEV.read_text("utf-8").splitlines()), lambda: 0.0)
    fitting = [r for r in figures.results if r.answer.expected != "-"]
    assert sum(r.right for r in fitting) / len(fitting) >= 0.9
    assert sum(r.wrong for r in figures.results) / len(figures.results) < 0.02


def test_figures_count_right_wrong_and_close_calls(bundled: FlowLibrary) -> None:
    lines = [
        "welcome.main_menu\tbook\tstd\tmau bikin janji",  # right
        "welcome.main_menu\tinfo\tstd\tmau bikin janji",  # wrong
        "welcome.main_menu\t-\tstd\thalo",  # right: nothing fits
        "welcome.main_menu\tinfo\ten\tinfo atau privasi",  # a close call
        "welcome.consent_ask\tagree\tamb\tiyo",
    ]
    ticks = count()
    figures = evaluate(bundled, parse_answers(lines), lambda: float(next(ticks)))
    assert [(r.right, r.wrong, r.asked_back) for r in figures.results] == [
        (True, False, False),
        (False, True, False),
        (True, False, False),
        (False, False, True),
        (True, False, False),
    ]
    assert figures.seconds == [1.0] * 5
    styles = figures.tally(lambda r: r.answer.style)
    assert (styles["std"].lines, styles["std"].right, styles["std"].wrong) == (2, 1, 1)
    report = "\n".join(cli.report(figures, worst=5))
    assert "picked a WRONG choice:       20.0% of all" in report
    assert "WRONG welcome.main_menu info -> book" in report


@pytest.mark.parametrize(
    ("line", "error"),
    [
        (
            "welcome.main_menu\tbook\tmau bikin janji",
            "line 1: needs question, expected, style and text",
        ),
        ("welcome.nowhere\tbook\tstd\tx", "'welcome.nowhere' is not a question with choices"),
        ("booking.ask_phone\tx\tstd\t0812", "'booking.ask_phone' is not a question with choices"),
        ("welcome.main_menu\tboek\tstd\tx", "line 1: 'boek' is not a choice of welcome.main_menu"),
    ],
)
def test_a_bad_line_is_refused_by_its_number(bundled: FlowLibrary, line: str, error: str) -> None:
    with pytest.raises(AnswerFileError, match=error):
        evaluate(bundled, parse_answers([line]), lambda: 0.0)


def test_an_unreadable_file_is_a_plain_error(tmp_path: Path) -> None:
    out = io.StringIO()
    assert cli.understand_command(bundled_library_dir(), [tmp_path / "none.tsv"], out) == 1
    assert out.getvalue() == "cannot read the answers: FileNotFoundError\n"


def test_lines_that_cannot_be_measured_are_skipped_and_counted(tmp_path: Path) -> None:
    answers = tmp_path / "answers.tsv"
    answers.write_text(
        "welcome.main_menu\tbook\tstd\tmau bikin janji\n"
        "booking.ask_day\t2026-12-09\tstd\trabu\n"  # a host option: not measurable here
        "faq.hours\thours\tstd\tjam buka?\n"
        "a line without tabs\n",
        "utf-8",
    )
    out = io.StringIO()
    assert cli.understand_command(bundled_library_dir(), [answers], out) == 0
    text = out.getvalue()
    assert text.startswith("1 typed answers (1 fit a choice, 0 fit none)\n")
    assert "skipped 3 line(s):\n  answers.tsv line 4: needs question" in text
    assert "line 2: '2026-12-09' is not a choice of booking.ask_day" in text
    assert "'faq.hours' is not a question with choices" in text


def test_a_blind_set_can_be_measured_without_reading_its_misses(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`--no-misses` prints figures only, so the blind sets stay blind."""
    from bot.cli import main

    data = Path(__file__).parent / "data"
    blind = sorted([*data.glob("typed_answers_blind_*.tsv"), *data.glob("typed_dates_blind_*.tsv")])
    assert len(blind) >= 5
    assert main(["flows", "understand", "--no-misses", *map(str, blind)]) == 0
    printed = capsys.readouterr().out
    assert "picked the intended choice" in printed
    assert "worst misses" not in printed
    for path in blind:
        for line in path.read_text("utf-8").splitlines()[1:4]:
            assert line.split("\t")[3] not in printed


LABELS = {"id": ("Datang ke kantor", "Lewat telepon"), "en": ("At the office", "By phone")}


def modes(name: str, variables: Mapping[str, Value], language: str) -> list[Option]:
    if name != "booking_modes":
        return []
    return [Option(v, s) for v, s in zip(("kantor", "telepon"), LABELS[language], strict=True)]


@pytest.mark.parametrize(
    ("line", "got"),
    [
        ("booking.ask_mode\tkantor\tstandard\tdatang ke kantor", "kantor"),
        ("booking.ask_mode\ttelepon\tenglish\tby phone please", "telepon"),
        ("booking.ask_mode\tkantor\tambon\tat the office please", "kantor"),  # the flow's words
        ("booking.ask_mode\tkantor\tenglish\tdatang ke kantor", "kantor"),  # in every language
        ("booking.ask_mode\tlater\tstandard\tnanti saja", "later"),  # the flow's own choice
    ],
)
def test_host_options_are_measured_in_the_language_of_the_answer(
    bundled: FlowLibrary, line: str, got: str
) -> None:
    figures = evaluate(bundled, parse_answers([line]), lambda: 0.0, options=modes)
    assert [r.got for r in figures.results] == [got]
