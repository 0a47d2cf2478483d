"""`lk3 roster`: shifts by Indonesian weekday and office time; bad input gets a clear answer."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.stores import environ_with, storage_env

from bot.cli import main
from bot.handoff.roster import RosterInputError, parse_day, parse_time


@pytest.mark.parametrize(
    ("text", "day"),
    [("senin", 0), ("Selasa", 1), ("jum'at", 4), ("minggu", 6), ("sunday", 6), ("sab", 5)],
)
def test_days_are_read_in_indonesian_and_english(text: str, day: int) -> None:
    assert parse_day(text) == day


@pytest.mark.parametrize(("text", "minute"), [("08:00", 480), ("8.30", 510), ("23:59", 1439)])
def test_times_are_read_as_office_minutes(text: str, minute: int) -> None:
    assert parse_time(text) == minute


@pytest.mark.parametrize("text", ["25:00", "8", "08:75", "24:00"])
def test_a_time_that_is_not_a_time_of_day_is_refused(text: str) -> None:
    with pytest.raises(RosterInputError):
        parse_time(text)


def test_roster_add_list_remove(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "lk3.toml"
    config.write_text(f'data_dir = "{tmp_path / "data"}"\n')
    with environ_with(storage_env(config)):
        _roster_add_list_remove(["--config", str(config)], capsys)


def _roster_add_list_remove(args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["staff", "add", "sari", "--name", "Sari", "--role", "counsellor", *args]) == 0
    assert (
        main(["roster", "add", "sari", "--day", "senin", "--from", "08:00", "--to", "16:00", *args])
        == 0
    )
    assert (
        main(
            ["roster", "add", "sari", "--day", "hariku", "--from", "08:00", "--to", "16:00", *args]
        )
        == 1
    )
    assert "hariku" in capsys.readouterr().err
    assert main(["roster", "list", *args]) == 0
    assert "senin   08:00-16:00  sari" in capsys.readouterr().out
    assert main(["roster", "remove", "1", *args]) == 0
    assert main(["roster", "remove", "1", *args]) == 1
