"""The bot's own words: replies outside any flow, loaded from `texts.toml`.

Kept as data beside the code so that the wording can be changed without a
programmer, and checked at start-up so that a missing translation is found
before a family meets it.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from bot.errors import BotError

__all__ = ["BotTexts", "TextsError"]

_DEFAULT_PATH = Path(__file__).with_name("texts.toml")


class TextsError(BotError):
    """The texts file is malformed or lacks a translation."""


@dataclass(frozen=True, slots=True)
class BotTexts:
    """Translated texts by dotted key (`unsupported.photo`)."""

    entries: Mapping[str, Mapping[str, str]]
    languages: tuple[str, ...]

    @classmethod
    def load(cls, path: Path = _DEFAULT_PATH, languages: Sequence[str] = ("id", "en")) -> BotTexts:
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise TextsError(f"{path.name}: cannot be read: {exc}") from None
        entries: dict[str, dict[str, str]] = {}
        _collect(raw, "", entries, path.name)
        for key, table in entries.items():
            for lang in languages:
                if not table.get(lang, "").strip():
                    raise TextsError(f"{path.name}: '{key}' has no text for language '{lang}'")
        return cls(entries=entries, languages=tuple(languages))

    @classmethod
    @cache
    def bundled(cls) -> BotTexts:
        return cls.load()

    def get(self, key: str, language: str, **values: str) -> str:
        """The text for `key` in `language` (else the first language), placeholders filled."""
        table = self.entries.get(key)
        if table is None:
            raise TextsError(f"texts.toml: no text '{key}'")
        text = table.get(language) or table[self.languages[0]]
        return text.format_map(_Keep(values))


class _Keep(dict[str, str]):
    """Leaves an unknown placeholder visible rather than failing a reply to a family."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def _collect(node: object, prefix: str, out: dict[str, dict[str, str]], where: str) -> None:
    if not isinstance(node, dict):
        raise TextsError(f"{where}: '{prefix}' must be a table")
    if node and all(isinstance(v, str) for v in node.values()):
        out[prefix] = dict(node)
        return
    for key, value in node.items():
        _collect(value, f"{prefix}.{key}" if prefix else key, out, where)
