"""Configuration and command-line values with a character no database keeps are refused.

A NUL (a TOML `\\u0000` escape, an environment variable) or a byte that is not UTF-8 (a
lone surrogate in an argument) would be refused deep in PostgreSQL when a name or
code is stored: `lk3` says so first, naming the setting and never echoing its value.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main
from bot.config import ConfigError, load_config


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ('[office]\nname = "Kantor\\u0000Ambon"\n', "'office.name'"),
        ('[[hotlines]]\nname = "SAPA\\u0000"\nnumber = "129"\n', "'hotlines.0.name'"),
        ('"\\u0000" = 1\n', "a key"),
    ],
)
def test_a_nul_in_the_file_is_a_config_error_naming_the_setting(
    tmp_path: Path, text: str, named: str
) -> None:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as refused:
        load_config(path, env={})
    assert named in str(refused.value) and "Ambon" not in str(refused.value)


def test_a_nul_in_a_secret_from_the_environment_is_refused_without_echoing_it() -> None:
    with pytest.raises(ConfigError) as refused:
        load_config(None, env={"LK3_TELEGRAM_TOKEN": "123:rahasia\x00"})
    assert "LK3_TELEGRAM_TOKEN" in str(refused.value) and "rahasia" not in str(refused.value)


def test_an_argument_that_is_not_utf8_is_refused_before_anything_opens(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # What Python makes of the bytes `b"budi\xff"` in argv (surrogateescape).
    code = main(["staff", "add", "budi\udcff", "Budi", "--data", str(tmp_path / "data")])
    assert code == 2 and "cannot be stored" in capsys.readouterr().err
    assert not (tmp_path / "data").exists()
