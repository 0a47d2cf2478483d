"""Escalation: alerts for waiting cases, driven by the database so restarts lose nothing.

Each pass reads the cases that need attention and their last alert times, and
writes what is due conditionally on those times, so a pass repeated after a
crash (or running twice) never alerts twice for one moment, and a restart loses
no alert (nothing lives in memory timers):

- `darurat`, waiting: alert the on-duty counsellors (the roster; when nobody is
  on duty, every linked counsellor and the supervisors: `bot/handoff/reach.py`,
  which also words what the family is told); again every
  `realert_minutes` until someone takes it; from `widen_after_minutes` the
  supervisors too. The family is reminded of the hotlines once after
  `remind_family_minutes` if nobody has taken it.
- `segera`, waiting: one alert, only while someone is on duty (office hours);
  otherwise it waits in the queue (`/antrian`, the console), urgency first.
- a held case with an urgent family message the owner has not answered within
  `realert_minutes`: the owner and the supervisors are alerted, and again after
  each interval.

Alerts carry the case code, category, urgency and waiting time, and a "take case"
button per case; never the family's words, name or number. Every case due for a
staff member in a pass, and any alert still waiting for them in the outbox, go as
one message (a digest, storage.handoff.digests): a counsellor's chat is paced at
one message a second, so in a flood one message per case would leave the ninth
case's alert eight seconds behind the first. Every recipient gets every case due
(never fewer people alerted than one message per case would reach).

A pass is woken by every committed turn (an urgent case opens in a turn) and by
a timer for the re-alerts; a pass that finds nothing due reads only the cases.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from bot.config import Config
from bot.core.failpoints import failpoint
from bot.core.turns import PRIORITY_ALERT, PRIORITY_URGENT
from bot.core.worker import Worker
from bot.handoff.alerts import AlertRenderer
from bot.handoff.reach import WHO_IS_TOLD, Reach, WhoIsTold, read_reach, unique
from bot.handoff.service import Handoff, case_ref, minutes
from bot.offices.profiles import OfficeConfigs
from storage.errors import is_storage_fault
from storage.handoff.records import DueAlert, LiveCase
from storage.records import NewOutbound, StaffMember
from storage.store import Store

__all__ = ["ESCALATION_POLL_SECONDS", "EscalationJob"]

log = logging.getLogger(__name__)

ALERT_GATHER = timedelta(seconds=0.3)

ESCALATION_POLL_SECONDS = 20.0


class EscalationJob(Worker):
    """Runs `run_once` every few seconds and whenever a turn has committed."""

    def __init__(
        self,
        store: Store,
        handoff: Handoff,
        config: Config,
        clock: Callable[[], datetime],
        *,
        on_queued: Callable[[], None] = lambda: None,
    ) -> None:
        super().__init__()
        self._store = store
        self._handoff = handoff
        self._offices = OfficeConfigs(store, config)
        self._render = AlertRenderer(handoff)
        self._told = WhoIsTold(store, config, handoff.texts)
        self._config = config
        self._clock = clock
        # Tells the outbox sender that alerts were queued (it may be asleep till its poll).
        self._on_queued = on_queued
        # Whether the bot is still reading a flood of messages (Pipeline.reading_backlog).
        self.gathering: Callable[[], bool] = lambda: False
        # When each case that nobody could be alerted to was last logged (see _alert).
        self._unalertable: dict[int, datetime] = {}

    async def tick(self) -> float:
        await self.run_once()
        return ESCALATION_POLL_SECONDS

    def failed(self, exc: Exception, failures: int) -> float:
        log.error(
            "escalation pass failed (%s)",
            type(exc).__name__,
            exc_info=None if is_storage_fault(exc) else exc,
        )
        return ESCALATION_POLL_SECONDS

    async def run_once(self) -> int:
        """One pass; returns how many cases got an alert or a reminder."""
        now = self._clock()
        settings = self._config.escalation
        realert = timedelta(minutes=settings.realert_minutes)
        widen_after = timedelta(minutes=settings.widen_after_minutes)
        remind_after = timedelta(minutes=settings.remind_family_minutes)
        cases = await self._store.handoff.needing_escalation()
        if not any(_maybe_due(c, now, realert, remind_after) for c in cases):
            return 0  # the usual pass during a flood: woken by a turn, nothing due
        # Each office's own staff and roster: a case alerts only its own office.
        reaches: dict[int, Reach] = {}
        for office_id in sorted({c.office_id for c in cases}):
            # The office's roster in the office's time (`[offices.*] timezone`).
            config = await self._offices.for_office(office_id)
            reaches[office_id] = await read_reach(self._store, config, now, office_id)
        dues: list[DueAlert] = []
        pings: list[LiveCase] = []
        reminders: list[LiveCase] = []
        for case in cases:
            reach = reaches[case.office_id]
            on_duty, base, widened = list(reach.on_duty), list(reach.first), list(reach.widened)
            if case.status == "taken":
                pings.append(case)
                continue
            if case.urgency == "segera":
                if case.alerted_at is None and on_duty:
                    dues.append(_due(case, "alerted", on_duty))
                continue
            waited = now - case.waiting_since
            if case.alerted_at is None:
                widen = waited >= widen_after
                targets = widened if widen else base
                dues.append(_due(case, "alerted", targets, widen=widen))
            elif now - case.alerted_at >= realert:
                widen = waited >= widen_after
                first_widen = widen and case.widened_at is None
                targets = widened if widen else base
                event = "widened" if first_widen else "realerted"
                dues.append(_due(case, event, targets, widen=first_widen))
            if case.family_reminded_at is None and waited >= remind_after:
                reminders.append(case)
        # The counsellors' alerts first, in one write: pings and reminders can wait a moment.
        if dues:
            failpoint("before_alert")
        acted = await self._alert(dues, now)
        if acted:
            self._on_queued()
        later = 0
        for case in pings:
            reach = reaches[case.office_id]
            staff, supervisors = list(reach.linked), list(reach.supervisors)
            later += await self._ping_owner(case, now, realert, staff, supervisors)
        for case in reminders:
            later += await self._remind_family(case, now, reaches[case.office_id])
        if later:
            self._on_queued()
        return acted + later

    async def _alert(self, dues: list[DueAlert], now: datetime) -> int:
        """Files every alert due in this pass at once: one message per recipient, not per case."""
        realert = timedelta(minutes=self._config.escalation.realert_minutes)
        for due in dues:
            if due.recipients:
                self._unalertable.pop(due.case_id, None)
                continue
            # A pass runs after every turn: say it once per re-alert interval, not each time.
            last = self._unalertable.get(due.case_id)
            if last is None or now - last >= realert:
                self._unalertable[due.case_id] = now
                log.error(
                    "case %s: urgent, but no staff member has a linked chat to alert", due.case_id
                )
        if len(self._unalertable) > 10_000:
            self._unalertable.clear()
        wanted = [due for due in dues if due.recipients]
        if not wanted:
            return 0
        # In a flood, crises are found every few milliseconds while the backlog is read:
        # a new alert message waits a moment to list more of them, so that fewer cases
        # are left for the next message a chat may get (one a second on Telegram).
        send_at = now + ALERT_GATHER if self.gathering() else None
        filed = await self._store.handoff.file_alerts(
            wanted, now, self._render, priority=PRIORITY_ALERT, send_at=send_at
        )
        for due in filed:
            log.warning(
                "case %s: %s to %s staff member(s)", due.case_id, due.event, len(due.recipients)
            )
        return len(filed)

    async def _ping_owner(
        self,
        case: LiveCase,
        now: datetime,
        realert: timedelta,
        staff: list[StaffMember],
        supervisors: list[StaffMember],
    ) -> int:
        since = case.urgent_unanswered_at
        if since is None or now - since < realert:
            return 0
        owner = [m for m in staff if m.id == case.owner_staff_id]
        text = self._handoff.text("handoff.owner_ping", code=case.code, waiting=minutes(since, now))
        rows = []
        for member in unique(owner + supervisors):
            assert member.contact_id is not None
            contact = await self._store.contacts.get(member.contact_id)
            if contact is not None:
                rows.append(
                    (
                        member.id,
                        NewOutbound(
                            member.contact_id,
                            contact.channel,
                            text,
                            (),
                            PRIORITY_ALERT,
                            now,
                            case_ref(case.id, "ping"),
                        ),
                    )
                )
        done = await self._store.handoff.ping_owner(case.id, since, now, rows)
        if done:
            log.warning(
                "case %s: urgent message unanswered; owner and supervisors alerted", case.id
            )
        return int(done)

    async def _remind_family(self, case: LiveCase, now: datetime, reach: Reach) -> int:
        contact = await self._store.contacts.get(case.contact_id)
        if contact is None:
            return 0
        language = contact.language or self._config.languages[0]
        config = await self._handoff.office_config(case.office_id)  # its office's words
        values = config.context_values(language)
        values[WHO_IS_TOLD] = self._told.text(reach, language, config)
        text = self._handoff.family_text("handoff.family_reminder", language, **values)
        row = NewOutbound(
            case.contact_id,
            contact.channel,
            text,
            (),
            PRIORITY_URGENT,
            now,
            case_ref(case.id, "remind"),
        )
        done = await self._store.handoff.remind_family(case.id, now, [row])
        if done:
            log.info("case %s: family reminded of the hotlines", case.id)
        return int(done)


def _due(
    case: LiveCase, event: str, targets: list[StaffMember], *, widen: bool = False
) -> DueAlert:
    recipients = tuple((m.id, m.contact_id) for m in targets if m.contact_id is not None)
    return DueAlert(case.id, event, case.alerted_at, recipients, widen)


def _maybe_due(case: LiveCase, now: datetime, realert: timedelta, remind: timedelta) -> bool:
    """Whether a pass could have anything to do for this case (read before the staff)."""
    if case.status == "taken":
        since = case.urgent_unanswered_at
        return since is not None and now - since >= realert
    if case.alerted_at is None:
        return True
    if case.urgency == "segera":
        return False
    if now - case.alerted_at >= realert:
        return True
    return case.family_reminded_at is None and now - case.waiting_since >= remind
