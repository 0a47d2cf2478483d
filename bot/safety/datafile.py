"""Reading the classifier's TOML data with errors that say which file and which key."""

from __future__ import annotations

import tomllib
from typing import Any

from bot.safety.errors import SafetyDataError


def parse_toml(text: str, source: str) -> dict[str, Any]:
    """Parses TOML text, reporting a syntax error against its file name."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SafetyDataError(f"{source}: invalid TOML: {exc}") from None


def fail(source: str, path: str, problem: str) -> SafetyDataError:
    """Builds an error in the checker's shape: ``file: path -> path: problem``."""
    return SafetyDataError(f"{source}: {path}: {problem}" if path else f"{source}: {problem}")


def check_keys(table: dict[str, Any], allowed: set[str], source: str, path: str) -> None:
    """Refuses keys the format does not know, so that a typo is not silently ignored."""
    for key in table:
        if key not in allowed:
            raise fail(
                source, path, f"unknown key '{key}' (expected one of: {', '.join(sorted(allowed))})"
            )


def string_list(value: object, source: str, path: str) -> list[str]:
    """Checks that a value is a list of non-empty strings."""
    if not isinstance(value, list):
        raise fail(source, path, "must be a list of strings")
    for index, item in enumerate(value):
        if not isinstance(item, str) or not item.strip():
            raise fail(source, f"{path}[{index}]", "must be a non-empty string")
    return [item.strip() for item in value]


def check_spec_version(data: dict[str, Any], source: str) -> None:
    """Accepts only the data format version this code understands."""
    version = data.get("spec_version")
    if version != 1:
        raise fail(source, "spec_version", f"must be 1, found {version!r}")
