"""Golden transcripts: the runner, its format, `--update`, and the bundled flows."""

from __future__ import annotations

import io
import shutil
import tomllib
from datetime import datetime
from pathlib import Path

import pytest

from flows import cli, tomlwriter
from flows.errors import TranscriptError
from flows.exchange import Effect, FlowError, Message, Option
from flows.library import FlowLibrary
from flows.loader import bundled_library_dir, load_library
from flows.transcripts import parse_transcript, render_output, run_transcripts

HERE = Path(__file__).parent
BASIC = HERE / "fixtures" / "basic"


@pytest.mark.parametrize(
    ("output", "text"),
    [
        (Message("Halo."), "Halo."),
        (Message("Pilih:", (Option("a", "Satu"), Option("b", "Dua"))), "Pilih:\n[a] Satu\n[b] Dua"),
        (Effect("end"), "effect end"),
        (
            Effect("open_case", (("category", "kdrt"), ("urgency", "darurat"))),
            "effect open_case category=kdrt urgency=darurat",
        ),
        (
            FlowError("step_limit", "loop.toml: node 'ping'"),
            "error step_limit loop.toml: node 'ping'",
        ),
    ],
)
def test_outputs_render_as_transcript_strings(
    output: Message | Effect | FlowError, text: str
) -> None:
    assert render_output(output) == text


def test_fixture_transcripts_pass_and_visit_every_node(basic: FlowLibrary) -> None:
    report = run_transcripts(basic, BASIC / "transcripts")
    assert [f for r in report.failed for f in r.failures] == []
    every = {(f, n.id) for f in basic.flow_ids for n in basic.flow(f).nodes}
    assert every - report.visited == set()


def test_a_wrong_expectation_fails_with_a_diff_and_update_rewrites_it(tmp_path: Path) -> None:
    shutil.copytree(BASIC, tmp_path / "lib")
    path = tmp_path / "lib" / "transcripts" / "welcome.toml"
    path.write_text(
        path.read_text("utf-8").replace("Baik, percakapan dihentikan.", "Baik, stop."), "utf-8"
    )
    out = io.StringIO()
    assert cli.test_command(tmp_path / "lib", None, out) == 1
    assert (
        "case 'stop ends and anything starts again' -> turn[1] (send 'Berhenti!')" in out.getvalue()
    )
    assert "-#0 Baik, stop. Ketik apa saja untuk mulai lagi." in out.getvalue()
    assert cli.test_command(tmp_path / "lib", None, io.StringIO(), update=True) == 0
    out = io.StringIO()
    assert cli.test_command(tmp_path / "lib", None, out) == 0
    assert out.getvalue() == "10 of 10 cases passed; 34 of 34 nodes visited\n"


def test_update_keeps_every_case_and_turn(tmp_path: Path) -> None:
    shutil.copytree(BASIC, tmp_path / "lib")
    path = tmp_path / "lib" / "transcripts" / "welcome.toml"
    before = tomllib.loads(path.read_text("utf-8"))
    for case in before["cases"]:
        for turn in case["turns"]:
            turn["expect"] = []
    path.write_text(tomlwriter.dumps(before), "utf-8")
    report = run_transcripts(load_library(tmp_path / "lib"), path.parent, update=True)
    assert report.updated == (path,)
    assert tomllib.loads(path.read_text("utf-8")) == tomllib.loads(
        (BASIC / "transcripts" / "welcome.toml").read_text("utf-8")
    )


def test_update_keeps_the_comments_a_file_opens_with(tmp_path: Path) -> None:
    shutil.copytree(BASIC, tmp_path / "lib")
    path = tmp_path / "lib" / "transcripts" / "welcome.toml"
    header = "# What these cases cover, and why.\n# A second line.\n\n"
    wrong = path.read_text("utf-8").replace("Baik, percakapan dihentikan.", "Baik, stop.")
    path.write_text(header + wrong, "utf-8")
    run_transcripts(load_library(tmp_path / "lib"), path.parent, update=True)
    text = path.read_text("utf-8")
    assert text.startswith(header) and "Baik, percakapan dihentikan." in text


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("cases = 1", "t.toml: needs at least one [[cases]]"),
        ('[[cases]]\nname = "a"', "t.toml: case 'a': needs at least one [[cases.turns]]"),
        (
            '[[cases]]\nname = "a"\n[[cases.turns]]\nsend = "x"\npress = "y"',
            "t.toml: case 'a' -> turn[0]: "
            "needs exactly one of start, interrupt, send, press (a string)",
        ),
        (
            '[[cases]]\nname = "a"\n[[cases.turns]]\nsend = "x"\nexpect = [1]',
            "t.toml: case 'a' -> turn[0]: expect must be an array of strings",
        ),
        (
            '[[cases]]\nname = "a"\nnow = 2025-01-01T10:00:00\n[[cases.turns]]\nsend = "x"',
            "t.toml: case 'a': now must be a datetime with a UTC offset",
        ),
        (
            '[[cases]]\nname = "a"\n[[cases.turns]]\nstart = ""\n' * 2,
            "t.toml: case 'a': duplicate case name",
        ),
    ],
)
def test_malformed_transcripts_are_refused_with_file_and_case(source: str, message: str) -> None:
    with pytest.raises(TranscriptError) as raised:
        parse_transcript(Path("t.toml"), source)
    assert str(raised.value) == message


@pytest.mark.parametrize(
    "data",
    [
        {
            "a": "plain",
            "b": 'quote " and \\ backslash',
            "c": 'multi\nline """ end\\',
            "d": True,
            "e": 3,
        },
        {
            "defaults": {
                "now": datetime.fromisoformat("2025-12-12T09:00:00+09:00"),
                "context": {"x": "1\n2"},
            }
        },
        {
            "cases": [
                {
                    "name": "n",
                    "vars": {"k": 1},
                    "turns": [{"send": "\t\x01", "expect": ["a", "b\nc"]}],
                }
            ]
        },
        {"weird key": [], "list": [[1, 2], ["x"]]},
    ],
)
def test_toml_writer_round_trips(data: dict[str, object]) -> None:
    assert tomllib.loads(tomlwriter.dumps(data)) == data


def test_bundled_transcripts_pass() -> None:
    directory = bundled_library_dir()
    if not (directory / "transcripts").is_dir():
        pytest.skip("the bundled flows have no transcripts yet")
    out = io.StringIO()
    assert cli.test_command(directory, None, out) == 0, out.getvalue()
