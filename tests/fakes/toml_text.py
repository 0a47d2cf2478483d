"""Writes nested data back as TOML text, for tests that hand loaders mutated files.

Only what tomllib reads back: tables, arrays, strings, integers, floats, booleans.
"""

from __future__ import annotations

import json
import math
from typing import Any


def toml_text(data: dict[str, Any]) -> str:
    """The TOML document for `data` (inline tables below the top level)."""
    return "".join(f"{_key(k)} = {_value(v)}\n" for k, v in data.items())


def _key(key: str) -> str:
    return _string(str(key))


def _string(text: str) -> str:
    # JSON's escapes are TOML's basic-string escapes; DEL and surrogates need care.
    clean = text.encode("utf-8", "replace").decode("utf-8")
    return json.dumps(clean, ensure_ascii=False).replace("\x7f", "\\u007f")


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else ("nan" if value != value else "inf")
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_key(k)} = {_value(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    return _string(str(value))
