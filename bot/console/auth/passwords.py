"""Password hashing with scrypt (memory-hard), self-describing so the cost can rise later.

A hash reads `scrypt$<log2 n>$<r>$<p>$<salt hex>$<key hex>`; verifying uses the
parameters stored in the hash, so raising the cost for new passwords keeps old
ones working. Tests pass a cheaper `Hasher` to stay fast.
"""

from __future__ import annotations

import hmac
import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidKey
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from bot.errors import BotError

__all__ = ["DUMMY_PASSWORD", "MIN_LENGTH", "Hasher", "PasswordError"]

MIN_LENGTH = 10
MAX_LENGTH = 256
DUMMY_PASSWORD = "not-a-password-of-anyone"


class PasswordError(BotError, ValueError):
    """A password that cannot be set; the message says why, never the password."""


@dataclass(frozen=True, slots=True)
class Hasher:
    log2_n: int = 15
    r: int = 8
    p: int = 1

    def hash(self, password: str) -> str:
        check_new_password(password)
        salt = os.urandom(16)
        key = _kdf(salt, self.log2_n, self.r, self.p).derive(password.encode("utf-8"))
        return f"scrypt${self.log2_n}${self.r}${self.p}${salt.hex()}${key.hex()}"

    def verify(self, stored: str | None, password: str) -> bool:
        """True if `password` matches; a missing hash costs the same time as a wrong one."""
        if stored is None:
            self.hash_cost_only(password)
            return False
        try:
            scheme, log2_n, r, p, salt_hex, key_hex = stored.split("$")
            if scheme != "scrypt":
                return False
            kdf = _kdf(bytes.fromhex(salt_hex), int(log2_n), int(r), int(p))
            expected = bytes.fromhex(key_hex)
        except ValueError:
            return False
        try:
            kdf.verify(password.encode("utf-8")[:1024], expected)
        except InvalidKey:
            return False
        return True

    def hash_cost_only(self, password: str) -> None:
        """Spends the time of one hash, so an unknown user is not told apart by timing."""
        key = _kdf(b"\0" * 16, self.log2_n, self.r, self.p).derive(password.encode("utf-8")[:1024])
        hmac.compare_digest(key, key)


def check_new_password(password: str) -> None:
    if len(password) < MIN_LENGTH:
        raise PasswordError(f"a console password needs at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise PasswordError(f"a console password has at most {MAX_LENGTH} characters")


def _kdf(salt: bytes, log2_n: int, r: int, p: int) -> Scrypt:
    return Scrypt(salt=salt, length=32, n=2**log2_n, r=r, p=p)
