"""The few indexed reads `/metrics` and `/readyz` make, and the supervisor notices' marks.

Everything here is a count, an age or a code: nothing is decrypted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from storage.engine.clock import from_micros, to_micros
from storage.engine.db import Readers, Tx, Writer

__all__ = ["Backlog", "MonitoringRepo", "Undelivered", "Waiting"]


@dataclass(frozen=True, slots=True)
class Backlog:
    """Outbox rows due and not yet sent, and the due time of the oldest."""

    due: int
    oldest_due_at: datetime | None


@dataclass(frozen=True, slots=True)
class Waiting:
    """Cases of one urgency waiting in the queue (not taken), and the longest waiting."""

    urgency: str
    count: int
    oldest_since: datetime | None


@dataclass(frozen=True, slots=True)
class Undelivered:
    """An urgent case waiting whose alert reached no counsellor (none sent, or none filed)."""

    case_code: str
    waiting_since: datetime


# Sent alerts of a case: its alert rows whose outbox row was sent (digests included).
_ALERT_SENT = (
    "EXISTS (SELECT 1 FROM case_alerts a JOIN outbox o ON o.id = a.outbox_id"
    " WHERE a.case_id = c.id AND o.status = 'sent')"
)


class MonitoringRepo:
    def __init__(self, readers: Readers, writer: Writer) -> None:
        self._readers = readers
        self._writer = writer

    async def backlog(self, now: datetime) -> Backlog:
        """Rows due now and pending (the partial index `outbox_due` holds only those)."""
        row = await self._readers.fetchone(
            "SELECT count(*), min(due_at) FROM outbox WHERE status = 'pending' AND due_at <= ?",
            (to_micros(now, "monitoring.backlog now"),),
            what="monitoring.backlog",
        )
        if row is None or not row[0]:
            return Backlog(0, None)
        return Backlog(int(row[0]), from_micros(int(row[1])))

    async def waiting(self) -> list[Waiting]:
        """Per urgency, the cases in the queue (index `cases_live`)."""
        rows = await self._readers.fetchall(
            "SELECT urgency, count(*), min(waiting_since) FROM cases"
            " WHERE status = 'open' GROUP BY urgency",
            what="monitoring.waiting",
        )
        return [
            Waiting(str(r[0]), int(r[1]), None if r[2] is None else from_micros(int(r[2])))
            for r in rows
        ]

    async def undelivered(self) -> list[Undelivered]:
        """`darurat` cases in the queue whose alert reached nobody yet, longest waiting first."""
        rows = await self._readers.fetchall(
            "SELECT c.code, c.waiting_since FROM cases c"
            f" WHERE c.status = 'open' AND c.urgency = 'darurat' AND NOT {_ALERT_SENT}"
            " ORDER BY c.waiting_since",
            what="monitoring.undelivered",
        )
        return [Undelivered(str(r[0]), from_micros(int(r[1]))) for r in rows]

    # --- supervisor notices -------------------------------------------------

    async def notice_due(self, fault: str, kind: str, now: datetime, remind_after_s: int) -> bool:
        """Records the fault as active; True when a notice is due now (first, or a reminder).

        The caller sends, then `notice_sent`: a crash between them sends it again on
        the next pass (at least once), never once per pass.
        """
        at = to_micros(now, "monitoring.notice_due now")
        remind = remind_after_s * 1_000_000

        async def job(tx: Tx) -> bool:
            row = await tx.fetchone(
                "SELECT last_sent_at, resolved_at FROM supervisor_notices WHERE fault = ?",
                (fault,),
            )
            if row is None or row[1] is not None:
                await tx.execute(
                    "INSERT INTO supervisor_notices (fault, kind, first_at) VALUES (?, ?, ?)"
                    " ON CONFLICT (fault) DO UPDATE SET kind = excluded.kind,"
                    " first_at = excluded.first_at, last_sent_at = NULL, sent = 0,"
                    " resolved_at = NULL",
                    (fault, kind, at),
                )
                return True
            return row[0] is None or at - int(row[0]) >= remind

        return await self._writer.run("monitoring.notice_due", job)

    async def notice_sent(self, fault: str, now: datetime) -> None:
        at = to_micros(now, "monitoring.notice_sent now")

        async def job(tx: Tx) -> None:
            await tx.execute(
                "UPDATE supervisor_notices SET last_sent_at = ?, sent = sent + 1 WHERE fault = ?",
                (at, fault),
            )

        await self._writer.run("monitoring.notice_sent", job)

    async def resolve_others(self, active: set[str], now: datetime) -> list[str]:
        """Marks every unresolved fault not in `active` resolved; returns their keys."""
        at = to_micros(now, "monitoring.resolve_others now")
        # Read first: the usual pass has nothing to resolve and writes nothing.
        rows = await self._readers.fetchall(
            "SELECT fault FROM supervisor_notices WHERE resolved_at IS NULL",
            what="monitoring.open_notices",
        )
        gone = [str(r[0]) for r in rows if str(r[0]) not in active]
        if not gone:
            return []

        async def job(tx: Tx) -> list[str]:
            for fault in gone:
                await tx.execute(
                    "UPDATE supervisor_notices SET resolved_at = ? WHERE fault = ?"
                    " AND resolved_at IS NULL",
                    (at, fault),
                )
            return gone

        return await self._writer.run("monitoring.resolve_others", job)

    async def notices(self) -> list[tuple[str, int, bool]]:
        """(fault, times sent, resolved) of every notice, for tests and `lk3 doctor`."""
        rows = await self._readers.fetchall(
            "SELECT fault, sent, resolved_at IS NOT NULL FROM supervisor_notices ORDER BY fault",
            what="monitoring.notices",
        )
        return [(str(r[0]), int(r[1]), bool(r[2])) for r in rows]
