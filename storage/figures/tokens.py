"""The figures API's bearer tokens: random, shown once, stored as a hash, one office each.

A token is `lk3f_` and 43 URL-safe characters (256 random bits). Only its SHA-256 is
stored: with that much randomness a fast hash cannot be reversed, and the lookup by
hash is one indexed read. The caller (`bot.figures.api`) compares the hash it found
with `hmac.compare_digest`, so no timing tells how much of a guess was right.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

from storage.engine.clock import from_micros, to_micros
from storage.engine.db import Readers, Row, Tx, Writer
from storage.engine.rows import as_bytes
from storage.errors import InvalidRecordError

__all__ = ["PREFIX", "ApiToken", "ApiTokenRepo", "token_hash"]

PREFIX = "lk3f_"


def token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8")).digest()


@dataclass(frozen=True, slots=True)
class ApiToken:
    """A token's record (never the token itself)."""

    id: int
    office_id: int
    office: str  # the office's code
    label: str
    created_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


def _of(r: Row) -> ApiToken:
    return ApiToken(
        int(r[0]),
        int(r[1]),
        str(r[2]),
        str(r[3]),
        from_micros(int(r[4])),
        None if r[5] is None else from_micros(int(r[5])),
        None if r[6] is None else from_micros(int(r[6])),
    )


_COLUMNS = "t.id, t.office_id, o.code, t.label, t.created_at, t.revoked_at, t.last_used_at"
_FROM = "FROM api_tokens t JOIN offices o ON o.id = t.office_id"


class ApiTokenRepo:
    def __init__(self, readers: Readers, writer: Writer) -> None:
        self._readers = readers
        self._writer = writer

    async def add(self, office_id: int, label: str, at: datetime) -> tuple[ApiToken, str]:
        """A new token for one office: its record, and the token, never shown again."""
        if len(label) > 100:
            raise InvalidRecordError("an API token's label is 100 characters at most")
        token = PREFIX + secrets.token_urlsafe(32)
        now = to_micros(at, "ApiTokenRepo.add at")

        async def job(tx: Tx) -> ApiToken:
            row = await tx.fetchone(
                "INSERT INTO api_tokens (office_id, label, token_hash, created_at)"
                " VALUES (?, ?, ?, ?) RETURNING id",
                (office_id, label, token_hash(token), now),
            )
            assert row is not None
            made = await tx.fetchone(f"SELECT {_COLUMNS} {_FROM} WHERE t.id = ?", (int(row[0]),))
            assert made is not None
            return _of(made)

        return await self._writer.run("api_tokens.add", job), token

    async def revoke(self, token_id: int, at: datetime) -> bool:
        now = to_micros(at, "ApiTokenRepo.revoke at")

        async def job(tx: Tx) -> bool:
            return (
                await tx.execute(
                    "UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
                    (now, token_id),
                )
                > 0
            )

        return await self._writer.run("api_tokens.revoke", job)

    async def list(self) -> list[ApiToken]:
        rows = await self._readers.fetchall(
            f"SELECT {_COLUMNS} {_FROM} ORDER BY t.id", what="api_tokens.list"
        )
        return [_of(r) for r in rows]

    async def check(self, token: str, at: datetime) -> ApiToken | None:
        """The live token's record, or None: unknown, revoked or malformed alike."""
        if not token.startswith(PREFIX) or len(token) > 100:
            return None
        wanted = token_hash(token)
        row = await self._readers.fetchone(
            f"SELECT {_COLUMNS}, t.token_hash {_FROM} WHERE t.token_hash = ?",
            (wanted,),
            what="api_tokens.check",
        )
        if row is None or not hmac.compare_digest(as_bytes(row[7]), wanted) or row[5] is not None:
            return None
        found = _of(row)
        now = to_micros(at, "ApiTokenRepo.check at")

        async def job(tx: Tx) -> None:
            await tx.execute("UPDATE api_tokens SET last_used_at = ? WHERE id = ?", (now, found.id))

        await self._writer.run("api_tokens.used", job)
        return found
