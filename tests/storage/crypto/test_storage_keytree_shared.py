"""The key tree shared by several processes on one host: an erasure made by one is seen by
every other at its next decryption, from a cached key too, and an older copy of the tree
is refused (docs/postgresql.md, "Several processes: what they share").

Two stores on one database and one keys folder stand for two `lk3 run` processes (on
SQLite, the command line beside the bot); the last test runs the erasure in a real
second process.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from storage_support import message, open_store, raw_query, reply, turn
from support import Clock, pgserver

from storage.crypto.keys import KeyRing
from storage.crypto.keytree import KeyTree, default_tree_path
from storage.errors import ErasedError, KeyFileError
from storage.records import Contact
from storage.store import Store

ROOT = Path(__file__).resolve().parents[3]


async def family(store: Store, address: str, words: str) -> Contact:
    contact, inbox_id = await store.turns.receive("telegram", address, message(address, words))
    assert inbox_id is not None
    await store.turns.commit_turn(
        turn(contact.id, inbox_id, outbound=(reply(contact.id, "balasan"),))
    )
    return contact


async def words_of(store: Store, contact: Contact) -> list[str]:
    """What the contact wrote, as this store reads it (decrypted)."""
    rows = raw_query_ids(store, contact.id)
    return [row.text for row in [await store.inbox.get(i) for i in rows] if row is not None]


def raw_query_ids(store: Store, contact_id: int) -> list[int]:
    rows = raw_query(store.path, "SELECT id FROM inbox WHERE contact_id = ?", (contact_id,))
    return [int(r[0]) for r in rows]


def wrapped_key(db_path: Path, contact_id: int) -> tuple[str, bytes]:
    """The contact's wrapped data key as a copy of the database (an old backup) keeps it."""
    rows = raw_query(
        db_path,
        "SELECT master_key_id, wrapped FROM contact_keys WHERE contact_id = ?",
        (contact_id,),
    )
    return str(rows[0][0]), bytes(rows[0][1])


async def test_an_erasure_by_one_process_ends_the_cached_key_in_every_other(
    db_path: Path, keyring: KeyRing, clock: Clock
) -> None:
    a = await open_store(db_path, keyring, clock=clock)
    b = await open_store(db_path, keyring, clock=clock)
    try:
        anna = await family(a, "111", "RAHASIA-ANNA")
        budi = await family(a, "222", "RAHASIA-BUDI")
        key_id, wrapped = wrapped_key(db_path, anna.id)
        # Process B reads Anna's words: her data key is now in B's memory.
        assert await words_of(b, anna) == ["RAHASIA-ANNA"]
        assert b._vault.cached_dek(anna.id) is not None
        before = b._vault.tree.generation

        assert await a.erasure.erase(anna.id, reason="purge", actor="cli", why="asked")

        # Done means durable and seen: B neither keeps the key nor unwraps it again.
        assert b._vault.tree.generation == before + 1
        assert b._vault.cached_dek(anna.id) is None
        with pytest.raises(ErasedError):
            b._vault.unwrap_dek(anna.id, key_id, wrapped)
        assert b.erasure.is_erased(anna.id)
        # Everyone else is still readable by B (their keys unwrap again through the tree).
        assert await words_of(b, budi) == ["RAHASIA-BUDI"]
    finally:
        await b.close()
        await a.close()


async def test_a_key_staged_before_an_erasure_elsewhere_is_not_cached_after_it(
    db_path: Path, keyring: KeyRing, clock: Clock
) -> None:
    a = await open_store(db_path, keyring, clock=clock)
    b = await open_store(db_path, keyring, clock=clock)
    try:
        anna = await family(a, "111", "RAHASIA-ANNA")
        key_id, wrapped = wrapped_key(db_path, anna.id)
        dek = b._vault.unwrap_dek_uncached(anna.id, key_id, wrapped)  # B's writer staged it
        assert await a.erasure.erase(anna.id, reason="purge", actor="cli", why="asked")
        b._vault.remember_dek(anna.id, dek)  # ... and publishes it after its COMMIT
        assert b._vault.cached_dek(anna.id) is None
    finally:
        await b.close()
        await a.close()


