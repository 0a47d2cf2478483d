"""The labelled corpus: messages with the level a counsellor gave them, split by file.

A line is ``level<TAB>category<TAB>style<TAB>text<TAB>reason`` (see ``docs/safety.md`` for
the definitions); the short form ``level<TAB>text`` is read too, for files people write by
hand. Blank lines and lines starting with ``#`` are ignored.

The bundled corpus lives in ``corpus/<split>/*.tsv``: ``train`` is what the learned layer
learns from, ``dev`` is what thresholds and rules are tuned on, and ``test`` is written by
people who never saw the lexicon or the rules and is used for nothing but the final figures.
Once anyone has looked at its misses to fix them it is a dev set, and a fresh blind one is
written.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path

from bot.safety.datafile import fail
from bot.safety.levels import Level

SPLITS = ("train", "dev", "test")
UNKNOWN = "-"
CATEGORIES = frozenset(
    {
        "suicide",
        "self_harm",
        "violence_now",
        "child_danger",
        "sexual_violence",
        "trafficking",
        "lethal_place",
        "homicide",
        "hopelessness",
        "passive_death_wish",
        "fear_at_home",
        "past_violence",
        "distress",
        "service",
        "greeting",
        "family_problem",
        "information_request",
        "figure_of_speech",
        "retelling",
        UNKNOWN,
    }
)
STYLES = frozenset({"standard", "ambon", "jakarta", "typo", "english", "mixed", UNKNOWN})


@dataclass(frozen=True, slots=True)
class Example:
    """One labelled message."""

    level: Level
    text: str
    category: str = UNKNOWN
    style: str = UNKNOWN
    reason: str = ""


def parse_examples(text: str, source: str) -> tuple[Example, ...]:
    """Parses a corpus file; a malformed line is reported by file and line number."""
    examples: list[Example] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        where = f"line {number}"
        fields = line.split("\t")
        if len(fields) == 2:
            label, message = fields
            category, style, reason = UNKNOWN, UNKNOWN, ""
        elif len(fields) == 5:
            label, category, style, message, reason = fields
        else:
            raise fail(
                source, where, "expected 'level<TAB>category<TAB>style<TAB>text<TAB>reason'"
            )
        if label not in {level.value for level in Level}:
            raise fail(source, where, f"unknown level '{label}' (expected urgent, check or none)")
        if category not in CATEGORIES:
            raise fail(source, where, f"unknown category '{category}'")
        if style not in STYLES:
            raise fail(source, where, f"unknown style '{style}'")
        if not message.strip():
            raise fail(source, where, "the text is empty")
        examples.append(Example(Level(label), message, category, style, reason.strip()))
    return tuple(examples)


def read_examples(path: Path) -> tuple[Example, ...]:
    """Reads one corpus file from disk; errors name the file."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise fail(str(path), "", f"cannot be read ({type(exc).__name__})") from None
    return parse_examples(text, str(path))


def _split_dir(split: str) -> Traversable:
    if split not in SPLITS:
        raise ValueError(f"unknown corpus split {split!r} (expected one of {', '.join(SPLITS)})")
    return files("bot.safety").joinpath("corpus", split)


def split_files(split: str) -> tuple[str, ...]:
    """The bundled files of one split, by name."""
    return tuple(
        sorted(item.name for item in _split_dir(split).iterdir() if item.name.endswith(".tsv"))
    )


def bundled_split(split: str) -> tuple[Example, ...]:
    """Every example of one bundled split (``train``, ``dev`` or ``test``)."""
    folder = _split_dir(split)
    out: list[Example] = []
    for name in split_files(split):
        text = folder.joinpath(name).read_text(encoding="utf-8")
        out.extend(parse_examples(text, f"corpus/{split}/{name}"))
    return tuple(out)
