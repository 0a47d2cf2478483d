"""Shared builders for the storage tests: a settable clock, messages, replies, raw SQL."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from storage.records import CaseOpen, ConsentRecord, NewInbound, NewOutbound, TurnWrite

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def message(
    transport_id: str,
    text: str = "halo",
    *,
    kind: str = "text",
    channel: str = "telegram",
    when: datetime = T0,
) -> NewInbound:
    return NewInbound(channel, transport_id, kind, text, when)


def reply(
    contact_id: int,
    text: str = "Terima kasih sudah menghubungi kami.",
    *,
    priority: int = 5,
    due: datetime = T0,
    channel: str = "telegram",
    options: tuple[tuple[str, str], ...] = (),
) -> NewOutbound:
    return NewOutbound(contact_id, channel, text, options, priority, due)


def turn(
    contact_id: int,
    inbox_id: int,
    *,
    state: str = '{"node": "start"}',
    outbound: tuple[NewOutbound, ...] = (),
    cases: tuple[CaseOpen, ...] = (),
    language: str | None = None,
    consent: ConsentRecord | None = None,
    when: datetime = T0,
) -> TurnWrite:
    return TurnWrite(inbox_id, contact_id, state, outbound, when, cases, language, consent)


def raw_query(path: Path, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Reads the file directly, as an attacker with a copy of it would."""
    with closing(sqlite3.connect(path)) as conn:
        return [tuple(row) for row in conn.execute(sql, params).fetchall()]


def raw_update(path: Path, sql: str, params: tuple[Any, ...] = ()) -> None:
    """Tampers with the file directly, bypassing storage."""
    with closing(sqlite3.connect(path)) as conn, conn:
        conn.execute(sql, params)
