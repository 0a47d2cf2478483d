"""`lk3 office`: one office out of the box, more added by code, staff moved between them."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main


def _config(tmp_path: Path) -> list[str]:
    config = tmp_path / "lk3.toml"
    config.write_text(f'data_dir = "{tmp_path / "data"}"\n[office]\nname = "LK3 Maluku"\n')
    return ["--config", str(config)]


def test_one_office_needs_no_setting_and_is_named_by_the_configuration(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = _config(tmp_path)
    assert main(["office", "list", *args]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out == ["   1  utama                LK3 Maluku (from the configuration)"]


def test_offices_are_added_listed_and_refused_in_both_languages(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = _config(tmp_path)
    assert main(["office", "add", "ambon", "LK3 Kota Ambon", *args]) == 0
    assert "added office ambon (LK3 Kota Ambon), id 2" in capsys.readouterr().out
    assert main(["office", "add", "tual", "LK3 Kota Tual", *args]) == 0
    assert main(["office", "add", "Ambon", "Lagi", *args]) == 1
    err = capsys.readouterr().err
    assert "kode kantor 'ambon' sudah dipakai" in err
    assert "the office code 'ambon' is already taken" in err
    assert main(["office", "add", "kota ambon", "X", *args]) == 1
    assert "lowercase letters" in capsys.readouterr().err
    assert main(["office", "list", *args]) == 0
    codes = [line.split()[1] for line in capsys.readouterr().out.splitlines()]
    assert codes == ["utama", "ambon", "tual"]


def test_a_staff_member_is_moved_to_an_office_by_code(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = _config(tmp_path)
    assert main(["staff", "add", "sari", "--name", "Sari", "--role", "counsellor", *args]) == 0
    assert main(["office", "add", "ambon", "LK3 Kota Ambon", *args]) == 0
    assert main(["office", "assign", "sari", "ambon", *args]) == 0
    assert "sari now works in ambon" in capsys.readouterr().out
    assert main(["office", "assign", "sari", "saumlaki", *args]) == 1
    assert "no office with the code 'saumlaki'" in capsys.readouterr().err
    assert main(["office", "assign", "nobody", "ambon", *args]) == 1


def test_a_staff_member_is_added_straight_into_an_office_and_listed_with_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = _config(tmp_path)
    assert main(["staff", "add", "sari", "--name", "Sari", "--role", "counsellor", *args]) == 0
    assert "in utama" in capsys.readouterr().out
    assert main(["staff", "list", *args]) == 0
    assert "utama" not in capsys.readouterr().out  # one office: the list as it always was
    assert main(["office", "add", "tual", "LK3 Kota Tual", *args]) == 0
    nona = ["staff", "add", "nona", "--name", "Nona", "--role", "counsellor", "--office", "tual"]
    assert main([*nona, *args]) == 0
    assert main(["staff", "add", "x1", "--name", "X", "--role", "admin", "--office", "aru", *args])
    assert "no office with the code 'aru'" in capsys.readouterr().err
    assert main(["staff", "list", *args]) == 0
    listing = capsys.readouterr().out.splitlines()
    assert [line.split()[1:3] for line in listing] == [["sari", "utama"], ["nona", "tual"]]


def test_closures_are_kept_per_office_from_the_command_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = _config(tmp_path)
    assert main(["office", "add", "tual", "LK3 Kota Tual", *args]) == 0
    day = "2031-07-03"
    close = ["booking", "closures", "add", day, "--reason", "Hari jadi Kota Tual"]
    assert main([*close, "--office", "tual", *args]) == 0
    assert main([*close, "--office", "tual", *args]) == 1  # already closed there
    assert main([*close, *args]) == 0  # the default office may close the same day
    capsys.readouterr()
    assert main(["booking", "closures", "list", "--office", "tual", *args]) == 0
    assert f"{day}  Hari jadi Kota Tual" in capsys.readouterr().out
    assert main(["booking", "closures", "remove", day, "--office", "tual", *args]) == 0
    capsys.readouterr()
    assert main(["booking", "closures", "list", "--office", "tual", *args]) == 0
    assert day not in capsys.readouterr().out
    assert main(["booking", "closures", "list", *args]) == 0
    assert day in capsys.readouterr().out
    assert main(["booking", "closures", "list", "--office", "aru", *args]) == 1


def test_an_office_is_renamed_and_archived_with_audit_rows(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The code stays (the links on posters keep working); the name may change. An archived
    office takes no new families and stays listed: its counts stay countable."""
    args = _config(tmp_path)
    assert main(["office", "add", "tual", "LK3 Kota Tual", *args]) == 0
    assert main(["office", "rename", "tual", "LK3 Kota Tual dan Maluku Tenggara", *args]) == 0
    assert "office tual is now named LK3 Kota Tual dan Maluku Tenggara" in capsys.readouterr().out
    assert main(["office", "archive", "tual", *args]) == 0
    assert "takes no new families" in capsys.readouterr().out
    assert main(["office", "archive", "tual", *args]) == 0  # twice: nothing more
    capsys.readouterr()
    assert main(["office", "list", *args]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert listed[1].split()[1] == "tual" and listed[1].endswith("(archived)")
    assert main(["office", "archive", "utama", *args]) == 1
    err = capsys.readouterr().err
    assert "kantor utama menerima setiap keluarga" in err
    assert "the default office takes every family" in err
    assert main(["office", "rename", "saumlaki", "X", *args]) == 1
    assert "no office with the code 'saumlaki'" in capsys.readouterr().err
    assert audit_actions(tmp_path) == ["office_renamed", "office_archived"]


def audit_actions(tmp_path: Path) -> list[str]:
    import sqlite3
    from contextlib import closing

    with closing(sqlite3.connect(tmp_path / "data" / "lk3.db")) as db:
        rows = db.execute("SELECT action FROM audit ORDER BY seq").fetchall()
    return [str(r[0]) for r in rows if str(r[0]).startswith("office_")]


def test_link_code_names_the_offices_own_bot_when_it_has_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "lk3.toml"
    config.write_text(
        f'data_dir = "{tmp_path / "data"}"\n[telegram]\ntoken = "111:a"\n'
        '[offices.tual.telegram]\ntoken = "222:b"\n'
    )
    args = ["--config", str(config)]
    assert main(["office", "add", "tual", "LK3 Kota Tual", *args]) == 0
    assert main(["staff", "add", "nona", "--name", "Nona", "--role", "counsellor", *args]) == 0
    assert main(["staff", "add", "sari", "--name", "Sari", "--role", "counsellor", *args]) == 0
    assert main(["office", "assign", "nona", "tual", *args]) == 0
    capsys.readouterr()
    assert main(["staff", "link-code", "nona", *args]) == 0
    assert "send office tual's own bot ([offices.tual.telegram]): /link" in capsys.readouterr().out
    assert main(["staff", "link-code", "sari", *args]) == 0
    assert "send the bot: /link" in capsys.readouterr().out
