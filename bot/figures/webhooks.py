"""The webhook sender: each configured endpoint's queued case events, in order, signed.

One pass: for each endpoint the configuration names, take hold of it (one process at
a time: `storage.figures.holds`, an advisory lock on PostgreSQL, a lease row on
SQLite), send its pending rows oldest first, each signed
(`bot.figures.signing`) with a fresh timestamp and the event's fixed id, and mark
each delivered on a 2xx. Anything else (a 500, a timeout, a refused connection)
pauses that endpoint with a wait that doubles from 5 s to an hour, and the same row
goes first when it is due again; after `MAX_ATTEMPTS` the row is given up (kept as
`failed` for `lk3 doctor`-style inspection) and the next goes on. A process that dies
mid-send leaves the row pending: it is sent again, with the same event id, by the next
holder (on PostgreSQL another process at its next look, `SHARED_IDLE_SECONDS`; on
SQLite once the lease runs out). Delivered rows are forgotten after `KEEP_DAYS`.

Nothing here reads a family's data: the bodies were written as codes and times.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

import httpx

from bot.core.worker import Worker
from bot.figures.config import Webhook
from bot.figures.signing import headers
from storage.figures.holds import LEASE_SECONDS, LeaseHolds, ReceiverHolds
from storage.store import Store

__all__ = [
    "KEEP_DAYS",
    "LEASE_SECONDS",
    "MAX_ATTEMPTS",
    "SHARED_IDLE_SECONDS",
    "WebhookSender",
    "retry_wait",
]

log = logging.getLogger(__name__)

TIMEOUT_SECONDS = 10.0
MAX_ATTEMPTS = 60  # about two and a half days at the longest wait
KEEP_DAYS = 30
FIRST_WAIT, LONGEST_WAIT = 5.0, 3600.0
IDLE_SECONDS = 30.0
# Several processes: rows another process committed, or left behind when it died, are
# looked for this often (one read and one lock attempt per receiver).
SHARED_IDLE_SECONDS = 2.0


def retry_wait(failures: int) -> float:
    """Seconds before the next try after `failures` failures in a row (1, 2, ...)."""
    return min(LONGEST_WAIT, FIRST_WAIT * 2.0 ** min(failures - 1, 20))


class WebhookSender(Worker):
    """Delivers the queued case events to each configured endpoint (see the module)."""

    def __init__(
        self,
        store: Store,
        endpoints: Sequence[Webhook],
        *,
        clock: Callable[[], datetime],
        transport: httpx.AsyncBaseTransport | None = None,
        holds: ReceiverHolds | None = None,
    ) -> None:
        super().__init__()
        self._store = store
        self._holds = holds if holds is not None else LeaseHolds(store.webhooks)
        self._idle = IDLE_SECONDS if holds is None else SHARED_IDLE_SECONDS
        self._endpoints = {e.name: e for e in endpoints}
        self._clock = clock
        self._client = httpx.AsyncClient(timeout=TIMEOUT_SECONDS, transport=transport)
        self._forgot_at: datetime | None = None

    async def sync(self) -> None:
        """Makes the configured endpoints the ones new case events are queued for."""
        pairs = [(e.name, e.url) for e in self._endpoints.values()]
        await self._store.webhooks.sync(pairs, self._clock())

    async def tick(self) -> float:
        now = self._clock()
        pause = self._idle
        for state in await self._store.webhooks.endpoints():
            endpoint = self._endpoints.get(state.name)
            if endpoint is None or not state.active:
                continue
            if state.paused_until is not None and state.paused_until > now:
                pause = min(pause, (state.paused_until - now).total_seconds())
                continue
            if not await self._holds.take(state.id, now):
                continue
            try:
                wait = await self._drain_held(state.id, endpoint, now)
            finally:
                await self._holds.release(state.id)
            if wait is not None:
                pause = min(pause, wait)
        if self._forgot_at is None or now - self._forgot_at > timedelta(hours=1):
            self._forgot_at = now
            await self._store.webhooks.forget_done(now - timedelta(days=KEEP_DAYS))
        return max(0.05, pause)

    async def _drain_held(self, endpoint_id: int, endpoint: Webhook, now: datetime) -> float | None:
        """Read again once held (another process may have paused it meanwhile), then drain."""
        held = [s for s in await self._store.webhooks.endpoints() if s.id == endpoint_id]
        if not held or not held[0].active:
            return None
        paused = held[0].paused_until
        if paused is not None and paused > now:
            return (paused - now).total_seconds()
        return await self._drain(endpoint_id, held[0].failures, endpoint)

    async def _drain(self, endpoint_id: int, failures: int, endpoint: Webhook) -> float | None:
        """Sends the endpoint's pending rows in order; the wait when one failed, else None."""
        while True:
            batch = await self._store.webhooks.pending(endpoint_id)
            if not batch:
                return None
            for delivery in batch:
                if not await self._holds.still_held(endpoint_id):
                    return self._idle  # its lock went with its connection: another may send
                body = delivery.body.encode("utf-8")
                sent_at = self._clock()
                status: int | None = None
                try:
                    response = await self._client.post(
                        endpoint.url,
                        content=body,
                        headers=headers(
                            endpoint.secret, delivery.event_id, int(sent_at.timestamp()), body
                        ),
                    )
                    status = response.status_code
                    error = "" if 200 <= status < 300 else f"HTTP {status}"
                except httpx.HTTPError as exc:
                    error = type(exc).__name__
                if not error and status is not None:
                    await self._store.webhooks.delivered(delivery, status, self._clock())
                    failures = 0
                    continue
                failures += 1
                wait = retry_wait(failures)
                give_up = delivery.attempts + 1 >= MAX_ATTEMPTS
                retry_at = None if give_up else self._clock() + timedelta(seconds=wait)
                await self._store.webhooks.refused(delivery, status, error, self._clock(), retry_at)
                log.warning(
                    "webhook %s: event %s not taken (%s), %s",
                    endpoint.name,
                    delivery.event_id,
                    error,
                    "given up" if give_up else f"next try in {wait:.0f} s",
                )
                if give_up:
                    continue
                return wait

    async def stop(self) -> None:
        await super().stop()

    async def close(self) -> None:
        await self._holds.close()
        await self._client.aclose()
