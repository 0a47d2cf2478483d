"""Small helpers shared by the repositories: row keys and reading stored values back."""

from __future__ import annotations

import os
from typing import Any

__all__ = ["new_rid", "as_bytes"]

RID_BYTES = 16


def new_rid() -> bytes:
    """A random row key, known before INSERT, that binds a row's ciphertexts to that row."""
    return os.urandom(RID_BYTES)


def as_bytes(value: Any) -> bytes:
    """A BLOB column as bytes (SQLite hands back bytes; memoryview is tolerated)."""
    return bytes(value)
