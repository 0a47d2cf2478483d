"""Telling supervisors by a second route when the first cannot: an urgent case that
reached no counsellor for `widen_after_minutes`, or a channel unreachable for
`[alerts] unreachable_seconds`.

Codes only: the case code (looked up in the console), the kind of fault, the
channel's name and how long; never a name, a number or a word anyone wrote. Each
fault is told once, again every `remind_minutes` while it lasts, and recorded in
`supervisor_notices` (storage.monitoring), so a restart neither forgets nor repeats
a notice; a fault that clears is marked resolved, and a new episode is told afresh.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from bot.core.worker import Worker
from bot.monitoring.email import RouteError
from bot.monitoring.sources import Sources
from storage.errors import is_storage_fault

__all__ = ["NOTICE_PASS_SECONDS", "Fault", "Route", "SupervisorNotices"]

log = logging.getLogger(__name__)

# A pass is two indexed reads when nothing is wrong.
NOTICE_PASS_SECONDS = 5.0


class Route(Protocol):
    def send(self, subject: str, body: str) -> Awaitable[None]: ...


@dataclass(frozen=True, slots=True)
class Fault:
    key: str  # case:K7F3Q2, channel:telegram
    kind: str  # case_undelivered, channel_unreachable
    subject: str
    body: str


class SupervisorNotices(Worker):
    """Each pass: find the faults, tell those due, mark the cleared ones resolved."""

    def __init__(self, sources: Sources, route: Route) -> None:
        super().__init__()
        self._sources = sources
        self._route = route

    async def tick(self) -> float:
        await self.run_once()
        return NOTICE_PASS_SECONDS

    def failed(self, exc: Exception, failures: int) -> float:
        log.error(
            "supervisor notices: a pass failed (%s)",
            type(exc).__name__,
            exc_info=None if is_storage_fault(exc) else exc,
        )
        return NOTICE_PASS_SECONDS

    async def faults(self) -> list[Fault]:
        """The faults present now (read only)."""
        config = self._sources.config
        now = self._sources.clock()
        office = config.office.name
        where = f"\nconsole: {config.alerts.console_url}" if config.alerts.console_url else ""
        found: list[Fault] = []
        widen = timedelta(minutes=config.escalation.widen_after_minutes)
        for case in await self._sources.store.monitoring.undelivered():
            waited = now - case.waiting_since
            if waited < widen:
                continue
            minutes = int(waited.total_seconds() // 60)
            found.append(
                Fault(
                    f"case:{case.case_code}",
                    "case_undelivered",
                    f"[{office}] urgent case {case.case_code}: no counsellor reached",
                    f"fault: case_undelivered\ncase: {case.case_code}\nwaiting_minutes: "
                    f"{minutes}\nsince: {case.waiting_since:%Y-%m-%dT%H:%MZ}\n"
                    "action: take the case in the console, or call the family back"
                    f" from the case page{where}\n",
                )
            )
        limit = config.alerts.unreachable_seconds
        for name, pulse in sorted(self._sources.pulses.items()):
            failing = pulse.failing_for()
            if pulse.polls and failing >= limit:
                found.append(
                    Fault(
                        f"channel:{name}",
                        "channel_unreachable",
                        f"[{office}] {name} unreachable for {int(failing // 60)} min",
                        f"fault: channel_unreachable\nchannel: {name}\nfailing_seconds: "
                        f"{int(failing)}\naction: check the server's network and the "
                        f"{name} status page; families' messages wait with {name}{where}\n",
                    )
                )
        return found

    async def run_once(self) -> int:
        """One pass; returns how many notices were sent."""
        sources = self._sources
        remind = sources.config.alerts.remind_minutes * 60
        faults = await self.faults()
        sent = 0
        for fault in faults:
            now = sources.clock()
            if not await sources.store.monitoring.notice_due(fault.key, fault.kind, now, remind):
                continue
            try:
                await self._route.send(fault.subject, fault.body)
            except RouteError as exc:
                log.error("supervisor notice %s not sent: %s", fault.kind, exc)
                continue
            await sources.store.monitoring.notice_sent(fault.key, now)
            sources.tally.notices[fault.kind] += 1
            sent += 1
            log.warning("supervisor notice sent by the second route (%s)", fault.kind)
        cleared = await sources.store.monitoring.resolve_others(
            {f.key for f in faults}, sources.clock()
        )
        if cleared:
            log.info("supervisor notices: %s fault(s) cleared", len(cleared))
        return sent
