"""What text the database can keep, and the one rule every edge applies before storing.

PostgreSQL's `text` cannot hold the NUL character (U+0000), and neither database can
encode a lone surrogate (U+D800..U+DFFF, which a Python string may carry after a lax
decode) as UTF-8. SQLite kept a NUL; PostgreSQL refuses the whole statement, and a
refusal deep in a transaction is a 500 for staff or, worse, a family's message lost.
So text is made storable where it enters, never discovered unstorable at the bottom:

- a family's message (every channel builds a `bot.channels.base.Inbound`): `storable`
  turns each such character into U+FFFD, the replacement character, so the message is
  kept, crisis-checked and answered like any other; the family meant nothing by an
  invisible control character, and a person reading it sees where one was;
- a staff member's form field, URL or cookie in the console: `unstorable` says the
  request is refused with a kind 400 before anything reads the database;
- configuration and command-line values (names, codes, paths): refused with a
  message naming the setting (`check_storable`), as any other bad setting is.
"""

from __future__ import annotations

import re

__all__ = [
    "REPLACEMENT",
    "UnstorableText",
    "check_storable",
    "check_storable_tree",
    "storable",
    "unstorable",
]

REPLACEMENT = "\ufffd"
"""What a character the database cannot keep becomes in a family's message."""

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


class UnstorableText(ValueError):
    """A configured or typed value holds a character no database here can keep."""


def unstorable(text: str) -> bool:
    """Whether `text` holds a character the database cannot keep (NUL, a lone surrogate)."""
    return _UNSTORABLE.search(text) is not None


def storable(text: str) -> str:
    """`text` with each character the database cannot keep replaced by U+FFFD."""
    return _UNSTORABLE.sub(REPLACEMENT, text) if unstorable(text) else text


def check_storable(value: str, what: str) -> str:
    """`value` unchanged, or UnstorableText naming `what` (the value itself is not echoed:
    it may be a secret or a person's words)."""
    if unstorable(value):
        raise UnstorableText(f"{what} holds a NUL character or another that cannot be stored")
    return value


def check_storable_tree(value: object, where: str) -> None:
    """`check_storable` on every key and string in a parsed file (tables, arrays, values),
    naming the first one refused by its dotted place (`office.name`, `hotlines.0.name`)."""
    if isinstance(value, str):
        check_storable(value, f"{where!r}" if where else "a value")
    elif isinstance(value, dict):
        for key, item in value.items():
            place = f"{where}.{key}" if where else str(key)
            check_storable(str(key), f"a key in {where!r}" if where else "a key")
            check_storable_tree(item, place)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            check_storable_tree(item, f"{where}.{index}")
