"""Reading one setting of the configuration file: typed, checked, and named when wrong.

A bad value stops start-up with a `ConfigError` that names the key and what is
wrong with its value (never the value of a secret: those are only checked for
presence and shape by their sections).

    ConfigError
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.errors import BotError

__all__ = ["KNOWN_LANGUAGES", "ConfigError", "read_bool", "read_int", "read_str", "read_url"]

KNOWN_LANGUAGES = ("id", "en")


class ConfigError(BotError):
    """A setting is missing, unknown or has a value the bot cannot use."""


def _name(section: str, key: str) -> str:
    return f"{section}.{key}" if section else key


def read_str(table: Mapping[str, Any], key: str, default: str, section: str = "") -> str:
    value = table.get(key, default)
    if not isinstance(value, str):
        raise ConfigError(
            f"Config '{_name(section, key)}' must be a string, not {type(value).__name__}"
        )
    return value


def read_bool(table: Mapping[str, Any], key: str, default: bool, section: str) -> bool:
    value = table.get(key, default)
    if not isinstance(value, bool):
        raise ConfigError(f"Config '{_name(section, key)}' has value {value!r}. Not true or false.")
    return value


def read_int(
    table: Mapping[str, Any], key: str, default: int, lo: int, hi: int, section: str = ""
) -> int:
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(
            f"Config '{_name(section, key)}' has value {value!r}. Not a valid integer."
        )
    if not lo <= value <= hi:
        raise ConfigError(
            f"Config '{_name(section, key)}' has value {value}. It must be between {lo} and {hi}."
        )
    return value


def read_url(table: Mapping[str, Any], key: str, default: str, section: str) -> str:
    value = read_str(table, key, default, section)
    if value and not value.startswith(("http://", "https://")):
        raise ConfigError(f"Config '{section}.{key}' has value {value!r}. Not an http(s) URL.")
    return value
