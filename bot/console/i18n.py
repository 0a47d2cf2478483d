"""The console's words in Indonesian and English, from `texts.toml` (never in templates).

Loading checks that every key has both languages, so a missing translation is a
start-up error naming the key rather than a blank on a counsellor's screen.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

__all__ = ["LANGUAGES", "ConsoleTexts"]

LANGUAGES = ("id", "en")
_FILE = Path(__file__).with_name("texts.toml")


@dataclass(frozen=True, slots=True)
class ConsoleTexts:
    table: dict[str, dict[str, str]]

    @classmethod
    def load(cls, path: Path = _FILE) -> ConsoleTexts:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
        table: dict[str, dict[str, str]] = {}
        for key, value in raw.items():
            if not isinstance(value, dict) or set(value) != set(LANGUAGES):
                raise ValueError(f"{path.name}: text {key!r} needs exactly {LANGUAGES}")
            table[key] = {lang: str(value[lang]) for lang in LANGUAGES}
        return cls(table)

    def get(self, key: str, lang: str, **values: object) -> str:
        entry = self.table.get(key)
        if entry is None:
            raise KeyError(f"console text {key!r} is not in texts.toml")
        text = entry.get(lang, entry["id"])
        return text.format(**values) if values else text
