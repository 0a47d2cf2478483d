"""Only ASCII digits are a number: a superscript or another script's digit is not."""

from __future__ import annotations

import pytest

from bot.digits import digits


@pytest.mark.parametrize("text", ["0", "7", "2026", b"123"])
def test_ascii_digits_are_a_number(text: str | bytes) -> None:
    assert digits(text)


@pytest.mark.parametrize("text", ["", "¹", "²3", "٣", "1.5", "-1", " 1", "１", b"", b"\xb9"])
def test_anything_else_is_not(text: str | bytes) -> None:
    assert not digits(text)
