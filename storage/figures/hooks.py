"""Case webhooks' durable queue: rows written with the change they tell, leased per endpoint.

`follow` is called inside the transaction that records a case event
(`storage.handoff.steps.record_event`, `storage.handoff.cases`): for the events a
receiver follows it writes one delivery per active endpoint, so the event and its
deliveries commit together or not at all. The sender (`bot.webhooks.sender`) leases
an endpoint (one process at a time, `leased_until`), sends its pending rows in order,
and marks each delivered on a 2xx; a failure pauses the endpoint with a growing wait
and the same row goes first next time: at least once, in order, per endpoint. A
process that dies mid-send leaves the row pending and the lease runs out, so the row
is sent again: the receiver dedupes by the event's id.

What a body holds: the event's type and id, its time, the office, and the case's
code, category, urgency, status, outcome and referral codes. Never a name, a number,
a chat id or anything a person wrote.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from storage.engine.clock import from_micros, to_micros
from storage.engine.db import Readers, Tx, Writer

__all__ = [
    "FOLLOWED",
    "Delivery",
    "EndpointState",
    "WebhookRepo",
    "follow",
]

# The case events a receiver follows, by their `case_events` name; `relayed_out` only
# the first time (the first human reply).
FOLLOWED = {
    "opened": "case.opened",
    "raised": "case.urgency_changed",
    "relayed_out": "case.first_reply",
    "referred": "case.referred",
    "closed": "case.closed",
}


def _iso(micros: int) -> str:
    return from_micros(micros).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


async def follow(tx: Tx, case_id: int, event: str, at: int, detail: str = "") -> None:
    """Queues the webhook deliveries of a case event, inside its transaction (see above)."""
    kind = FOLLOWED.get(event)
    if kind is None:
        return
    endpoints = await tx.fetchall("SELECT id, name FROM webhook_endpoints WHERE active = 1")
    if not endpoints:
        return
    case = await tx.fetchone(
        "SELECT c.code, c.category, c.urgency, c.status, c.outcome, c.first_reply_at, o.code"
        " FROM cases c JOIN offices o ON o.id = c.office_id WHERE c.id = ?",
        (case_id,),
    )
    if case is None:
        return
    if event == "relayed_out" and case[5] is not None:
        return  # a later reply: the first was told
    event_id = "evt_" + secrets.token_hex(16)
    body = {
        "id": event_id,
        "type": kind,
        "at": _iso(at),
        "office": str(case[6]),
        "case": {
            "code": str(case[0]),
            "category": str(case[1]),
            "urgency": str(case[2]),
            "status": str(case[3]),
            "outcome": None if case[4] is None else str(case[4]),
            "referral": detail if event == "referred" else None,
        },
    }
    text = json.dumps(body, separators=(",", ":"), sort_keys=True)
    for endpoint_id, _ in endpoints:
        await tx.execute(
            "INSERT INTO webhook_deliveries (endpoint_id, event_id, event, case_code, body,"
            " created_at) VALUES (?, ?, ?, ?, ?, ?)",
            (int(endpoint_id), event_id, kind, str(case[0]), text, at),
        )


@dataclass(frozen=True, slots=True)
class Delivery:
    """One pending delivery as the sender takes it."""

    id: int
    endpoint_id: int
    event_id: str
    event: str
    body: str
    attempts: int


@dataclass(frozen=True, slots=True)
class EndpointState:
    """An endpoint as the database knows it (its secret is in the configuration)."""

    id: int
    name: str
    url: str
    active: bool
    failures: int
    paused_until: datetime | None
    pending: int
    delivered: int
    failed: int


class WebhookRepo:
    """Endpoints synced from the configuration, and the deliveries' life."""

    def __init__(self, readers: Readers, writer: Writer) -> None:
        self._readers = readers
        self._writer = writer

    async def sync(self, endpoints: Sequence[tuple[str, str]], at: datetime) -> None:
        """Makes the configured (name, url) pairs the active endpoints; others stop getting
        new events (their pending rows wait, in case the name comes back)."""
        now = to_micros(at, "WebhookRepo.sync at")

        async def job(tx: Tx) -> None:
            await tx.execute("UPDATE webhook_endpoints SET active = 0, updated_at = ?", (now,))
            for name, url in endpoints:
                await tx.execute(
                    "INSERT INTO webhook_endpoints (name, url, active, created_at, updated_at)"
                    " VALUES (?, ?, 1, ?, ?) ON CONFLICT (name) DO UPDATE SET"
                    " url = excluded.url, active = 1, updated_at = excluded.updated_at",
                    (name, url, now, now),
                )

        await self._writer.run("webhooks.sync", job)

    async def endpoints(self) -> list[EndpointState]:
        rows = await self._readers.fetchall(
            "SELECT e.id, e.name, e.url, e.active, e.failures, e.paused_until,"
            " (SELECT count(*) FROM webhook_deliveries d WHERE d.endpoint_id = e.id"
            "  AND d.status = 'pending'),"
            " (SELECT count(*) FROM webhook_deliveries d WHERE d.endpoint_id = e.id"
            "  AND d.status = 'delivered'),"
            " (SELECT count(*) FROM webhook_deliveries d WHERE d.endpoint_id = e.id"
            "  AND d.status = 'failed')"
            " FROM webhook_endpoints e ORDER BY e.name",
            what="webhooks.endpoints",
        )
        return [
            EndpointState(
                int(r[0]),
                str(r[1]),
                str(r[2]),
                bool(r[3]),
                int(r[4]),
                None if r[5] is None else from_micros(int(r[5])),
                int(r[6]),
                int(r[7]),
                int(r[8]),
            )
            for r in rows
        ]

    async def lease(self, endpoint_id: int, at: datetime, seconds: int) -> bool:
        """Takes the endpoint for `seconds` if it is free and not paused: one process at a time."""
        now = to_micros(at, "WebhookRepo.lease at")

        async def job(tx: Tx) -> bool:
            changed = await tx.execute(
                "UPDATE webhook_endpoints SET leased_until = ? WHERE id = ? AND active = 1"
                " AND (leased_until IS NULL OR leased_until <= ?)"
                " AND (paused_until IS NULL OR paused_until <= ?)",
                (now + seconds * 1_000_000, endpoint_id, now, now),
            )
            return changed > 0

        return await self._writer.run("webhooks.lease", job)

    async def release(self, endpoint_id: int) -> None:
        async def job(tx: Tx) -> None:
            await tx.execute(
                "UPDATE webhook_endpoints SET leased_until = NULL WHERE id = ?", (endpoint_id,)
            )

        await self._writer.run("webhooks.release", job)

    async def pending(self, endpoint_id: int, limit: int = 20) -> list[Delivery]:
        """The endpoint's oldest pending rows, in the order their events happened."""
        rows = await self._readers.fetchall(
            "SELECT id, endpoint_id, event_id, event, body, attempts FROM webhook_deliveries"
            " WHERE endpoint_id = ? AND status = 'pending' ORDER BY id LIMIT ?",
            (endpoint_id, limit),
            what="webhooks.pending",
        )
        return [
            Delivery(int(r[0]), int(r[1]), str(r[2]), str(r[3]), str(r[4]), int(r[5])) for r in rows
        ]

    async def delivered(self, delivery: Delivery, status: int, at: datetime) -> None:
        """The receiver took it (2xx): the row is done and the endpoint's back-off resets."""
        now = to_micros(at, "WebhookRepo.delivered at")

        async def job(tx: Tx) -> None:
            await tx.execute(
                "UPDATE webhook_deliveries SET status = 'delivered', delivered_at = ?,"
                " attempts = attempts + 1, last_status = ?, last_error = NULL WHERE id = ?",
                (now, status, delivery.id),
            )
            await tx.execute(
                "UPDATE webhook_endpoints SET failures = 0, paused_until = NULL WHERE id = ?",
                (delivery.endpoint_id,),
            )

        await self._writer.run("webhooks.delivered", job)

    async def refused(
        self,
        delivery: Delivery,
        status: int | None,
        error: str,
        at: datetime,
        retry_at: datetime | None,
    ) -> None:
        """A failed try: the endpoint waits until `retry_at`; None gives the row up
        (`failed`, kept for the operator) and the next row goes on."""
        now = to_micros(at, "WebhookRepo.refused at")

        async def job(tx: Tx) -> None:
            await tx.execute(
                "UPDATE webhook_deliveries SET attempts = attempts + 1, last_status = ?,"
                " last_error = ?, status = CASE WHEN ? THEN 'failed' ELSE status END,"
                " delivered_at = CASE WHEN ? THEN ? ELSE delivered_at END WHERE id = ?",
                (
                    status,
                    error[:200],
                    int(retry_at is None),
                    int(retry_at is None),
                    now,
                    delivery.id,
                ),
            )
            await tx.execute(
                "UPDATE webhook_endpoints SET failures = failures + 1, paused_until = ?"
                " WHERE id = ?",
                (
                    None if retry_at is None else to_micros(retry_at, "retry_at"),
                    delivery.endpoint_id,
                ),
            )

        await self._writer.run("webhooks.refused", job)

    async def forget_done(self, before: datetime) -> int:
        """Deletes rows delivered (or given up) before `before`; pending rows stay."""
        cutoff = to_micros(before, "WebhookRepo.forget_done before")

        async def job(tx: Tx) -> int:
            return await tx.execute(
                "DELETE FROM webhook_deliveries WHERE status <> 'pending' AND delivered_at < ?",
                (cutoff,),
            )

        return await self._writer.run("webhooks.forget_done", job)
