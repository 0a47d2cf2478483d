"""Small helpers shared by the repositories: row keys and reading stored values back."""

from __future__ import annotations

import os
from collections.abc import Sized
from typing import Any

__all__ = ["new_rid", "as_bytes", "marks"]

RID_BYTES = 16


def new_rid() -> bytes:
    """A random row key, known before INSERT, that binds a row's ciphertexts to that row."""
    return os.urandom(RID_BYTES)


def marks(values: Sized) -> str:
    """The `?, ?, ?` of an `IN (...)` list with one parameter per value."""
    return ", ".join("?" * len(values))


def as_bytes(value: Any) -> bytes:
    """A BLOB column as bytes (SQLite hands back bytes; memoryview is tolerated)."""
    return bytes(value)
