"""The key tree: key material kept outside the database, so erasing a contact reaches old backups.

Why: a contact's data key is stored wrapped in the database. A backup of the
database holds that wrapped key, and the master key (which never changes when a
contact is erased) would still unwrap it after the contact's rows are deleted.
So each contact's key is wrapped under the master key AND a leaf of this tree,
and the tree lives in its own file beside the database, never inside it nor in
its backups. Erasing contact N "punctures" leaf N: the tree forgets every secret
from which leaf N could be derived, and keeps only what derives the other leaves.
A backup restored later, with the master key and the current tree, opens every
contact except those erased since: their wrapped keys are still in the backup,
but nothing can unwrap them any more.

The tree is a GGM tree (Goldreich, Goldwasser and Micali), a puncturable
pseudorandom function: the root is 32 random bytes, a node's children are
HMAC-SHA256(node, 0) and HMAC-SHA256(node, 1), and leaf N is the node reached by
the bits of N from the top. The file holds the smallest set of nodes covering
every leaf not yet punctured (one root at first; each puncture replaces the node
above the leaf with the siblings along the path to it, at most `DEPTH` nodes).
Derivations do not depend on which covering node is stored, so a leaf's key
never changes until it is punctured.

The file is written atomically (a new file, fsynced, renamed over the old) under
an exclusive lock, re-read under that lock before every change, so a purge run
from the command line while the bot runs cannot undo the bot's punctures or the
other way round. Readers notice a changed file and reload it.

Several processes on one host (several `lk3 run` on one PostgreSQL database, or a
command beside the bot) share the one file. Each change also counts up a
`generation` in the file's header, and every reader checks the file (one `stat`)
before each use of a leaf: a puncture is durable (file and folder fsynced) before
`puncture` returns, and every process sees it at its next leaf, with no message
between them. The writer gives every new file a modification time later than the
one it replaces, so (inode, size, mtime) never repeats and a reader cannot miss a
change; a file whose generation went backwards (an older copy put in place while
processes run, which would make erased contacts readable again) is refused.
`storage.crypto.vault` drops its cache of unwrapped data keys whenever the
generation moves, so no process decrypts an erased contact's text from memory.

Errors: `KeyFileError` (missing, unreadable, too open, malformed) and
`WrongKeyError` (a tree that belongs to another database), from `storage.errors`.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import fcntl
import hashlib
import hmac
import os
import secrets
import stat
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from storage.errors import KeyFileError

__all__ = ["DEPTH", "KeyTree", "default_tree_path"]

DEPTH = 40
"""Leaves are contact ids below 2**40; contact ids are never reused."""
MAX_LEAF = 2**DEPTH - 1
_MAGIC = "lk3-keytree"
_FORMAT = 1
_MTIME_STEP_NS = 1_000_000  # a new file's mtime is at least this much after the one it replaces
_HEADER = (
    "# LK3 key tree: the key material that unlocks each contact's data key,\n"
    "# together with the master key. Keep it secret (mode 0600), beside the\n"
    "# database but never inside a database backup. Keep only its latest copy:\n"
    "# an old copy would make contacts erased since then readable again from old\n"
    "# backups. Without it, nothing written since it was created can be read.\n"
)

_MID_DEPTH = DEPTH - 10  # middle nodes kept in memory cover 1,024 contacts each
_MID_CACHED = 4096
Node = tuple[int, int]  # (depth, prefix): the node reached by the top `depth` bits `prefix`


def default_tree_path(database: Path) -> Path:
    """Where the tree of a database lives by default: beside it, `lk3.db` -> `lk3.keytree`."""
    return database.with_suffix(".keytree")


def _child(secret: bytes, bit: int) -> bytes:
    return hmac.new(secret, b"lk3 key tree child " + bytes([bit]), hashlib.sha256).digest()


def _covering(nodes: Mapping[Node, bytes], leaf: int) -> tuple[Node, bytes] | None:
    """The stored node above `leaf` (at most one exists), or None once it is punctured."""
    for depth in range(DEPTH + 1):
        node = (depth, leaf >> (DEPTH - depth))
        secret = nodes.get(node)
        if secret is not None:
            return node, secret
    return None


def _derive(node: Node, secret: bytes, leaf: int, to: int = DEPTH) -> bytes:
    """The node at depth `to` on the way from `node` down to `leaf` (the leaf itself
    by default)."""
    depth, _ = node
    for level in range(depth, to):
        secret = _child(secret, (leaf >> (DEPTH - level - 1)) & 1)
    return secret


def _punctured(nodes: Mapping[Node, bytes], leaf: int) -> dict[Node, bytes] | None:
    """The nodes after puncturing `leaf`, or None when it already was."""
    found = _covering(nodes, leaf)
    if found is None:
        return None
    (depth, prefix), secret = found
    result = dict(nodes)
    del result[(depth, prefix)]
    for level in range(depth, DEPTH):
        bit = (leaf >> (DEPTH - level - 1)) & 1
        sibling = 1 - bit
        result[(level + 1, (prefix << 1) | sibling)] = _child(secret, sibling)
        secret = _child(secret, bit)
        prefix = (prefix << 1) | bit
    return result


@dataclass(frozen=True, slots=True)
class _Snapshot:
    """One reading of the file: what it held and how to tell it has changed since."""

    tree_id: str
    nodes: Mapping[Node, bytes]
    highest_erased: int
    signature: tuple[int, int, int] | None  # (inode, size, mtime_ns); None in memory
    generation: int  # changes made to the tree since it was created (0 in an older file)
    # Nodes at _MID_DEPTH derived from `nodes`, so that a new contact's leaf costs 10
    # HMACs, not 40. They live and die with this reading: a puncture, here or by
    # another process, makes a new snapshot, and what could derive the erased leaf
    # is gone with the old one.
    derived: dict[int, bytes] = field(default_factory=dict, compare=False, repr=False)


class KeyTree:
    """The tree of one database; `leaf(n)` is None once contact n is erased."""

    def __init__(self, path: Path | None, snapshot: _Snapshot) -> None:
        self._path = path
        self._snap = snapshot

    @property
    def path(self) -> Path | None:
        return self._path

    @property
    def tree_id(self) -> str:
        """A random id written in the file and recorded in the database it belongs to."""
        return self._snap.tree_id

    @property
    def highest_erased(self) -> int:
        """The highest leaf ever punctured: new contact ids must lie above it."""
        self._refresh()
        return self._snap.highest_erased

    @property
    def generation(self) -> int:
        """How many changes the tree has had: moves (for every process) with each puncture."""
        self._refresh()
        return self._snap.generation

    @property
    def node_count(self) -> int:
        self._refresh()
        return len(self._snap.nodes)

    @classmethod
    def in_memory(cls) -> KeyTree:
        """A tree that is never written anywhere (tests that need no durable data)."""
        root = {(0, 0): secrets.token_bytes(32)}
        return cls(None, _Snapshot(secrets.token_hex(8), root, 0, None, 0))

    @classmethod
    def open_or_create(cls, path: Path) -> tuple[KeyTree, bool]:
        """Loads the tree at `path`, creating a new one (mode 0600) if there is none.

        Returns the tree and whether it was created now.
        """
        try:
            return cls.load(path), False
        except FileNotFoundError:
            pass
        fresh = _Snapshot(secrets.token_hex(8), {(0, 0): secrets.token_bytes(32)}, 0, None, 0)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return cls.load(path), False  # another process created it first
        except OSError as exc:
            raise KeyFileError(f"key tree {path} cannot be created: {exc.strerror}") from None
        try:
            os.fchmod(fd, 0o600)
            os.write(fd, _render(fresh).encode("ascii"))
            os.fsync(fd)
        finally:
            os.close(fd)
        _fsync_dir(path.parent)
        return cls.load(path), True

    @classmethod
    def load(cls, path: Path) -> KeyTree:
        """Loads an existing tree; FileNotFoundError if there is none."""
        return cls(path, _read(path))

    def leaf(self, index: int) -> bytes | None:
        """The 32-byte secret of leaf `index`, or None if it was punctured (erased)."""
        if not 0 <= index <= MAX_LEAF:
            raise KeyFileError(f"contact id {index} is outside the key tree (0..{MAX_LEAF})")
        self._refresh()
        snap = self._snap
        found = _covering(snap.nodes, index)
        if found is None:
            return None
        node, secret = found
        if node[0] < _MID_DEPTH:
            # Every leaf below this middle node is covered by the same stored node.
            prefix = index >> (DEPTH - _MID_DEPTH)
            middle = snap.derived.get(prefix)
            if middle is None:
                middle = _derive(node, secret, index, to=_MID_DEPTH)
                if len(snap.derived) >= _MID_CACHED:
                    snap.derived.clear()
                snap.derived[prefix] = middle
            node, secret = (_MID_DEPTH, prefix), middle
        return _derive(node, secret, index)

    def is_erased(self, index: int, *, refresh: bool = True) -> bool:
        """Whether leaf `index` is punctured, without deriving it (no HMAC: a lookup);
        `refresh=False` when the caller has just read `generation`."""
        if refresh:
            self._refresh()
        return _covering(self._snap.nodes, index) is None

    def puncture(self, index: int) -> bool:
        """Forgets leaf `index` for good; False if it already was. Blocking: call in a thread.

        The file is re-read under an exclusive lock, changed and replaced
        atomically, so punctures by several processes all survive.
        """
        if not 0 <= index <= MAX_LEAF:
            raise KeyFileError(f"contact id {index} is outside the key tree (0..{MAX_LEAF})")
        if self._path is None:
            nodes = _punctured(self._snap.nodes, index)
            if nodes is None:
                return False
            high = max(self._snap.highest_erased, index)
            self._snap = _Snapshot(self._snap.tree_id, nodes, high, None, self._snap.generation + 1)
            return True
        with _locked(self._path):
            current = _read(self._path)
            if current.tree_id != self._snap.tree_id:
                raise KeyFileError(
                    f"key tree {self._path} was replaced by another tree while in use"
                )
            nodes = _punctured(current.nodes, index)
            if nodes is None:
                self._snap = current
                return False
            high = max(current.highest_erased, index)
            changed = _Snapshot(current.tree_id, nodes, high, None, current.generation + 1)
            _write(self._path, changed, after=current.signature)
            self._snap = _read(self._path)
        return True

    def _refresh(self) -> None:
        """Reloads the file if another process changed it (a purge run from the shell)."""
        if self._path is None:
            return
        try:
            signature = _signature(os.stat(self._path))
        except FileNotFoundError:
            raise KeyFileError(
                f"key tree {self._path} has disappeared; restore it from where you keep it"
            ) from None
        if signature != self._snap.signature:
            fresh = _read(self._path)
            if fresh.tree_id != self._snap.tree_id:
                raise KeyFileError(
                    f"key tree {self._path} was replaced by another tree while in use"
                )
            if fresh.generation < self._snap.generation:
                raise KeyFileError(
                    f"key tree {self._path} went back from generation {self._snap.generation}"
                    f" to {fresh.generation}: an older copy was put in place while in use,"
                    " which would make erased contacts readable again; put the newest back"
                )
            self._snap = fresh


def _signature(info: os.stat_result) -> tuple[int, int, int]:
    return (info.st_ino, info.st_size, info.st_mtime_ns)


def _render(snap: _Snapshot) -> str:
    head = f"{_MAGIC} {_FORMAT} {snap.tree_id} {DEPTH} {snap.highest_erased} {snap.generation}"
    lines = [_HEADER, head + "\n"]
    for (depth, prefix), secret in sorted(snap.nodes.items()):
        lines.append(f"{depth} {prefix} {base64.b64encode(secret).decode('ascii')}\n")
    return "".join(lines)


def _read(path: Path) -> _Snapshot:
    """Parses the file; FileNotFoundError passes through, anything else is a KeyFileError."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise KeyFileError(f"key tree {path} cannot be read: {exc.strerror}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise KeyFileError(f"key tree {path} is not a regular file")
        mode = stat.S_IMODE(info.st_mode)
        if mode & 0o077:
            raise KeyFileError(
                f"key tree {path} has mode {mode:04o}; it must be 0600 (chmod 600 {path})"
            )
        with os.fdopen(os.dup(fd), "rb") as handle:
            raw = handle.read()
    finally:
        os.close(fd)
    try:
        text = raw.decode("ascii")
    except UnicodeDecodeError:
        raise KeyFileError(f"key tree {path} is not a key tree file") from None
    return _parse(text, path, _signature(info))


