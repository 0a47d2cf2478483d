"""The data folder: created private, and kept private.

It holds the database, the key tree, logs and (by default) the master key file;
nobody but the bot's own user should be able to list or read it.
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

__all__ = ["secure_data_dir"]

log = logging.getLogger(__name__)


def secure_data_dir(path: Path) -> None:
    """Creates the folder with mode 0700, or narrows an existing one to 0700."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        os.chmod(path, 0o700)
        log.warning("data folder %s was open to others (mode %o); now 0700", path, mode)
