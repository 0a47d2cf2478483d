"""The audit log: append-only, chained, and every kind of tampering found and named."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest
from storage_support import open_store, raw_query, raw_update
from support import Clock

from storage.crypto.keys import KeyRing
from storage.errors import InvalidRecordError
from storage.privacy.audit import AuditEntry

DROP_GUARDS = (
    "DROP TRIGGER audit_append_only_update",
    "DROP TRIGGER audit_append_only_delete",
)


async def five_rows(db_path: Path, keyring: KeyRing, clock: Clock) -> None:
    async with await open_store(db_path, keyring, clock=clock) as store:
        for n in range(1, 6):
            clock.advance(60)
            await store.audit.record(
                AuditEntry(f"staff:{n}", "read_transcript", f"case:K{n}ABCD", f"reason {n}")
            )


def tamper(db_path: Path, *statements: str) -> None:
    """Changes the file directly, as someone with the file but not the keys could."""
    for sql in (*DROP_GUARDS, *statements):
        raw_update(db_path, sql)


async def verify(db_path: Path, keyring: KeyRing, clock: Clock) -> list[str]:
    async with await open_store(db_path, keyring, clock=clock) as store:
        report = await store.audit.verify()
    return [str(p) for p in report.problems]


async def test_an_untouched_log_verifies_and_reports_its_head(
    db_path: Path, keyring: KeyRing, clock: Clock
) -> None:
    await five_rows(db_path, keyring, clock)
    async with await open_store(db_path, keyring, clock=clock) as store:
        report = await store.audit.verify()
        rows = await store.audit.rows()
    assert report.ok and report.rows == 5 and report.head_seq == 5
    assert len(report.head_hash) == 64
    assert [r.seq for r in rows] == [1, 2, 3, 4, 5]
    assert rows[0].actor == "staff:1" and rows[0].subject == "case:K1ABCD"


@pytest.mark.parametrize("sql", ["UPDATE audit SET reason = 'x'", "DELETE FROM audit"])
async def test_sql_cannot_change_or_remove_a_row(
    db_path: Path, keyring: KeyRing, clock: Clock, sql: str
) -> None:
    await five_rows(db_path, keyring, clock)
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        raw_update(db_path, sql)


TAMPERING = [
    (
        "a reason edited",
        ("UPDATE audit SET reason = 'nothing to see' WHERE seq = 3",),
        ["row 3: edited: its content does not match its hash"],
    ),
    (
        "an actor edited",
        ("UPDATE audit SET actor = 'staff:9' WHERE seq = 1",),
        ["row 1: edited: its content does not match its hash"],
    ),
    (
        "a time edited",
        ("UPDATE audit SET at = at - 86400000000 WHERE seq = 5",),
        ["row 5: edited: its content does not match its hash"],
    ),
    (
        "a middle row deleted",
        ("DELETE FROM audit WHERE seq = 3",),
        ["row 4: row 3 before it deleted"],
    ),
    (
        "two rows deleted",
        ("DELETE FROM audit WHERE seq IN (2, 3)",),
        ["row 4: rows 2 to 3 before it deleted"],
    ),
    (
        "the first row deleted",
        ("DELETE FROM audit WHERE seq = 1",),
        ["row 2: row 1 before it deleted"],
    ),
    (
        "a row deleted and the rest renumbered",
        (
            "DELETE FROM audit WHERE seq = 3",
            "UPDATE audit SET seq = seq - 1 WHERE seq > 3",
        ),
        ["row 3: the row it was written after is missing (deleted)"],
    ),
    (
        "two rows swapped",
        (
            "UPDATE audit SET seq = 100 WHERE seq = 3",
            "UPDATE audit SET seq = 3 WHERE seq = 4",
            "UPDATE audit SET seq = 4 WHERE seq = 100",
        ),
        [
            "row 3: out of order: it was written after row 4",
            "row 4: out of order: it was written after row 2",
            "row 5: out of order: it was written after row 3",
        ],
    ),
    (
        "a row re-chained with a plain hash",
        (
            "UPDATE audit SET reason = 'forged', hash = "
            f"X'{hashlib.sha256(b'forged').hexdigest()}' WHERE seq = 2",
        ),
        [
            "row 2: edited: its content does not match its hash",
            "row 3: the row it was written after is missing (deleted)",
        ],
    ),
]


@pytest.mark.parametrize(
    ("statements", "expected"), [t[1:] for t in TAMPERING], ids=[t[0] for t in TAMPERING]
)
async def test_tampering_is_detected_row_by_row(
    db_path: Path,
    keyring: KeyRing,
    clock: Clock,
    statements: tuple[str, ...],
    expected: list[str],
) -> None:
    await five_rows(db_path, keyring, clock)
    tamper(db_path, *statements)
    assert await verify(db_path, keyring, clock) == expected


async def test_a_row_copied_from_another_database_does_not_verify(
    tmp_path: Path, keyring: KeyRing, clock: Clock
) -> None:
    """The chain is keyed: rows written under another database's audit key are refused."""
    ours, theirs = tmp_path / "ours.db", tmp_path / "theirs.db"
    await five_rows(ours, keyring, clock)
    await five_rows(theirs, KeyRing.generate(), clock)
    row = raw_query(theirs, "SELECT * FROM audit WHERE seq = 1")[0]
    tamper(ours, "DELETE FROM audit")
    raw_update(ours, "INSERT INTO audit VALUES (?, ?, ?, ?, ?, ?, ?, ?)", row)
    assert await verify(ours, keyring, clock) == [
        "row 1: edited: its content does not match its hash"
    ]


@pytest.mark.parametrize(
    ("actor", "action", "subject", "reason", "error"),
    [
        ("budi", "export", "contact:1", "why", "actor must be"),
        ("staff:1", "Export!", "contact:1", "why", "action must be"),
        ("staff:1", "export", "Ibu Maria", "why", "subject must be"),
        ("staff:1", "export", "contact:1", "", "reason must be"),
        ("staff:1", "export", "contact:1", "two\nlines", "reason must be one line"),
        ("staff:1", "export", "contact:1", "x" * 201, "reason must be"),
    ],
    ids=["free actor", "odd action", "a name as subject", "no reason", "newline", "too long"],
)
def test_an_entry_holds_ids_and_codes_only(
    actor: str, action: str, subject: str, reason: str, error: str
) -> None:
    with pytest.raises(InvalidRecordError, match=error):
        AuditEntry(actor, action, subject, reason)
