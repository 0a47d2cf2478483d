"""Fixtures for console tests: a real store in tmp_path, the console on a fake clock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from console_support import T0, make_console, make_office
from support import Clock
from support.stores import open_store

from bot.console.core import Console
from bot.console.office import Office
from storage.crypto.keys import KeyRing
from storage.store import Store


@pytest.fixture
def clock() -> Clock:
    return Clock(T0)


@pytest.fixture
async def store(tmp_path: Path, clock: Clock) -> AsyncIterator[Store]:
    opened = await open_store(tmp_path / "lk3.db", KeyRing.generate(), clock=clock)
    try:
        yield opened
    finally:
        await opened.close()


@pytest.fixture
async def other(tmp_path: Path, store: Store, clock: Clock) -> AsyncIterator[Store]:
    """Another process's store: the same database, master key and key tree as `store`
    (a second `lk3 run`, or `lk3 office add` from another shell)."""
    opened = await open_store(
        tmp_path / "lk3.db", store._vault.keyring, clock=clock, keytree=store._vault.tree.path
    )
    try:
        yield opened
    finally:
        await opened.close()


@pytest.fixture
async def office(store: Store, clock: Clock) -> Office:
    return await make_office(store, clock)


@pytest.fixture
def console(store: Store, clock: Clock, office: Office) -> Console:
    return make_console(store, clock, office=office)
