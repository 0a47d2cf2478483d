"""Each webhook receiver's state, read for `lk3 doctor` without opening the store.

Names (from the configuration), counts and times only: how many deliveries wait, how
many arrived and when the last did, how many were given up, and whether the receiver is
failing now (tries in a row, the next try). Never a body, an event id or a case code.
Read-only, on either backend (a read-only SQLite connection; on PostgreSQL one plain
connection), like `storage.engine.dbfacts`.
"""

from __future__ import annotations

import contextlib
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from storage.engine.clock import from_micros
from storage.engine.pgtools import blocking, connect

__all__ = ["ReceiverState", "receiver_states"]

_STATES = (
    "SELECT e.name, e.active, e.failures, e.paused_until,"
    " (SELECT count(*) FROM webhook_deliveries d WHERE d.endpoint_id = e.id"
    "  AND d.status = 'pending'),"
    " (SELECT count(*) FROM webhook_deliveries d WHERE d.endpoint_id = e.id"
    "  AND d.status = 'delivered'),"
    " (SELECT count(*) FROM webhook_deliveries d WHERE d.endpoint_id = e.id"
    "  AND d.status = 'failed'),"
    " (SELECT max(d.delivered_at) FROM webhook_deliveries d WHERE d.endpoint_id = e.id"
    "  AND d.status = 'delivered')"
    " FROM webhook_endpoints e ORDER BY e.name"
)


@dataclass(frozen=True, slots=True)
class ReceiverState:
    """One receiver as the database knows it."""

    name: str
    active: bool
    failures: int  # failed tries in a row now (0: not failing)
    next_try: datetime | None  # while failing: when the same event is tried again
    pending: int
    delivered: int
    given_up: int
    last_delivered: datetime | None


def receiver_states(path: Path, url: str | None) -> list[ReceiverState] | None:
    """Every receiver the database knows; None when there is no database or no such table."""
    rows = _sqlite_rows(path) if url is None else blocking(_pg_rows(url))
    if rows is None:
        return None
    return [
        ReceiverState(
            name=str(r[0]),
            active=bool(r[1]),
            failures=int(r[2]),
            next_try=None if r[3] is None else from_micros(int(r[3])),
            pending=int(r[4]),
            delivered=int(r[5]),
            given_up=int(r[6]),
            last_delivered=None if r[7] is None else from_micros(int(r[7])),
        )
        for r in rows
    ]


def _sqlite_rows(path: Path) -> list[tuple[Any, ...]] | None:
    if not path.exists():
        return None
    uri = f"file:{path}?mode=ro"
    with contextlib.closing(sqlite3.connect(uri, uri=True, timeout=5.0)) as conn:
        try:
            return [tuple(r) for r in conn.execute(_STATES)]
        except sqlite3.OperationalError:
            return None  # an older database, before the webhooks' tables


async def _pg_rows(url: str) -> list[tuple[Any, ...]] | None:
    conn = await connect(url)
    try:
        if not await conn.fetchval("SELECT to_regclass('webhook_endpoints') IS NOT NULL"):
            return None
        return [tuple(r) for r in await conn.fetch(_STATES)]
    finally:
        await conn.close()
