"""Fixtures for storage tests: real files in tmp_path (or, with `--db postgres`, a database
standing for each), real aiosqlite or asyncpg, an injected clock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from storage_support import T0, open_store
from support import Clock

from storage.crypto.keys import KeyRing
from storage.store import Store


@pytest.fixture
def clock() -> Clock:
    return Clock(T0)


@pytest.fixture
def keyring() -> KeyRing:
    return KeyRing.generate()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "lk3.db"


@pytest.fixture
async def store(db_path: Path, keyring: KeyRing, clock: Clock) -> AsyncIterator[Store]:
    opened = await open_store(db_path, keyring, clock=clock)
    try:
        yield opened
    finally:
        await opened.close()
