"""Key rotation: online, in batches, resumable; afterwards the old master key can go."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from storage_support import message, open_store, raw_query, raw_update
from support import Clock

from storage.crypto.aead import seal
from storage.crypto.keys import KeyRing, MasterKey
from storage.crypto.keytree import default_tree_path
from storage.crypto.rotation import RotationProgress
from storage.crypto.vault import Vault, dek_place
from storage.engine.db import connect
from storage.errors import WrongKeyError
from storage.store import Store

CONTACTS = 23


class Interrupted(Exception):
    """Stands for the process dying between two batches."""


async def populate(db_path: Path, ring: KeyRing, clock: Clock) -> dict[str, str]:
    """Contacts written under the old key; returns transport id -> words, to check later."""
    words = {}
    async with await open_store(db_path, ring, clock=clock) as store:
        for n in range(CONTACTS):
            words[f"m{n}"] = f"cerita nomor {n}"
            await store.turns.receive("telegram", str(5000 + n), message(f"m{n}", words[f"m{n}"]))
    return words


async def everything_reads(store: Store, words: dict[str, str]) -> None:
    rows = await store.inbox.pending(limit=1000)
    assert {r.transport_id: r.text for r in rows} == words
    for row in rows:
        assert await store.contacts.address(row.contact_id) == str(5000 + int(row.transport_id[1:]))


async def test_rotation_interrupted_mid_way_resumes_and_loses_nothing(
    db_path: Path, clock: Clock
) -> None:
    old, new = MasterKey.generate(), MasterKey.generate()
    words = await populate(db_path, KeyRing((old,), "old"), clock)
    both = KeyRing((new, old), "new first")
    seen: list[RotationProgress] = []

    def crash_after_two(progress: RotationProgress) -> None:
        seen.append(progress)
        if len(seen) == 2:
            raise Interrupted

    async with await open_store(db_path, both, clock=clock) as store:
        with pytest.raises(Interrupted):
            await store.rotation.rotate(batch_size=5, on_batch=crash_after_two)
        assert [(p.rewrapped, p.remaining) for p in seen] == [(5, 18), (10, 13)]
        await everything_reads(store, words)  # half old, half new: all still reads
    under = raw_query(db_path, "SELECT master_key_id, count(*) FROM contact_keys GROUP BY 1")
    assert sorted(under) == sorted([(old.key_id, 13), (new.key_id, 10)])

    async with await open_store(db_path, both, clock=clock) as store:
        steps: list[RotationProgress] = []
        done = await store.rotation.rotate(batch_size=5, on_batch=steps.append)
        assert (done.rewrapped, done.remaining, done.erased) == (13, 0, 0)
        assert [s.remaining for s in steps] == [8, 3, 0]
        assert await store.rotation.keys_in_use() == {new.key_id: CONTACTS + 2}
        rotations = [r for r in await store.audit.rows() if r.action == "rotate_keys"]
        assert [r.subject for r in rotations] == [f"master_key:{new.key_id}"] * 2

    # The old key is no longer needed: remove it, and everything still reads.
    async with await open_store(db_path, KeyRing((new,), "new only"), clock=clock) as store:
        await everything_reads(store, words)


async def test_before_rotation_the_old_key_cannot_be_dropped(db_path: Path, clock: Clock) -> None:
    old, new = MasterKey.generate(), MasterKey.generate()
    await populate(db_path, KeyRing((old,), "old"), clock)
    await (await open_store(db_path, KeyRing((new, old), "both"), clock=clock)).close()
    with pytest.raises(WrongKeyError, match=f"wrapped under master key id {old.key_id}"):
        await open_store(db_path, KeyRing((new,), "new only"), clock=clock)


async def test_rotation_runs_while_the_bot_keeps_writing(db_path: Path, clock: Clock) -> None:
    old, new = MasterKey.generate(), MasterKey.generate()
    words = await populate(db_path, KeyRing((old,), "old"), clock)
    both = KeyRing((new, old), "new first")
    async with (
        await open_store(db_path, both, clock=clock) as bot,
        await open_store(db_path, both, clock=clock) as shell,
    ):

        async def keep_writing() -> None:
            for n in range(CONTACTS, CONTACTS + 30):
                words[f"m{n}"] = f"cerita nomor {n}"
                await bot.turns.receive("telegram", str(5000 + n), message(f"m{n}", words[f"m{n}"]))
                await asyncio.sleep(0)

        writing = asyncio.create_task(keep_writing())
        await shell.rotation.rotate(batch_size=3)
        await writing
        assert await shell.rotation.remaining() == 0
        await everything_reads(bot, words)


@pytest.mark.sqlite_only("builds a pre-key-tree database with SQLite's own connection")
async def test_keys_from_before_the_key_tree_are_read_and_then_bound_to_it(
    db_path: Path, keyring: KeyRing, clock: Clock
) -> None:
    """A database older than the key tree: its keys open with the master key until rotated."""
    words = await populate(db_path, keyring, clock)
    conn = await connect(db_path, writer=True)
    try:
        vault = await Vault.unlock(conn, keyring, 0, tree_path=default_tree_path(db_path))
    finally:
        await conn.close()
    ((wrapped,),) = raw_query(db_path, "SELECT wrapped FROM contact_keys WHERE contact_id = 1")
    dek = vault.unwrap_dek_uncached(1, keyring.primary.key_id, bytes(wrapped))
    # Contact 1's key wrapped the old way: under the master key alone, marked leaf = 0.
    legacy = seal(keyring.primary.wrap_key, dek, dek_place(1))
    raw_update(
        db_path, "UPDATE contact_keys SET wrapped = ?, leaf = 0 WHERE contact_id = 1", (legacy,)
    )
    async with await open_store(db_path, keyring, clock=clock) as store:
        await everything_reads(store, words)
        assert await store.rotation.remaining() == 1
        result = await store.rotation.rotate()
        assert (result.rewrapped, result.remaining) == (1, 0)
        await everything_reads(store, words)
    assert raw_query(db_path, "SELECT count(*) FROM contact_keys WHERE leaf = 0") == [(0,)]
