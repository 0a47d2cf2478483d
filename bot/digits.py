"""Whether a string is a plain number: ASCII digits only.

`str.isdigit()` is also true of superscripts and other scripts' digits ("¹", "٣"),
which `int()` refuses (or reads as another number): everything typed, posted or put in a
header is checked with this before it is turned into a number.
"""

from __future__ import annotations

__all__ = ["digits"]


def digits(text: str | bytes) -> bool:
    """True for one or more ASCII digits and nothing else."""
    return text.isascii() and text.isdigit()
