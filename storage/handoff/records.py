"""The values the hand-off repository hands back: plain codes, ids and times only."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from storage.records import NewOutbound

__all__ = [
    "CASE_REF",
    "DIGEST_REF",
    "AlertRef",
    "CaseEvent",
    "CaseNote",
    "CaseReferral",
    "RelayIn",
    "Digest",
    "DigestLine",
    "DueAlert",
    "HandoffFigures",
    "LiveCase",
    "Transition",
    "UrgencyFigures",
]


DIGEST_REF = "alerts"
"""The kind of an alert message's `OutboxRef`: `alerts:<staff id>` (not `case:`, as it is
about several cases)."""
CASE_REF = "case"
"""The kind of a case's own rows: `case:<case id>:<action>[:<arg>]` (storage.handoff.repo)."""


@dataclass(frozen=True, slots=True)
class LiveCase:
    """A case with its hand-off state; `waiting_since` is when it first entered the queue
    (a release puts it back in its place). `crisis` is the crisis check's kinds of danger
    (`bot.handoff.kinds`), comma-separated codes, empty when none was recorded."""

    id: int
    code: str
    contact_id: int
    category: str
    urgency: str
    status: str
    opened_at: datetime
    waiting_since: datetime
    owner_staff_id: int | None = None
    taken_at: datetime | None = None
    closed_at: datetime | None = None
    outcome: str | None = None
    alerted_at: datetime | None = None
    alerts: int = 0
    widened_at: datetime | None = None
    family_reminded_at: datetime | None = None
    first_reply_at: datetime | None = None
    urgent_unanswered_at: datetime | None = None
    crisis: str = ""
    office_id: int = 1  # the office the case was opened in (its family's then)
    # When the family left in a hurry (a quick exit) and has not written since: nothing
    # may be sent to them. Set on the case a change hands to its `build` (not a column).
    left_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class AlertRef:
    """One alert sent (or queued) to a staff member: its outbox row and provider id."""

    outbox_id: int
    staff_id: int
    contact_id: int
    channel: str
    provider_id: str | None


@dataclass(frozen=True, slots=True)
class DueAlert:
    """A case an escalation pass found due for an alert, and the staff (id, contact) it goes to.

    Filed only if the case's last alert time is still `seen_alerted_at`, so a
    pass repeated after a restart never alerts twice for the same moment.
    """

    case_id: int
    event: str
    seen_alerted_at: datetime | None
    recipients: tuple[tuple[int, int], ...]
    widen: bool = False


@dataclass(frozen=True, slots=True)
class DigestLine:
    """One case as an alert message shows it: the case as it is now, the alert's round,
    and the display name of whoever holds it (None while it waits)."""

    case: LiveCase
    round: int
    owner_name: str | None = None


@dataclass(frozen=True, slots=True)
class Digest:
    """An alert message as sent: the transport's id(s), None while unsent, and its cases."""

    outbox_id: int
    provider_id: str | None
    lines: tuple[DigestLine, ...]


@dataclass(frozen=True, slots=True)
class Transition:
    """What a state change wrote: the outcome code and the case as it is now.

    outcome: `done`, `already` (it was so already, by this staff member), `held`
    (another counsellor holds it), `closed`, `not_yours`, `not_found`.
    """

    outcome: str
    case: LiveCase | None = None

    @property
    def done(self) -> bool:
        return self.outcome == "done"


@dataclass(frozen=True, slots=True)
class CaseEvent:
    case_id: int
    at: datetime
    event: str
    actor: str


@dataclass(frozen=True, slots=True)
class CaseNote:
    id: int
    case_id: int
    staff_id: int | None
    text: str = field(repr=False)
    at: datetime = field(compare=False, default=datetime.min)


@dataclass(frozen=True, slots=True)
class CaseReferral:
    case_id: int
    service: str
    staff_id: int | None
    at: datetime


@dataclass(frozen=True, slots=True)
class UrgencyFigures:
    """One urgency's figures: counts and seconds, nothing about anyone."""

    urgency: str
    opened: int
    answered: int
    median_first_reply_seconds: float | None
    waited_past_target: int
    # The 90th percentile (nearest rank): nine replies in ten came at least this fast.
    p90_first_reply_seconds: float | None = None


@dataclass(frozen=True, slots=True)
class HandoffFigures:
    since: datetime
    until: datetime
    target_seconds: int
    by_urgency: tuple[UrgencyFigures, ...]


Rows = tuple[NewOutbound, ...]


@dataclass(frozen=True, slots=True)
class RelayIn:
    """A family's message relayed to the counsellor holding their case, written with the
    family's turn (`TurnWrite.relay`): the case event once per `source`, the rows to the
    counsellor, and for an urgent message the start of the owner's answer clock."""

    case_id: int
    source: str  # "in:<inbox id>": the same message is relayed once
    rows: tuple[NewOutbound, ...]
    urgent: bool = False
