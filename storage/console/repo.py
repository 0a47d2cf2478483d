"""Console credentials and sessions: what the web console needs to know who is at the keyboard.

The repository stores and checks; the policy (how long a lockout lasts, how long
a session may idle, how a password is hashed) belongs to `bot.console.auth.login`,
which passes its decisions in. The TOTP secret is sealed with a key derived
from the database's audit key (random, wrapped by the master key), so it
survives master-key rotation and is unreadable without a master key.

Errors are `storage.errors` ones: `NotFoundError` for an unknown staff id.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from storage.crypto.aead import Place, open_blob, seal
from storage.crypto.vault import Vault
from storage.engine.clock import from_micros, to_micros
from storage.engine.db import Readers, Tx, Writer
from storage.engine.rows import as_bytes
from storage.errors import NotFoundError

__all__ = ["ConsoleRepo", "ConsoleSession", "Credentials", "LockSteps", "Reserved", "session_hash"]

STAGES = ("totp", "enrol", "full")
# The failure counter and lock of each step: a fixed pair of column names, never input.
_COUNTERS = {
    "login": ("failed_logins", "locked_until"),
    "totp": ("totp_failures", "totp_locked_until"),
}


@dataclass(frozen=True, slots=True)
class LockSteps:
    """The lock policy as the database applies it (decided in `bot.console.auth`): `free`
    failures, then `first_us` microseconds doubling with each further one, up to `longest_us`."""

    free: int
    first_us: int
    longest_us: int


@dataclass(frozen=True, slots=True)
class Reserved:
    """An attempt counted in advance: the failures with it, the lock it set, the hash."""

    failures: int
    locked_until: datetime
    password_hash: str | None


@dataclass(frozen=True, slots=True)
class Credentials:
    """A staff member's console login state (the TOTP secret stays sealed until asked)."""

    staff_id: int
    password_hash: str | None
    has_totp: bool
    totp_confirmed: bool
    totp_last_step: int
    failed_logins: int
    locked_until: datetime
    totp_failures: int = 0  # wrong second-factor codes since the last right one
    totp_locked_until: datetime = from_micros(0)


@dataclass(frozen=True, slots=True)
class ConsoleSession:
    staff_id: int
    stage: str
    created_at: datetime
    last_seen_at: datetime
    failures: int = 0  # wrong second-factor codes in this half-signed-in session


def session_hash(session_id: str) -> bytes:
    """What the database keeps of a session id: enough to find it, not to use it."""
    return hashlib.sha256(session_id.encode("ascii")).digest()


def _totp_place(staff_id: int) -> Place:
    return Place("staff_credentials", "totp_enc", str(staff_id))


def _totp_key(vault: Vault) -> bytes:
    return _derived(vault, b"lk3/console-totp/v1")


def _derived(vault: Vault, info: bytes) -> bytes:
    """A key for one purpose from the audit key (random, wrapped by the master key)."""
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info)
    return hkdf.derive(vault.audit_key)


