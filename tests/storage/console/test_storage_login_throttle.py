"""Failed sign-ins counted in the database (storage.console.throttle): two processes on one
database (two stores here) share one limit per address and one lock per unknown name, even
when their attempts come at the same moment, and neither address nor name is kept."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from storage_support import T0, open_store, raw_query
from support import Clock

from storage.console.repo import LockSteps
from storage.crypto.keys import KeyRing
from storage.store import Store

WINDOW = timedelta(minutes=15)
LOCK = LockSteps(free=3, first_us=30_000_000, longest_us=900_000_000)


@pytest.fixture
async def pair(db_path: Path, keyring: KeyRing, clock: Clock) -> AsyncIterator[tuple[Store, Store]]:
    a = await open_store(db_path, keyring, clock=clock)
    b = await open_store(db_path, keyring, clock=clock)
    try:
        yield a, b
    finally:
        await b.close()
        await a.close()


async def test_one_address_has_one_limit_whichever_process_it_reaches(
    pair: tuple[Store, Store],
) -> None:
    a, b = pair
    for n in range(4):
        store = a if n % 2 == 0 else b
        assert await store.login_throttle.reserve_address("password", "10.0.0.9", T0, 4, WINDOW)
    assert not await a.login_throttle.reserve_address("password", "10.0.0.9", T0, 4, WINDOW)
    assert not await b.login_throttle.reserve_address("password", "10.0.0.9", T0, 4, WINDOW)
    # The second factor counts apart, and so does another address.
    assert await b.login_throttle.reserve_address("totp", "10.0.0.9", T0, 4, WINDOW)
    assert await b.login_throttle.reserve_address("password", "10.0.0.8", T0, 4, WINDOW)
    # A right password takes its attempt back; the window moves on.
    await a.login_throttle.release_address("password", "10.0.0.9", T0)
    assert await b.login_throttle.reserve_address("password", "10.0.0.9", T0, 4, WINDOW)
    later = T0 + WINDOW + timedelta(seconds=1)
    assert await a.login_throttle.reserve_address("password", "10.0.0.9", later, 4, WINDOW)


async def test_attempts_at_the_same_moment_in_two_processes_never_pass_the_limit(
    pair: tuple[Store, Store],
) -> None:
    a, b = pair
    tries = [
        store.login_throttle.reserve_address("password", "10.0.0.7", T0, 5, WINDOW)
        for _ in range(10)
        for store in (a, b)
    ]
    assert sum(await asyncio.gather(*tries)) == 5


async def test_a_name_nobody_has_is_locked_in_every_process_alike(
    pair: tuple[Store, Store],
) -> None:
    a, b = pair
    for store in (a, b, a):  # three free failures, the third sets the first lock
        assert await store.login_throttle.reserve_name("tidakada", T0, LOCK)
    assert not await b.login_throttle.reserve_name("tidakada", T0, LOCK)
    after = T0 + timedelta(seconds=31)
    assert not await b.login_throttle.reserve_name("tidakada", after, LOCK, only_if_clean=True)
    assert await b.login_throttle.reserve_name("tidakada", after, LOCK)
    assert await a.login_throttle.reserve_name("lainnya", T0, LOCK, only_if_clean=True)


async def test_neither_the_address_nor_the_name_is_kept(
    pair: tuple[Store, Store], db_path: Path
) -> None:
    a, _ = pair
    assert await a.login_throttle.reserve_address("password", "203.0.113.77", T0, 4, WINDOW)
    assert await a.login_throttle.reserve_name("rahasia-nama", T0, LOCK)
    rows = [
        *raw_query(db_path, "SELECT scope, address_bidx, at FROM login_failures"),
        *raw_query(db_path, "SELECT name_bidx, failures FROM login_names"),
    ]
    seen = repr(rows)
    assert rows and "203.0.113" not in seen and "rahasia" not in seen
