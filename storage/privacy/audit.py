"""The audit log: who read, exported or destroyed what about a person, when and why.

Append-only and chained. Each row holds `prev_hash`, the previous row's hash,
and `hash = HMAC-SHA256(audit key, prev_hash || row content)`. The audit key is
random and kept wrapped by the master key (like the blind-index key), so someone
who can edit the database file but holds no master key cannot forge a row or
re-chain the log after changing one. Triggers refuse UPDATE and DELETE through
SQL; `verify` detects what bypasses them and names the row:

- an edited row: its content no longer matches its hash;
- a deleted row: the next row's `prev_hash` is no row's hash, or `seq` skips;
- reordered rows: a row's `prev_hash` is the hash of a row other than the one
  before it.

Removing the newest rows leaves a shorter chain that is still valid: compare
the head that `verify` reports (its seq and hash) with one noted earlier.

Rows name people only by pseudonymous ids and codes (`contact:12`, `case:K7F3Q2`):
the log can be shown to an inspector without showing anyone's story.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from storage.crypto.vault import Vault
from storage.engine.clock import from_micros, to_micros
from storage.engine.db import Readers, Row, Tx, Writer
from storage.engine.pglocks import NS_CHAIN, lock_key
from storage.engine.rows import as_bytes
from storage.errors import InvalidRecordError

__all__ = [
    "AuditEntry",
    "AuditProblem",
    "AuditRepo",
    "AuditReport",
    "AuditRow",
    "append",
]

GENESIS = bytes(32)
_CHAIN_LOCK = lock_key(NS_CHAIN, 1)
_ACTOR = re.compile(r"(?:staff|family):[0-9]{1,19}|system|cli")
_ACTION = re.compile(r"[a-z][a-z0-9_]{0,39}")
_PAIR = r"[a-z_]{1,20}:[A-Za-z0-9_.-]{1,64}"
_SUBJECT = re.compile(rf"{_PAIR}(?:,{_PAIR})*")
MAX_REASON = 200


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One event to record. Checked when built: ids and codes only, never free text about a person.

    `actor` is `staff:<id>`, `family:<contact id>`, `system` or `cli`; `subject`
    is one or more `kind:id` (`contact:12`, `case:K7F3Q2,contact:12`); `reason`
    says why in words chosen by the code or a staff member (at most 200 characters).
    """

    actor: str
    action: str
    subject: str
    reason: str

    def __post_init__(self) -> None:
        if not _ACTOR.fullmatch(self.actor):
            raise InvalidRecordError(
                "AuditEntry.actor must be staff:<id>, family:<id>, system or cli"
            )
        if not _ACTION.fullmatch(self.action):
            raise InvalidRecordError("AuditEntry.action must be a short lower_case code")
        if not _SUBJECT.fullmatch(self.subject):
            raise InvalidRecordError("AuditEntry.subject must be kind:id pairs (contact:12)")
        if not self.reason.strip() or len(self.reason) > MAX_REASON:
            raise InvalidRecordError(f"AuditEntry.reason must be 1-{MAX_REASON} characters")
        if any(ch in self.reason for ch in "\r\n\t"):
            raise InvalidRecordError("AuditEntry.reason must be one line")


@dataclass(frozen=True, slots=True)
class AuditRow:
    seq: int
    at: datetime
    actor: str
    action: str
    subject: str
    reason: str


@dataclass(frozen=True, slots=True)
class AuditProblem:
    """What `verify` found wrong, and at which row (by its seq); `code` and `values` name
    the finding so the console can word it in the reader's language."""

    seq: int
    what: str
    code: str = ""
    values: tuple[tuple[str, str], ...] = ()

    def __str__(self) -> str:
        return f"row {self.seq}: {self.what}"


@dataclass(frozen=True, slots=True)
class AuditReport:
    rows: int
    head_seq: int
    head_hash: str  # hex; note it down to detect later removal of the newest rows
    problems: tuple[AuditProblem, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


def _digest(key: bytes, prev: bytes, at: int, entry: AuditEntry) -> bytes:
    content = json.dumps(
        [at, entry.actor, entry.action, entry.subject, entry.reason],
        ensure_ascii=False,
        separators=(",", ":"),
    ).encode("utf-8")
    return hmac.new(key, prev + content, hashlib.sha256).digest()


async def append(tx: Tx, entry: AuditEntry, now: int) -> int:
    """Adds a row after the newest one (inside the caller's transaction); returns its seq."""
    if tx.dialect == "postgres":
        # Several processes append to the one chain: one transaction at a time reads its
        # head and adds to it (SQLite's single writer already is one at a time).
        await tx.execute("SELECT pg_advisory_xact_lock(?)", (_CHAIN_LOCK,))
    last = await tx.fetchone("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1")
    seq, prev = (1, GENESIS) if last is None else (int(last[0]) + 1, as_bytes(last[1]))
    await tx.execute(
        "INSERT INTO audit (seq, at, actor, action, subject, reason, prev_hash, hash)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            seq,
            now,
            entry.actor,
            entry.action,
            entry.subject,
            entry.reason,
            prev,
            _digest(tx.vault.audit_key, prev, now, entry),
        ),
    )
    return seq


