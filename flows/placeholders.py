"""Placeholders in texts: `{office_name}`, `{answers.VAR}`, and `{{` / `}}` for braces.

Why a tiny parser of our own instead of `str.format`: format would raise on a
missing key or run attribute lookups; here a missing key is an author's mistake
that yields an error output while the conversation goes on.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

_NAME = re.compile(r"^(?:answers\.)?[A-Za-z_][A-Za-z0-9_]*$")

ANSWERS = "answers."


class TemplateSyntaxError(ValueError):
    """A text with an unbalanced brace or an invalid placeholder name (a load-time problem)."""


def parse(template: str) -> list[tuple[bool, str]]:
    """Splits a text into (is_placeholder, literal-or-name) parts."""
    return list(_parse(template))


# Every turn renders the same few hundred flow texts: parse each once, not per turn
# (it was a tenth of the flow engine's time). Bounded, and a syntax error is not cached.
@lru_cache(maxsize=2048)
def _parse(template: str) -> tuple[tuple[bool, str], ...]:
    parts: list[tuple[bool, str]] = []
    literal: list[str] = []
    i = 0
    while i < len(template):
        ch = template[i]
        if ch == "{" and template.startswith("{{", i):
            literal.append("{")
            i += 2
        elif ch == "}" and template.startswith("}}", i):
            literal.append("}")
            i += 2
        elif ch == "{":
            close = template.find("}", i + 1)
            if close < 0:
                raise TemplateSyntaxError("unclosed '{' (write '{{' for a literal brace)")
            name = template[i + 1 : close].strip()
            if not _NAME.match(name):
                raise TemplateSyntaxError(f"invalid placeholder name {name!r}")
            if literal:
                parts.append((False, "".join(literal)))
                literal = []
            parts.append((True, name))
            i = close + 1
        elif ch == "}":
            raise TemplateSyntaxError("unmatched '}' (write '}}' for a literal brace)")
        else:
            literal.append(ch)
            i += 1
    if literal:
        parts.append((False, "".join(literal)))
    return tuple(parts)


def names(template: str) -> list[str]:
    """The placeholder names a text uses, in order."""
    return [text for is_name, text in parse(template) if is_name]


def render(template: str, lookup: Callable[[str], str | None]) -> tuple[str, list[str]]:
    """The filled text and the names `lookup` could not provide (rendered empty)."""
    try:
        parts = _parse(template)
    except TemplateSyntaxError:
        return template, []
    out: list[str] = []
    missing: list[str] = []
    for is_name, text in parts:
        if not is_name:
            out.append(text)
            continue
        value = lookup(text)
        if value is None:
            missing.append(text)
        else:
            out.append(value)
    return "".join(out), missing
