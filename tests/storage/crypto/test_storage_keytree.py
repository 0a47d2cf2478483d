"""The key tree: a leaf, once punctured, is gone for good; every other leaf stays the same."""

from __future__ import annotations

import base64
import hmac
import os
from pathlib import Path

import pytest
from storage_support import message, open_store
from support import Clock

from storage.crypto.keys import KeyRing
from storage.crypto.keytree import DEPTH, MAX_LEAF, KeyTree
from storage.errors import KeyFileError, WrongKeyError

LEAVES = [0, 1, 2, 3, 7, 8, 1000, 2**20 + 5, MAX_LEAF - 1, MAX_LEAF]


@pytest.mark.parametrize(
    "punctured",
    [[1], [2, 3], [0, MAX_LEAF], [1, 2, 3, 7, 8], [1000, 1001, 999], LEAVES],
    ids=["one", "neighbours", "both ends", "a run", "around 1000", "all listed"],
)
def test_puncturing_forgets_exactly_those_leaves(punctured: list[int]) -> None:
    tree = KeyTree.in_memory()
    before = {leaf: tree.leaf(leaf) for leaf in [*LEAVES, 4, 5, 6, 999, 1001]}
    for leaf in punctured:
        assert tree.puncture(leaf) is True
        assert tree.puncture(leaf) is False, "a second puncture changes nothing"
    for leaf, key in before.items():
        assert tree.leaf(leaf) == (None if leaf in punctured else key), leaf
    assert tree.node_count <= DEPTH * len(set(punctured))
    assert tree.highest_erased == max(punctured)


def test_leaves_differ_and_are_32_bytes() -> None:
    tree = KeyTree.in_memory()
    keys = [tree.leaf(i) for i in range(64)]
    assert all(k is not None and len(k) == 32 for k in keys)
    assert len(set(keys)) == 64


@pytest.mark.parametrize("leaf", [-1, MAX_LEAF + 1])
def test_a_leaf_outside_the_tree_is_refused(leaf: int) -> None:
    with pytest.raises(KeyFileError, match="outside the key tree"):
        KeyTree.in_memory().leaf(leaf)


def test_the_file_is_private_and_survives_reloading(tmp_path: Path) -> None:
    path = tmp_path / "lk3.keytree"
    tree, created = KeyTree.open_or_create(path)
    assert created and (path.stat().st_mode & 0o777) == 0o600
    key_5 = tree.leaf(5)
    tree.puncture(9)
    again = KeyTree.load(path)
    assert again.tree_id == tree.tree_id
    assert again.leaf(5) == key_5 and again.leaf(9) is None
    assert KeyTree.open_or_create(path)[1] is False


def test_two_processes_puncturing_the_same_file_lose_nothing(tmp_path: Path) -> None:
    """A purge from the shell and the running bot each hold the tree; both punctures stay."""
    path = tmp_path / "lk3.keytree"
    bot, _ = KeyTree.open_or_create(path)
    shell = KeyTree.load(path)
    bot.puncture(3)
    shell.puncture(4)  # re-reads the file under the lock first
    fresh = KeyTree.load(path)
    assert fresh.leaf(3) is None and fresh.leaf(4) is None
    assert bot.leaf(4) is None, "a holder notices the other process's change"


def test_a_holder_that_derived_neighbouring_leaves_still_loses_one_another_erased(
    tmp_path: Path,
) -> None:
    """The bot keeps middle nodes in memory to derive new contacts' leaves quickly;
    a purge from the shell must still leave it unable to derive the erased leaf."""
    path = tmp_path / "lk3.keytree"
    bot, _ = KeyTree.open_or_create(path)
    before = {leaf: bot.leaf(leaf) for leaf in range(1000, 1040)}
    KeyTree.load(path).puncture(1017)
    assert bot.leaf(1017) is None
    assert {leaf: bot.leaf(leaf) for leaf in before if leaf != 1017} == {
        leaf: key for leaf, key in before.items() if leaf != 1017
    }


def test_a_leaf_is_the_hmac_chain_from_the_root_along_its_bits(tmp_path: Path) -> None:
    """The derivation is the documented GGM tree, whatever the tree keeps in memory."""
    path = tmp_path / "lk3.keytree"
    tree, _ = KeyTree.open_or_create(path)
    (root_line,) = [line for line in path.read_text().splitlines()[1:] if line[0] != "#"][-1:]
    root = base64.b64decode(root_line.split()[2])
    for leaf in [0, 5, 1023, 1024, 2**30 + 7, MAX_LEAF]:
        tree.leaf(leaf ^ 1)  # a neighbour first, so the leaf may come from memory
        secret = root
        for level in range(DEPTH):
            bit = (leaf >> (DEPTH - level - 1)) & 1
            secret = hmac.new(secret, b"lk3 key tree child " + bytes([bit]), "sha256").digest()
        assert tree.leaf(leaf) == secret, leaf


@pytest.mark.parametrize(
    ("content", "mode", "error"),
    [
        ("lk3-keytree 1 abcd 40 0\n0 0 AAAA\n", 0o600, "line 2: a node secret must be 32 bytes"),
        ("not a tree\n", 0o600, "line 1: not a key tree file"),
        ("lk3-keytree 2 abcd 40 0\n", 0o600, "format 2 depth 40 is not 1 40"),
        ("lk3-keytree 1 abcd 40 0\n0 0\n", 0o600, "line 2: malformed node"),
        ("lk3-keytree 1 abcd 40 0\n", 0o644, "has mode 0644; it must be 0600"),
        ("# only a comment\n", 0o600, "is empty"),
    ],
    ids=["short secret", "no header", "newer format", "missing secret", "too open", "empty"],
)
def test_a_broken_tree_file_is_refused_naming_what_is_wrong(
    tmp_path: Path, content: str, mode: int, error: str
) -> None:
    path = tmp_path / "lk3.keytree"
    path.write_text(content)
    os.chmod(path, mode)
    with pytest.raises(KeyFileError, match=error):
        KeyTree.load(path)


async def test_a_database_refuses_to_open_without_its_own_tree(
    tmp_path: Path, keyring: KeyRing, clock: Clock
) -> None:
    db = tmp_path / "lk3.db"
    async with await open_store(db, keyring, clock=clock) as store:
        await store.turns.receive("telegram", "111", message("u1", "rahasia"))
    tree = tmp_path / "lk3.keytree"
    tree.rename(tmp_path / "elsewhere.keytree")
    with pytest.raises(KeyFileError, match="key tree .*lk3.keytree is missing"):
        await open_store(db, keyring, clock=clock)
    KeyTree.open_or_create(tree)  # a different, new tree
    with pytest.raises(WrongKeyError, match="but this database was written with key tree"):
        await open_store(db, keyring, clock=clock)
    assert not any(p.name.endswith("-wal") and p.stat().st_size for p in tmp_path.iterdir())


async def test_new_contacts_never_get_an_id_whose_leaf_was_destroyed(
    tmp_path: Path, keyring: KeyRing, clock: Clock
) -> None:
    """An older copy of the database restored beside a newer tree starts above its punctures."""
    db = tmp_path / "lk3.db"
    async with await open_store(db, keyring, clock=clock) as store:
        contact, _ = await store.turns.receive("telegram", "111", message("u1"))
    assert contact.id == 1
    KeyTree.load(tmp_path / "lk3.keytree").puncture(5)
    async with await open_store(db, keyring, clock=clock) as store:
        later, _ = await store.turns.receive("telegram", "222", message("u2"))
    assert later.id == 6