def _row(row: Row) -> AuditRow:
    return AuditRow(
        int(row[0]), from_micros(int(row[1])), str(row[2]), str(row[3]), str(row[4]), str(row[5])
    )


class AuditRepo:
    """Writes single events, reads the log, and verifies its chain."""

    def __init__(
        self, readers: Readers, writer: Writer, vault: Vault, clock: Callable[[], datetime]
    ) -> None:
        self._readers = readers
        self._writer = writer
        self._vault = vault
        self._clock = clock

    async def record(self, entry: AuditEntry) -> int:
        """Appends one event in its own transaction; returns its seq."""
        now = to_micros(self._clock(), "clock")

        async def job(tx: Tx) -> int:
            return await append(tx, entry, now)

        return await self._writer.run("audit.record", job)

    async def rows(self, after_seq: int = 0, limit: int = 1000) -> list[AuditRow]:
        rows = await self._readers.fetchall(
            "SELECT seq, at, actor, action, subject, reason FROM audit WHERE seq > ?"
            " ORDER BY seq LIMIT ?",
            (after_seq, limit),
            what="audit.rows",
        )
        return [_row(row) for row in rows]

    async def newest(
        self, before_seq: int | None = None, limit: int = 50, *, office_id: int | None = None
    ) -> list[AuditRow]:
        """Rows newest first, only those older than `before_seq` when given (the console
        pages down the log this way). With `office_id`, only what that office's staff did
        (and, for the default office, what the bot itself did): another office's rows
        name its case codes."""
        rows = await self._readers.fetchall(
            "SELECT seq, at, actor, action, subject, reason FROM audit WHERE seq < ?"
            " AND (? OR actor IN (SELECT 'staff:' || id FROM staff WHERE office_id = ?)"
            " OR (? AND actor NOT LIKE 'staff:%'))"
            " ORDER BY seq DESC LIMIT ?",
            (
                before_seq if before_seq is not None else 2**62,
                office_id is None,
                office_id or 0,
                office_id == 1,
                limit,
            ),
            what="audit.newest",
        )
        return [_row(row) for row in rows]

    async def verify(self) -> AuditReport:
        """Recomputes the chain and lists every row that was edited, removed or moved."""
        rows = await self._readers.fetchall(
            "SELECT seq, at, actor, action, subject, reason, prev_hash, hash FROM audit"
            " ORDER BY seq",
            what="audit.verify",
        )
        key = self._vault.audit_key
        seq_of_hash = {as_bytes(row[7]): int(row[0]) for row in rows}
        problems: list[AuditProblem] = []
        prev_seq, prev_hash = 0, GENESIS
        for row in rows:
            seq, prev, stored = int(row[0]), as_bytes(row[6]), as_bytes(row[7])
            try:
                entry = AuditEntry(str(row[2]), str(row[3]), str(row[4]), str(row[5]))
                intact = hmac.compare_digest(_digest(key, prev, int(row[1]), entry), stored)
            except (InvalidRecordError, TypeError, ValueError):
                intact = False
            if not intact:
                problems.append(
                    AuditProblem(seq, "edited: its content does not match its hash", "edited")
                )
            if prev != prev_hash:
                follows = None if prev == GENESIS else seq_of_hash.get(prev)
                if prev == GENESIS:
                    problems.append(
                        AuditProblem(seq, "out of order: it was written first", "moved_first")
                    )
                elif follows is not None:
                    problems.append(
                        AuditProblem(
                            seq,
                            f"out of order: it was written after row {follows}",
                            "moved_after",
                            (("row", str(follows)),),
                        )
                    )
                elif seq - prev_seq > 1:
                    gone = (
                        f"row {prev_seq + 1}"
                        if seq - prev_seq == 2
                        else f"rows {prev_seq + 1} to {seq - 1}"
                    )
                    problems.append(
                        AuditProblem(
                            seq,
                            f"{gone} before it deleted",
                            "deleted_one" if seq - prev_seq == 2 else "deleted_before",
                            (("first", str(prev_seq + 1)), ("last", str(seq - 1))),
                        )
                    )
                else:
                    problems.append(
                        AuditProblem(
                            seq, "the row it was written after is missing (deleted)", "orphaned"
                        )
                    )
            elif seq != prev_seq + 1:
                problems.append(
                    AuditProblem(
                        seq,
                        f"renumbered: expected seq {prev_seq + 1}",
                        "renumbered",
                        (("expected", str(prev_seq + 1)),),
                    )
                )
            prev_seq, prev_hash = seq, stored
        head = rows[-1] if rows else None
        return AuditReport(
            rows=len(rows),
            head_seq=0 if head is None else int(head[0]),
            head_hash=GENESIS.hex() if head is None else as_bytes(head[7]).hex(),
            problems=tuple(problems),
        )
