"""The master key and the key tree must never sit where the database or its copies go.

Crypto-shredding rests on this: an erased family's data stays in every backup, and
only the destroyed key leaf makes it unreadable. A key folder (or key file) inside
the data folder or the backup folder would travel with those copies, so the copies
would carry the very keys that open them. `load_config` refuses such a setting at
once, with the setting to change.
"""

from __future__ import annotations

import os
from pathlib import Path

from bot.configvalues import ConfigError

__all__ = ["check_key_places"]


def _real(path: Path) -> Path:
    """The absolute, normalised path (symbolic links followed where they exist)."""
    if "\x00" in str(path):  # no file system takes it: a config error, not a crash
        raise ConfigError(f"Config path {str(path)!r} holds a NUL character")
    return Path(os.path.realpath(path.expanduser()))


def check_key_places(
    *, data_dir: Path, backups: Path, keys_dir: Path | None, key_file: Path | None
) -> None:
    """ConfigError when `keys_dir` or `key_file` lies in (or is) the data or backup folder."""
    folders = {"data_dir": _real(data_dir), "backup_dir": _real(backups)}
    for key, place in (("keys_dir", keys_dir), ("key_file", key_file)):
        if place is None:
            continue
        where = _real(place)
        for name, folder in folders.items():
            if where == folder or where.is_relative_to(folder):
                raise ConfigError(
                    f"Config '{key}' has value '{place}', inside {name} ('{folder}'). The"
                    " master key and the key tree must live apart from the database and its"
                    " backups (a copy of one must never carry the other): choose a folder"
                    " outside both, such as '/var/lib/lk3-keys'."
                )
