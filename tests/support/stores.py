"""Opening a store for a test: on the file at a path, or, with `--db postgres`, on a
database of the session's throwaway server standing for that file (`support.pgserver`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from storage.crypto.keys import KeyRing
from storage.store import Store
from support import pgserver

__all__ = ["open_store"]


async def open_store(path: Path, keyring: KeyRing, **options: Any) -> Store:
    """`Store.open` on the file at `path`, or on a PostgreSQL database standing for it."""
    server = pgserver.ACTIVE
    if server is not None and "url" not in options:
        options["url"] = server.database_for(path)
    return await Store.open(path, keyring, **options)
