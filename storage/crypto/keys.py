"""Master keys: where they come from, how they are checked, and what is derived from them.

Master keys never enter the database. They live in a key file (mode 0600, one
`KEYID:BASE64` entry a line) or in the `LK3_MASTER_KEYS` environment variable
(the same entries separated by commas or newlines). Several keys may be loaded
at once so that rotation can run online: the first key wraps new data keys, every
key can unwrap. Each purpose gets its own HKDF-derived key, so a key-check value
stored in the database reveals nothing usable for unwrapping.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
import secrets
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from storage.errors import KeyFileError

__all__ = [
    "ENV_VAR",
    "KEY_BYTES",
    "KeyRing",
    "MasterKey",
    "generate_key_file",
    "prepend_key",
]

ENV_VAR = "LK3_MASTER_KEYS"
KEY_BYTES = 32
_KEY_ID = re.compile(r"[0-9a-f]{8}")
_CHECK_CONSTANT = b"lk3 master key check v1"
_FILE_HEADER = (
    "# LK3 master keys: KEYID:BASE64(32 bytes), one a line.\n"
    "# Keep this file secret (mode 0600) and back it up apart from the database:\n"
    "# without it nothing in the database can be read. The first key encrypts;\n"
    "# every key listed decrypts, so rotation adds a new key at the top.\n"
)


def _derive(secret: bytes, purpose: str) -> bytes:
    """A 32-byte key for one purpose; different purposes give unrelated keys."""
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=f"lk3/{purpose}/v1".encode())
    return hkdf.derive(secret)


@dataclass(frozen=True, slots=True)
class MasterKey:
    """One master key; its secret and derived keys never appear in repr or messages."""

    key_id: str
    secret: bytes = field(repr=False)
    wrap_key: bytes = field(init=False, repr=False)
    check_value: bytes = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "wrap_key", _derive(self.secret, "key-wrap"))
        check_key = _derive(self.secret, "key-check")
        object.__setattr__(
            self, "check_value", hmac.new(check_key, _CHECK_CONSTANT, hashlib.sha256).digest()
        )

    @classmethod
    def generate(cls) -> MasterKey:
        """A fresh random key whose id is derived from it."""
        secret = secrets.token_bytes(KEY_BYTES)
        return cls(derived_key_id(secret), secret)

    def entry(self) -> str:
        """The key-file line for this key (key material: write it only to the key file)."""
        return f"{self.key_id}:{base64.b64encode(self.secret).decode('ascii')}"


def derived_key_id(secret: bytes) -> str:
    """An 8-hex-digit id derived from the key, so ids of generated keys never clash."""
    return _derive(secret, "key-id")[:4].hex()


@dataclass(frozen=True, slots=True)
class KeyRing:
    """The master keys in use: `keys[0]` wraps new data keys, all of them unwrap."""

    keys: tuple[MasterKey, ...]
    source: str

    def __post_init__(self) -> None:
        if not self.keys:
            raise KeyFileError(f"{self.source} holds no master key")

    @property
    def primary(self) -> MasterKey:
        """The key that wraps everything new."""
        return self.keys[0]

    def get(self, key_id: str) -> MasterKey | None:
        """The key with this id, if loaded."""
        for key in self.keys:
            if key.key_id == key_id:
                return key
        return None

    @property
    def key_ids(self) -> tuple[str, ...]:
        return tuple(key.key_id for key in self.keys)

    @classmethod
    def generate(cls) -> KeyRing:
        """A ring with one fresh random key held only in memory (tests, benchmarks)."""
        return cls((MasterKey.generate(),), "a generated in-memory key")

    @classmethod
    def parse(cls, text: str, source: str) -> KeyRing:
        """Parses key entries; `source` names where they came from in error messages."""
        keys: list[MasterKey] = []
        first_line_of_id: dict[str, int] = {}
        first_line_of_secret: dict[bytes, int] = {}
        for number, raw in _entries(text):
            line = raw.strip()
            key_id, sep, encoded = line.partition(":")
            key_id = key_id.strip().lower()
            if not sep or not _KEY_ID.fullmatch(key_id):
                raise KeyFileError(
                    f"{source} line {number}: expected KEYID:BASE64 with an 8-hex-digit key id"
                )
            try:
                secret = base64.b64decode(encoded.strip(), validate=True)
            except (binascii.Error, ValueError):
                raise KeyFileError(
                    f"{source} line {number}: key {key_id} is not valid base64"
                ) from None
            if len(secret) != KEY_BYTES:
                raise KeyFileError(
                    f"{source} line {number}: key {key_id} is {len(secret)} bytes;"
                    f" it must be {KEY_BYTES}"
                )
            if key_id in first_line_of_id:
                raise KeyFileError(
                    f"{source} line {number}: key id {key_id} appears twice"
                    f" (first on line {first_line_of_id[key_id]})"
                )
            if secret in first_line_of_secret:
                raise KeyFileError(
                    f"{source} line {number}: repeats the key of line"
                    f" {first_line_of_secret[secret]} under another id"
                )
            first_line_of_id[key_id] = number
            first_line_of_secret[secret] = number
            keys.append(MasterKey(key_id, secret))
        return cls(tuple(keys), source)

    @classmethod
    def load(cls, key_file: Path | None, env: Mapping[str, str]) -> KeyRing:
        """Loads from `LK3_MASTER_KEYS` if set, else from the key file."""
        if ENV_VAR in env:
            return cls.parse(env[ENV_VAR], f"environment variable {ENV_VAR}")
        if key_file is None:
            raise KeyFileError(f"no master key: set {ENV_VAR} or give a key file")
        return cls.parse(_read_key_file(key_file), f"key file {key_file}")


def _entries(text: str) -> list[tuple[int, str]]:
    """Numbered non-empty, non-comment entries; commas separate entries like newlines."""
    found: list[tuple[int, str]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        found.extend((number, part) for part in stripped.split(",") if part.strip())
    return found


def _read_key_file(path: Path) -> str:
    """The key file's text, refused unless it is a regular file only its owner can
    read, owned by the user running the bot.

    The checks are made on the open file (fstat), not on the name, so a file swapped
    between the check and the read is never read unchecked. A symbolic link is
    followed (secret stores mount keys as links) and its target is what is checked.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | getattr(os, "O_NOCTTY", 0))
    except FileNotFoundError:
        raise KeyFileError(f"key file {path} does not exist; create one or set {ENV_VAR}") from None
    except OSError as exc:
        raise KeyFileError(f"key file {path} cannot be opened: {exc.strerror}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise KeyFileError(f"key file {path} is not a regular file")
        mode = stat.S_IMODE(info.st_mode)
        if mode & 0o077:
            raise KeyFileError(
                f"key file {path} has mode {mode:04o}; it must be 0600 (chmod 600 {path})"
            )
        if hasattr(os, "geteuid") and info.st_uid != os.geteuid():
            raise KeyFileError(
                f"key file {path} belongs to user id {info.st_uid}, not to the user running"
                f" the bot ({os.geteuid()}); another account could replace the key"
                f" (chown it to the bot's user)"
            )
        with os.fdopen(os.dup(fd), "rb") as handle:
            raw = handle.read(_MAX_KEY_FILE_BYTES + 1)
    except OSError as exc:
        raise KeyFileError(f"key file {path} cannot be read: {exc.strerror}") from None
    finally:
        os.close(fd)
    if len(raw) > _MAX_KEY_FILE_BYTES:
        raise KeyFileError(f"key file {path} is larger than a key file can be")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise KeyFileError(f"key file {path} is not UTF-8 text") from None


# A key file holds a few lines of keys; anything this large is not one.
_MAX_KEY_FILE_BYTES = 64 * 1024


def generate_key_file(path: Path) -> str:
    """Creates a new key file readable by its owner only and returns the key id.

    Never overwrites: losing a key file's old content would make a database unreadable.
    """
    _make_private_parents(path.parent)
    key = MasterKey.generate()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise KeyFileError(f"key file {path} already exists; refusing to overwrite it") from None
    except OSError as exc:
        raise KeyFileError(f"key file {path} cannot be created: {exc.strerror}") from None
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, (_FILE_HEADER + key.entry() + "\n").encode("ascii"))
        os.fsync(fd)
    finally:
        os.close(fd)
    _fsync_dir(path.parent)
    return key.key_id


