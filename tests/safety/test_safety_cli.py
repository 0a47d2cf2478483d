"""``lk3 safety``: one JSON verdict per input line, figures on demand, data checked."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from bot.safety.bench import measure
from bot.safety.cli import classify_stream, main, report_figures


def test_each_input_line_gives_one_json_line_in_order() -> None:
    inp = io.StringIO("saya mau bunuh diri\npukul berapa kantor buka?\r\n\ncapek hidup\n")
    out = io.StringIO()
    assert classify_stream(inp, out) == 0
    records = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [(r["text"], r["level"]) for r in records] == [
        ("saya mau bunuh diri", "urgent"),
        ("pukul berapa kantor buka?", "none"),
        ("", "none"),
        ("capek hidup", "check"),
    ]
    assert "suicide.intent" in records[0]["reasons"]
    assert records[1]["reasons"] == []


def test_output_keeps_non_ascii_text_readable() -> None:
    out = io.StringIO()
    classify_stream(io.StringIO("aku pengen mati 😭\n"), out)
    assert "😭" in out.getvalue()
    assert json.loads(out.getvalue())["level"] == "urgent"


def test_report_prints_one_line_per_split_and_succeeds() -> None:
    out = io.StringIO()
    assert report_figures(out) == 0
    lines = out.getvalue().splitlines()
    assert [line.split(":")[0] for line in lines] == ["train", "dev", "test"]


def test_check_command_validates_a_data_directory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "lexicon.toml").write_text("spec_version = 1\n[lists]\na = ['@b']\n", "utf-8")
    (tmp_path / "rules.toml").write_text("spec_version = 1\n", "utf-8")
    assert main(["--data", str(tmp_path), "check"]) == 2
    assert "lists -> 'a'[0]: unknown word list 'b'" in capsys.readouterr().err
    assert main(["check"]) == 0


def test_benchmark_reports_a_rate() -> None:
    figures = measure(50)
    assert figures["messages"] == 50
    assert figures["messages_per_second"] > 0
    assert figures["mean_microseconds"] > 0