def _parse(text: str, path: Path, signature: tuple[int, int, int]) -> _Snapshot:
    entries = [
        (number, line.split())
        for number, line in enumerate(text.splitlines(), start=1)
        if line.strip() and not line.startswith("#")
    ]
    if not entries:
        raise KeyFileError(f"key tree {path} is empty")
    number, head = entries[0]
    # Five fields in a file from before the generation was counted (generation 0).
    if len(head) not in (5, 6) or head[0] != _MAGIC:
        raise KeyFileError(f"key tree {path} line {number}: not a key tree file")
    if head[1] != str(_FORMAT) or head[3] != str(DEPTH):
        raise KeyFileError(
            f"key tree {path} line {number}: format {head[1]} depth {head[3]} is not"
            f" {_FORMAT} {DEPTH}"
        )
    try:
        highest = int(head[4])
        generation = int(head[5]) if len(head) == 6 else 0
    except ValueError:
        raise KeyFileError(f"key tree {path} line {number}: malformed header") from None
    nodes: dict[Node, bytes] = {}
    for number, parts in entries[1:]:
        try:
            depth, prefix, secret = int(parts[0]), int(parts[1]), base64.b64decode(parts[2])
        except (IndexError, ValueError, binascii.Error):
            raise KeyFileError(f"key tree {path} line {number}: malformed node") from None
        if len(parts) != 3 or not 0 <= depth <= DEPTH or not 0 <= prefix < 2**depth:
            raise KeyFileError(f"key tree {path} line {number}: malformed node")
        if len(secret) != 32:
            raise KeyFileError(f"key tree {path} line {number}: a node secret must be 32 bytes")
        nodes[(depth, prefix)] = secret
    return _Snapshot(head[2], nodes, highest, signature, generation)


def _write(path: Path, snap: _Snapshot, *, after: tuple[int, int, int] | None = None) -> None:
    """Replaces the file atomically: a complete new file or the old one, never half of each.

    `after` is the replaced file's signature: the new file's mtime is set later than
    its own, so that a reader never sees the same (inode, size, mtime) twice (an
    inode freed by one change may be reused by the next within one clock tick)."""
    tmp = path.with_name(path.name + ".tmp")
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, _render(snap).encode("ascii"))
        if after is not None:
            mtime = max(time.time_ns(), after[2] + _MTIME_STEP_NS)
            os.utime(fd, ns=(mtime, mtime))
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    _fsync_dir(path.parent)


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """An exclusive lock shared by every process using this tree (a `.lock` file beside it)."""
    fd = os.open(path.with_name(path.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory if str(directory) else ".", os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
