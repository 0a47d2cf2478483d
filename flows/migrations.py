"""Spec-version migrations: upgrade an older flow file's data as it loads.

Why a registry: files written against an older language keep working; each step
`n -> n+1` is one registered function with a fixture (tests/flows/migrations/).
A file newer than `CURRENT_SPEC` is refused, never guessed at.

Spec 0 was the draft form of the language (before December 2025):
- a node's messages were under `text` (now `say`), and a single text table was
  allowed where `say` now wants an array;
- a question's choices were under `ask.options` (now `ask.choices`).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

CURRENT_SPEC = 1

Data = dict[str, Any]
Migration = Callable[[Data], Data]

MIGRATIONS: dict[int, Migration] = {}


def migration(from_version: int) -> Callable[[Migration], Migration]:
    """Registers the function that upgrades data from `from_version` to the next version."""

    def register(func: Migration) -> Migration:
        MIGRATIONS[from_version] = func
        return func

    return register


@migration(0)
def _draft_to_v1(data: Data) -> Data:
    """Renames `text` to `say` (wrapping a lone text in an array) and `options` to `choices`."""
    nodes = data.get("nodes")
    if isinstance(nodes, list):
        for node in nodes:
            if not isinstance(node, dict):
                continue
            if "text" in node and "say" not in node:
                text = node.pop("text")
                node["say"] = [text] if isinstance(text, dict) else text
            ask = node.get("ask")
            if isinstance(ask, dict) and "options" in ask and "choices" not in ask:
                ask["choices"] = ask.pop("options")
    return data


class MigrationError(ValueError):
    """The spec_version cannot be migrated (missing, wrong type, or newer than this code)."""


def migrate(data: Data) -> Data:
    """A copy of `data` upgraded to CURRENT_SPEC, or MigrationError saying why not."""
    version = data.get("spec_version")
    if "spec_version" not in data:
        raise MigrationError("missing key 'spec_version'")
    if isinstance(version, bool) or not isinstance(version, int) or version < 0:
        raise MigrationError(f"must be a whole number >= 0, not {version!r}")
    if version > CURRENT_SPEC:
        raise MigrationError(
            f"version {version} is newer than this program understands "
            f"(it reads up to {CURRENT_SPEC}); upgrade the bot before using this file"
        )
    upgraded = copy.deepcopy(data)
    while version < CURRENT_SPEC:
        upgraded = MIGRATIONS[version](upgraded)
        version += 1
        upgraded["spec_version"] = version
    return upgraded