def prepend_key(path: Path) -> str:
    """Puts a new key first in an existing key file (it then wraps everything new); its id.

    The other keys stay, so everything they wrapped still reads. The file is
    replaced atomically and keeps mode 0600; its old content is never lost.
    """
    old = _read_key_file(path)
    known = KeyRing.parse(old, f"key file {path}")
    key = MasterKey.generate()
    while known.get(key.key_id) is not None:
        key = MasterKey.generate()
    lines = old.splitlines(keepends=True)
    header = []
    while lines and (not lines[0].strip() or lines[0].lstrip().startswith("#")):
        header.append(lines.pop(0))
    text = "".join(header) + key.entry() + "\n" + "".join(lines)
    if text and not text.endswith("\n"):
        text += "\n"
    tmp = path.with_name(path.name + ".new")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as exc:
        raise KeyFileError(f"key file {path} cannot be rewritten: {exc.strerror}") from None
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, text.encode("ascii"))
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    _fsync_dir(path.parent)
    return key.key_id


def _make_private_parents(directory: Path) -> None:
    """Creates missing parent directories with mode 0700; existing ones are left alone."""
    missing: list[Path] = []
    current = directory
    while not current.exists():
        missing.append(current)
        current = current.parent
    for folder in reversed(missing):
        try:
            os.mkdir(folder, 0o700)
        except FileExistsError:
            continue
        except OSError as exc:
            raise KeyFileError(f"directory {folder} cannot be created: {exc.strerror}") from None


def _fsync_dir(directory: Path) -> None:
    """Makes the new file's directory entry durable too."""
    fd = os.open(directory if str(directory) else ".", os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
