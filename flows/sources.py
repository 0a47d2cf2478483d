"""Turning one file's TOML source into a Flow or Globals (tomllib, migrations, phase one).

Why separate from the loader: archived versions arrive as source text from the
host's storage, not as files, and must be read exactly as the files are.
"""

from __future__ import annotations

import hashlib
import tomllib
from collections.abc import Sequence
from typing import Any

from flows.errors import Problem
from flows.migrations import MigrationError, migrate
from flows.model import REQUIRED_GLOBAL_TEXTS, Flow, Globals
from flows.structure import Reader


def content_version(source: str) -> str:
    """A flow's content version: the first 12 hex digits of the SHA-256 of its source."""
    return hashlib.sha256(source.encode("utf-8")).hexdigest()[:12]


def read_toml(source: str, file: str) -> tuple[dict[str, Any] | None, list[Problem]]:
    """Parsed and migrated data, or the problems that stopped it."""
    try:
        data = tomllib.loads(source)
    except tomllib.TOMLDecodeError as exc:
        return None, [Problem(file, (), f"not valid TOML: {exc}")]
    except RecursionError:  # tomllib recurses into nested arrays and tables
        return None, [Problem(file, (), "not valid TOML: nested too deeply")]
    try:
        return migrate(data), []
    except MigrationError as exc:
        return None, [Problem(file, ("spec_version",) if "spec_version" in data else (), str(exc))]


def parse_flow(
    source: str, file: str, languages: Sequence[str], max_choices: int
) -> tuple[Flow | None, list[Problem]]:
    """A Flow from its TOML source (phase one only), or every structural problem."""
    data, problems = read_toml(source, file)
    if data is None:
        return None, problems
    reader = Reader(file, languages)
    flow = reader.flow(data, content_version(source), max_choices)
    return flow, reader.problems


def parse_globals(
    source: str, file: str, languages: Sequence[str]
) -> tuple[Globals | None, list[Problem]]:
    """The globals file from its TOML source (phase one only)."""
    data, problems = read_toml(source, file)
    if data is None:
        return None, problems
    reader = Reader(file, languages)
    return reader.globals(data, REQUIRED_GLOBAL_TEXTS), reader.problems
