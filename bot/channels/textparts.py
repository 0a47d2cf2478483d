"""Cutting a reply to a transport's size and finding its emphasis, without any SDK.

Flow texts mark emphasis WhatsApp-style (`*menu*`); a transport without that
markup shows the words bold through spans instead of stray asterisks. Long texts
are split at paragraph boundaries first, then lines, then words, so a part never
stops in the middle of a sentence when it need not.
"""

from __future__ import annotations

import re
from collections.abc import Callable

__all__ = ["bold_spans", "split_text", "utf16_len"]

# `*word*` or `*a few words*`: the asterisks touch the words, on one line.
_EMPHASIS = re.compile(r"(?<![\w*])\*(?=[^\s*])([^*\n]*?[^\s*])\*(?![\w*])")
_SEPARATORS = ("\n\n", "\n", " ")


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit Telegram counts offsets and limits in."""
    return len(text.encode("utf-16-le")) // 2


def bold_spans(text: str) -> tuple[str, tuple[tuple[int, int], ...]]:
    """The text without emphasis asterisks, and (offset, length) of each bold span in UTF-16."""
    out: list[str] = []
    spans: list[tuple[int, int]] = []
    position = 0
    units = 0
    for match in _EMPHASIS.finditer(text):
        before = text[position : match.start()]
        out.append(before)
        units += utf16_len(before)
        inner = match.group(1)
        spans.append((units, utf16_len(inner)))
        out.append(inner)
        units += utf16_len(inner)
        position = match.end()
    out.append(text[position:])
    return "".join(out), tuple(spans)


def emphasis_parts(text: str) -> tuple[tuple[str, bool], ...]:
    """The text cut into (piece, bold) runs at its `*emphasis*` marks, asterisks dropped.

    For pages that draw the bot's words themselves (the web chat): each piece is
    escaped where it is shown, so a mark never becomes markup of its own.
    """
    parts: list[tuple[str, bool]] = []
    position = 0
    for match in _EMPHASIS.finditer(text):
        if match.start() > position:
            parts.append((text[position : match.start()], False))
        parts.append((match.group(1), True))
        position = match.end()
    if position < len(text) or not parts:
        parts.append((text[position:], False))
    return tuple(parts)


def split_text(text: str, limit: int, measure: Callable[[str], int] = len) -> list[str]:
    """Parts of at most `limit` (by `measure`), cut at paragraphs, else lines, else words."""
    if limit < 1:
        raise ValueError(f"split_text: limit must be at least 1, not {limit}")
    if measure(text) <= limit:
        return [text] if text.strip() else []
    for separator in _SEPARATORS:
        chunks = text.split(separator)
        if len(chunks) > 1:
            return _pack(chunks, separator, limit, measure)
    return _cut(text, limit, measure)


def _pack(
    chunks: list[str], separator: str, limit: int, measure: Callable[[str], int]
) -> list[str]:
    """Joins chunks back with `separator` into parts as large as the limit allows."""
    parts: list[str] = []
    current: str | None = None
    for chunk in chunks:
        pieces = split_text(chunk, limit, measure) if measure(chunk) > limit else [chunk]
        for piece in pieces:
            candidate = piece if current is None else current + separator + piece
            if measure(candidate) <= limit:
                current = candidate
            else:
                if current is not None:
                    parts.append(current)
                current = piece
    if current is not None:
        parts.append(current)
    # Whitespace at a cut is not shown by a transport anyway.
    return [part.strip() for part in parts if part.strip()]


def _cut(text: str, limit: int, measure: Callable[[str], int]) -> list[str]:
    """A word longer than the limit: cut it where the limit falls."""
    parts: list[str] = []
    start = 0
    while start < len(text):
        end = min(len(text), start + limit)
        while end > start + 1 and measure(text[start:end]) > limit:
            end -= max(1, (measure(text[start:end]) - limit) // 2)
        parts.append(text[start:end])
        start = end
    return parts
