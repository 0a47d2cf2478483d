"""Password hashing with argon2id at OWASP's parameters; old scrypt hashes still verify.

New hashes are argon2id in the standard encoded form (`$argon2id$v=19$m=19456,t=2,p=1$…`):
the parameters travel with the hash, so verifying uses the cost it was made with
and `needs_upgrade` tells when a hash is weaker than today's setting. Hashes made
before (`scrypt$<log2 n>$<r>$<p>$<salt hex>$<key hex>`, N=2^15, below OWASP's
minimum) still verify; the login rehashes them with argon2id at the next
successful sign-in (`bot.console.auth.login`). Tests pass a cheaper `Hasher`.

Every verification costs one hash, whether or not an account has one (`verify(None, …)`
checks a dummy hash of the same cost), so an unknown name is not told apart by time.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError
from cryptography.exceptions import InvalidKey
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from bot.errors import OfficeError

__all__ = ["DUMMY_PASSWORD", "MIN_LENGTH", "Hasher", "PasswordError", "check_new_password"]

MIN_LENGTH = 10
MAX_LENGTH = 256
MAX_CHECKED = 1024  # a longer "password" is cut here before hashing: no cost amplification
DUMMY_PASSWORD = "not-a-password-of-anyone"
# OWASP Password Storage Cheat Sheet: argon2id, 19 MiB, 2 iterations, 1 lane.
OWASP_MEMORY_KIB = 19 * 1024
OWASP_TIME_COST = 2


class PasswordError(OfficeError, ValueError):
    """A password that cannot be set; the message says why, never the password."""


@dataclass(frozen=True, slots=True)
class Hasher:
    """argon2id with these costs for new hashes; verifies any argon2id or legacy scrypt hash."""

    memory_kib: int = OWASP_MEMORY_KIB
    time_cost: int = OWASP_TIME_COST
    parallelism: int = 1

    @property
    def _argon(self) -> PasswordHasher:
        return _argon(self.memory_kib, self.time_cost, self.parallelism)

    def hash(self, password: str) -> str:
        check_new_password(password)
        return self._argon.hash(password)

    def rehash(self, password: str) -> str:
        """A hash at today's cost of a password that was just verified (no length rule:
        it was accepted when set)."""
        return self._argon.hash(password[:MAX_CHECKED])

    def verify(self, stored: str | None, password: str) -> bool:
        """True if `password` matches; a missing hash costs the same time as a wrong one."""
        candidate = password[:MAX_CHECKED]
        if stored is None:
            self.hash_cost_only(candidate)
            return False
        if stored.startswith("scrypt$"):
            return _verify_scrypt(stored, candidate)
        try:
            return self._argon.verify(stored, candidate)
        except (VerificationError, InvalidHashError):
            return False

    def needs_upgrade(self, stored: str) -> bool:
        """True for a legacy scrypt hash or an argon2 hash made with other costs than these."""
        if not stored.startswith("$argon2id$"):
            return True
        try:
            return self._argon.check_needs_rehash(stored)
        except (InvalidHashError, ValueError):
            return True

    def hash_cost_only(self, password: str) -> None:
        """Spends the time of one verification, so an unknown user is not told apart by timing."""
        try:
            self._argon.verify(
                _dummy_hash(self.memory_kib, self.time_cost, self.parallelism),
                password[:MAX_CHECKED],
            )
        except VerificationError:
            pass


def check_new_password(password: str) -> None:
    if len(password) < MIN_LENGTH:
        raise PasswordError(
            f"a console password needs at least {MIN_LENGTH} characters",
            "problem_password_short",
            min=MIN_LENGTH,
        )
    if len(password) > MAX_LENGTH:
        raise PasswordError(
            f"a console password has at most {MAX_LENGTH} characters",
            "problem_password_long",
            max=MAX_LENGTH,
        )


@functools.cache
def _argon(memory_kib: int, time_cost: int, parallelism: int) -> PasswordHasher:
    return PasswordHasher(
        time_cost=time_cost,
        memory_cost=memory_kib,
        parallelism=parallelism,
        hash_len=32,
        salt_len=16,
        type=Type.ID,
    )


@functools.cache
def _dummy_hash(memory_kib: int, time_cost: int, parallelism: int) -> str:
    return _argon(memory_kib, time_cost, parallelism).hash(DUMMY_PASSWORD + os.urandom(8).hex())


def _verify_scrypt(stored: str, password: str) -> bool:
    """A hash from before argon2id: `scrypt$<log2 n>$<r>$<p>$<salt hex>$<key hex>`."""
    try:
        _, log2_n, r, p, salt_hex, key_hex = stored.split("$")
        if not 10 <= int(log2_n) <= 22:
            return False
        kdf = Scrypt(
            salt=bytes.fromhex(salt_hex), length=32, n=2 ** int(log2_n), r=int(r), p=int(p)
        )
        expected = bytes.fromhex(key_hex)
    except ValueError:
        return False
    try:
        kdf.verify(password.encode("utf-8"), expected)
    except InvalidKey:
        return False
    return True
