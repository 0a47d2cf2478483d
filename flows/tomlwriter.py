"""A small TOML writer for golden transcripts (`--update` rewrites expected outputs).

Why our own: the standard library reads TOML but does not write it, and the
transcripts need only strings, numbers, booleans, datetimes, arrays and tables.
Multi-line texts are written as multi-line strings so reviewers can read them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date, datetime, time
from typing import Any

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")
_ESCAPES = {"\\": "\\\\", '"': '\\"', "\b": "\\b", "\t": "\\t", "\f": "\\f", "\r": "\\r"}


def _escape(text: str, *, multiline: bool) -> str:
    out: list[str] = []
    for ch in text:
        if ch == "\n" and multiline:
            out.append("\n")
        elif ch == "\n":
            out.append("\\n")
        elif ch in _ESCAPES and not (multiline and ch == "\t"):
            out.append(_ESCAPES[ch])
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return "".join(out)


def key(name: str) -> str:
    return name if _BARE_KEY.match(name) else f'"{_escape(name, multiline=False)}"'


def value(item: Any, indent: str = "") -> str:
    if isinstance(item, bool):
        return "true" if item else "false"
    if isinstance(item, int | float):
        return repr(item)
    if isinstance(item, str):
        if "\n" in item:
            return '"""\n' + _escape(item, multiline=True) + '"""'
        return f'"{_escape(item, multiline=False)}"'
    if isinstance(item, datetime | date | time):
        return item.isoformat()
    if isinstance(item, Mapping):
        inner = ", ".join(f"{key(k)} = {value(v)}" for k, v in item.items())
        return "{ " + inner + " }" if inner else "{}"
    if isinstance(item, Sequence):
        if not item:
            return "[]"
        if indent and all(isinstance(v, str) and "\n" not in v for v in item):
            inline = "[" + ", ".join(value(v) for v in item) + "]"
            if len(inline) <= 80:
                return inline  # a short row inside an array: [value, label]
        rows = "".join(f"{indent}  {value(v, indent + '  ')},\n" for v in item)
        return "[\n" + rows + indent + "]"
    raise TypeError(f"cannot write a {type(item).__name__} as TOML")


def _is_table_array(item: Any) -> bool:
    return isinstance(item, list) and bool(item) and all(isinstance(x, Mapping) for x in item)


def dumps(data: Mapping[str, Any]) -> str:
    """TOML text for `data`: top-level tables as [sections], arrays of tables as [[...]]."""
    lines: list[str] = []
    _table(data, (), lines, inline_nested=False)
    return "\n".join(lines).strip("\n") + "\n"


def _table(
    data: Mapping[str, Any], path: tuple[str, ...], lines: list[str], *, inline_nested: bool
) -> None:
    nested = {k: v for k, v in data.items() if isinstance(v, Mapping) and not inline_nested}
    arrays = {k: v for k, v in data.items() if _is_table_array(v)}
    for k, v in data.items():
        if k not in nested and k not in arrays:
            lines.append(f"{key(k)} = {value(v)}")
    for k, v in nested.items():
        lines += ["", f"[{'.'.join(key(p) for p in path + (k,))}]"]
        _table(v, path + (k,), lines, inline_nested=True)
    for k, items in arrays.items():
        for item in items:
            lines += ["", f"[[{'.'.join(key(p) for p in path + (k,))}]]"]
            _table(item, path + (k,), lines, inline_nested=True)
