"""Where the bot keeps the keys of a data folder by default (bot.config.Config.keys_folder)."""

from __future__ import annotations

from pathlib import Path


def keys_of(data: Path) -> Path:
    """The keys folder beside `data`: `<data>-keys`, never inside it."""
    absolute = data.absolute()
    return absolute.with_name(absolute.name + "-keys")
