"""CSRF tokens bound to the session (or, before login, to a random pre-session cookie).

A token is an HMAC of the session id under a key that never leaves the process,
so a page on another site can neither read nor compute it; forms carry it in a
hidden field and every POST is refused without the right one.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

__all__ = ["CsrfKey"]


class CsrfKey:
    def __init__(self, key: bytes | None = None) -> None:
        self._key = key if key is not None else secrets.token_bytes(32)

    def token(self, binding: str) -> str:
        return hmac.new(self._key, binding.encode("ascii"), hashlib.sha256).hexdigest()

    def check(self, binding: str, token: str) -> bool:
        return bool(binding) and hmac.compare_digest(self.token(binding), token)