async def test_an_older_copy_of_the_tree_is_refused_at_open_and_while_in_use(
    db_path: Path, keyring: KeyRing, clock: Clock, tmp_path: Path
) -> None:
    tree = default_tree_path(db_path)
    old_copy = tmp_path / "old.keytree"
    async with await open_store(db_path, keyring, clock=clock) as store:
        anna = await family(store, "111", "RAHASIA-ANNA")
        await family(store, "222", "RAHASIA-BUDI")
        shutil.copy2(tree, old_copy)
        assert await store.erasure.erase(anna.id, reason="purge", actor="cli", why="asked")
        live = KeyTree.load(tree)
        assert live.generation == 1
        # Someone puts the copy from before the erasure back while the bot runs.
        shutil.copy2(old_copy, tree)
        with pytest.raises(KeyFileError, match="went back from generation 1 to 0"):
            live.leaf(anna.id)
    # At the next start the database remembers how far the tree had gone.
    with pytest.raises(KeyFileError, match="older copy"):
        await open_store(db_path, keyring, clock=clock)


def test_a_tree_file_from_before_the_generation_reads_as_generation_zero(tmp_path: Path) -> None:
    path = tmp_path / "lk3.keytree"
    tree, _ = KeyTree.open_or_create(path)
    text = path.read_text()
    head = next(line for line in text.splitlines() if line.startswith("lk3-keytree"))
    path.write_text(text.replace(head, head.rsplit(" ", 1)[0]))  # the five-field header
    old = KeyTree.load(path)
    assert old.generation == 0 and old.leaf(5) == tree.leaf(5)
    assert old.puncture(5) and KeyTree.load(path).generation == 1


_ERASE_IN_ANOTHER_PROCESS = """
import asyncio, sys
from pathlib import Path
from storage.crypto.keys import KeyRing
from storage.store import Store

async def main() -> None:
    db, contact, url = Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3] or None
    ring = KeyRing.parse(sys.stdin.read(), "the test's key")
    store = await Store.open(db, ring, url=url)
    try:
        assert await store.erasure.erase(contact, reason="purge", actor="cli", why="asked")
    finally:
        await store.close()
    print("erased", flush=True)

asyncio.run(main())
"""


async def test_a_real_second_process_erases_and_this_one_can_no_longer_read(
    db_path: Path, keyring: KeyRing, clock: Clock
) -> None:
    server = pgserver.ACTIVE
    url = server.database_for(db_path) if server is not None else ""
    store = await open_store(db_path, keyring, clock=clock)
    try:
        anna = await family(store, "111", "RAHASIA-ANNA")
        key_id, wrapped = wrapped_key(db_path, anna.id)
        assert await words_of(store, anna) == ["RAHASIA-ANNA"]
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        done = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-c", _ERASE_IN_ANOTHER_PROCESS, str(db_path), str(anna.id), url],
            input=keyring.primary.entry() + "\n",
            capture_output=True,
            text=True,
            env=env,
            cwd=ROOT,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr[-2000:]
        assert done.stdout.strip() == "erased"
        with pytest.raises(ErasedError):
            store._vault.unwrap_dek(anna.id, key_id, wrapped)
        assert await words_of(store, anna) == []
    finally:
        await store.close()


async def test_a_second_copy_of_the_tree_on_another_host_is_found_at_its_first_erasure(
    db_path: Path, keyring: KeyRing, clock: Clock, tmp_path: Path
) -> None:
    tree = default_tree_path(db_path)
    async with await open_store(db_path, keyring, clock=clock) as store:
        anna = await family(store, "111", "RAHASIA-ANNA")
        budi = await family(store, "222", "RAHASIA-BUDI")
    copy = tmp_path / "other-host" / "lk3.keytree"
    copy.parent.mkdir()
    shutil.copy2(tree, copy)  # wrongly: each host its own copy of the tree
    a = await open_store(db_path, keyring, clock=clock)
    b = await open_store(db_path, keyring, clock=clock, keytree=copy)
    try:
        assert await a.erasure.erase(anna.id, reason="purge", actor="cli", why="asked")
        with pytest.raises(KeyFileError, match="another copy of the tree is in use"):
            await b.erasure.erase(budi.id, reason="purge", actor="cli", why="asked")
        assert not KeyTree.load(copy).is_erased(budi.id)  # nothing punctured there
        assert await b.erasure.unfinished() == 1  # to be finished with the right tree
    finally:
        await b.close()
        await a.close()
    async with await open_store(db_path, keyring, clock=clock) as store:
        assert (await store.erasure.finish()).keys_destroyed == 1
        assert store.erasure.is_erased(budi.id)
