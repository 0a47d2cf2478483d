"""`lk3 flows understand`: the booking modes measured as the bot offers them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.cli import main

DATA = Path(__file__).resolve().parents[2] / "flows" / "data"
BLIND = [DATA / "typed_answers_dev_blind_d1.tsv", DATA / "typed_answers_dev_blind_d2.tsv"]


def test_the_modes_are_offered_and_the_blind_dev_answers_stay_understood(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["flows", "understand", *map(str, BLIND)]) == 0
    out = capsys.readouterr().out
    assert "booking.ask_mode" in out
    assert "is not a choice of booking.ask_mode" not in out
    right = re.search(r"picked the intended choice:\s+([\d.]+)%", out)
    wrong = re.search(r"picked a WRONG choice:\s+([\d.]+)%", out)
    assert right is not None and wrong is not None
    assert float(right.group(1)) >= 90.0
    assert float(wrong.group(1)) < 2.0


DATES = [DATA / "typed_dates_dev_d1.tsv", DATA / "typed_dates_dev_own.tsv"]


def test_typed_days_and_times_are_measured_in_the_fixed_booking_situation(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["flows", "understand", *map(str, DATES)]) == 0
    out = capsys.readouterr().out
    assert "skipped" not in out  # every date and time is measured, on a list or not
    for question in ("booking.ask_day", "booking.ask_time"):
        line = re.search(rf"^  {question}\s+\d+\s+([\d.]+)%\s+([\d.]+)%", out, re.MULTILINE)
        assert line is not None
        assert float(line.group(1)) >= 90.0 and float(line.group(2)) < 2.0