class ConsoleRepo:
    """Passwords, second factors, failed-login counters and sessions of console users."""

    def __init__(
        self, readers: Readers, writer: Writer, vault: Vault, clock: Callable[[], datetime]
    ) -> None:
        self._readers = readers
        self._writer = writer
        self._vault = vault
        self._clock = clock

    def csrf_key(self) -> bytes:
        """The console's CSRF key: derived like the TOTP key, so the same after a restart
        (a form rendered before it still posts) and unknown without the master key."""
        return _derived(self._vault, b"lk3/console-csrf/v1")

    def draft_chat_key(self) -> bytes:
        """The key sealing the flows page's test chats: derived like the CSRF key, so a
        chat started on one `lk3 run` process goes on when the next turn reaches another."""
        return _derived(self._vault, b"lk3/console-draft-chat/v1")

    async def credentials(self, staff_id: int) -> Credentials:
        row = await self._readers.fetchone(
            "SELECT password_hash, totp_enc IS NOT NULL, totp_confirmed, totp_last_step,"
            " failed_logins, locked_until, totp_failures, totp_locked_until"
            " FROM staff_credentials WHERE staff_id = ?",
            (staff_id,),
            what="console.credentials",
        )
        if row is None:
            return Credentials(staff_id, None, False, False, 0, 0, from_micros(0))
        return Credentials(
            staff_id=staff_id,
            password_hash=None if row[0] is None else str(row[0]),
            has_totp=bool(row[1]),
            totp_confirmed=bool(row[2]),
            totp_last_step=int(row[3]),
            failed_logins=int(row[4]),
            locked_until=from_micros(int(row[5])),
            totp_failures=int(row[6]),
            totp_locked_until=from_micros(int(row[7])),
        )

    async def _upsert(
        self, name: str, staff_id: int, assignments: str, params: tuple[object, ...]
    ) -> None:
        now = to_micros(self._clock(), f"console.{name}")

        async def job(tx: Tx) -> None:
            exists = await tx.fetchone("SELECT 1 FROM staff WHERE id = ?", (staff_id,))
            if exists is None:
                raise NotFoundError(f"no staff member with id {staff_id}")
            await tx.execute(
                "INSERT INTO staff_credentials (staff_id, updated_at) VALUES (?, ?)"
                " ON CONFLICT (staff_id) DO NOTHING",
                (staff_id, now),
            )
            await tx.execute(
                f"UPDATE staff_credentials SET {assignments}, updated_at = ? WHERE staff_id = ?",
                (*params, now, staff_id),
            )

        await self._writer.run(f"console.{name}", job)

    async def set_password(self, staff_id: int, password_hash: str) -> None:
        """A new password also clears the lockout and ends every session of this user."""
        await self._upsert(
            "set_password",
            staff_id,
            "password_hash = ?, failed_logins = 0, locked_until = 0",
            (password_hash,),
        )
        await self.end_sessions(staff_id)

    async def reserve_login(
        self, staff_id: int, now: datetime, lock: LockSteps, *, only_if_clean: bool = False
    ) -> Reserved | None:
        """Counts a password attempt as failed before it is checked, in one statement, so
        concurrent attempts cannot all pass one lock check: None while the account is
        locked (or, with `only_if_clean`, has any failure on record); else the count with
        this attempt and its stored hash. A right password clears it (`record_success`)."""
        return await self._reserve("login", staff_id, now, lock, only_if_clean)

    async def reserve_totp(
        self, staff_id: int, now: datetime, lock: LockSteps, *, only_if_clean: bool = False
    ) -> Reserved | None:
        """The same for a second-factor code (counted apart from wrong passwords)."""
        return await self._reserve("totp", staff_id, now, lock, only_if_clean)

    async def _reserve(
        self, step: str, staff_id: int, now: datetime, lock: LockSteps, only_if_clean: bool
    ) -> Reserved | None:
        count, until = _COUNTERS[step]
        at = to_micros(now, f"console.reserve_{step}")

        async def job(tx: Tx) -> Reserved | None:
            exists = await tx.fetchone("SELECT 1 FROM staff WHERE id = ?", (staff_id,))
            if exists is None:
                raise NotFoundError(f"no staff member with id {staff_id}")
            await tx.execute(
                "INSERT INTO staff_credentials (staff_id, updated_at) VALUES (?, ?)"
                " ON CONFLICT (staff_id) DO NOTHING",
                (staff_id, at),
            )
            # The lock this attempt earns if it fails, set now: the next one waits for it.
            row = await tx.fetchone(
                f"UPDATE staff_credentials SET {count} = {count} + 1,"
                f" {until} = CASE WHEN {count} + 1 < ?1 THEN ?2"
                # PostgreSQL shifts a BIGINT by an INTEGER only: both spelled out.
                f" ELSE ?2 + MIN(?3 * (CAST(1 AS BIGINT) << CAST(MIN({count} + 1 - ?1, 20)"
                " AS INTEGER)), ?4) END,"
                " updated_at = ?2"
                f" WHERE staff_id = ?5 AND {until} <= ?2 AND (?6 = 0 OR {count} = 0)"
                f" RETURNING {count}, {until}, password_hash",
                (lock.free, at, lock.first_us, lock.longest_us, staff_id, int(only_if_clean)),
            )
            if row is None:
                return None
            stored = None if row[2] is None else str(row[2])
            return Reserved(int(row[0]), from_micros(int(row[1])), stored)

        return await self._writer.run(f"console.reserve_{step}", job)

    async def record_success(self, staff_id: int) -> None:
        await self._upsert("record_success", staff_id, "failed_logins = 0, locked_until = 0", ())

    async def upgrade_password(self, staff_id: int, old_hash: str, new_hash: str) -> bool:
        """Replaces a weaker hash of the same password (sessions stay); False if the
        password changed meanwhile."""
        now = to_micros(self._clock(), "console.upgrade_password")

        async def job(tx: Tx) -> bool:
            changed = await tx.execute(
                "UPDATE staff_credentials SET password_hash = ?, updated_at = ?"
                " WHERE staff_id = ? AND password_hash = ?",
                (new_hash, now, staff_id, old_hash),
            )
            return changed == 1

        return await self._writer.run("console.upgrade_password", job)

    async def record_totp_success(self, staff_id: int) -> None:
        await self._upsert(
            "record_totp_success", staff_id, "totp_failures = 0, totp_locked_until = 0", ()
        )

    async def set_totp(self, staff_id: int, secret: str) -> None:
        """Stores a new, not yet confirmed secret (sealed); the old one stops working."""
        blob = seal(_totp_key(self._vault), secret.encode("ascii"), _totp_place(staff_id))
        await self._upsert(
            "set_totp", staff_id, "totp_enc = ?, totp_confirmed = 0, totp_last_step = 0", (blob,)
        )

    async def confirm_totp(self, staff_id: int, step: int) -> None:
        await self._upsert(
            "confirm_totp", staff_id, "totp_confirmed = 1, totp_last_step = ?", (step,)
        )

    async def reset_totp(self, staff_id: int) -> None:
        await self._upsert(
            "reset_totp", staff_id, "totp_enc = NULL, totp_confirmed = 0, totp_last_step = 0", ()
        )
        await self.end_sessions(staff_id)

    async def totp_secret(self, staff_id: int) -> str | None:
        row = await self._readers.fetchone(
            "SELECT totp_enc FROM staff_credentials WHERE staff_id = ?",
            (staff_id,),
            what="console.totp_secret",
        )
        if row is None or row[0] is None:
            return None
        key = _totp_key(self._vault)
        return open_blob(key, as_bytes(row[0]), _totp_place(staff_id)).decode("ascii")

    async def use_totp_step(self, staff_id: int, step: int) -> bool:
        """Marks a code's time step as used; False if it (or a later one) was used: no replay."""
        now = to_micros(self._clock(), "console.use_totp_step")

        async def job(tx: Tx) -> bool:
            changed = await tx.execute(
                "UPDATE staff_credentials SET totp_last_step = ?, updated_at = ?"
                " WHERE staff_id = ? AND totp_last_step < ?",
                (step, now, staff_id, step),
            )
            return changed == 1

        return await self._writer.run("console.use_totp_step", job)

    # --- sessions ------------------------------------------------------------

    async def start_session(self, session_id: str, staff_id: int, stage: str) -> None:
        if stage not in STAGES:
            raise ValueError(f"console session stage {stage!r} is not one of {STAGES}")
        now = to_micros(self._clock(), "console.start_session")

        async def job(tx: Tx) -> None:
            await tx.execute(
                "INSERT INTO console_sessions (id_hash, staff_id, stage, created_at, last_seen_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (session_hash(session_id), staff_id, stage, now, now),
            )

        await self._writer.run("console.start_session", job)

    async def session(self, session_id: str) -> ConsoleSession | None:
        row = await self._readers.fetchone(
            "SELECT staff_id, stage, created_at, last_seen_at, failures FROM console_sessions"
            " WHERE id_hash = ?",
            (session_hash(session_id),),
            what="console.session",
        )
        if row is None:
            return None
        return ConsoleSession(
            int(row[0]),
            str(row[1]),
            from_micros(int(row[2])),
            from_micros(int(row[3])),
            int(row[4]),
        )

    async def session_failure(self, session_id: str) -> int:
        """Counts one wrong code in this session; returns how many it has had."""

        async def job(tx: Tx) -> int:
            row = await tx.fetchone(
                "UPDATE console_sessions SET failures = failures + 1 WHERE id_hash = ?"
                " RETURNING failures",
                (session_hash(session_id),),
            )
            return 0 if row is None else int(row[0])

        return await self._writer.run("console.session_failure", job)

    async def touch_session(self, session_id: str, stage: str | None = None) -> None:
        now = to_micros(self._clock(), "console.touch_session")

        async def job(tx: Tx) -> None:
            await tx.execute(
                "UPDATE console_sessions SET last_seen_at = ?, stage = COALESCE(?, stage)"
                " WHERE id_hash = ?",
                (now, stage, session_hash(session_id)),
            )

        await self._writer.run("console.touch_session", job)

    async def end_session(self, session_id: str) -> None:
        async def job(tx: Tx) -> None:
            await tx.execute(
                "DELETE FROM console_sessions WHERE id_hash = ?", (session_hash(session_id),)
            )

        await self._writer.run("console.end_session", job)

    async def end_sessions(self, staff_id: int) -> None:
        async def job(tx: Tx) -> None:
            await tx.execute("DELETE FROM console_sessions WHERE staff_id = ?", (staff_id,))

        await self._writer.run("console.end_sessions", job)
