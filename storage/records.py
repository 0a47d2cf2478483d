"""The values that cross the storage boundary: frozen, slotted, plain Python.

Inputs are checked when they are built (aware datetimes, known kinds and
urgencies), so a mistake fails in the caller's frame rather than inside a batch.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from storage.errors import InvalidRecordError

if TYPE_CHECKING:
    from storage.booking.records import BookingOp
    from storage.flowhost.ratings import NewRating
    from storage.privacy.audit import AuditEntry

__all__ = [
    "INBOUND_KINDS",
    "URGENCIES",
    "Case",
    "CaseOpen",
    "ConsentRecord",
    "Contact",
    "InboxRow",
    "NewInbound",
    "NewOutbound",
    "OutboxHead",
    "OutboxRow",
    "StaffMember",
    "TurnWrite",
]

INBOUND_KINDS = frozenset(
    {
        "text",
        "choice",
        "start",
        "photo",
        "voice",
        "video",
        "sticker",
        "location",
        "file",
        "contact",
        "unsupported",
    }
)
# From least to most urgent; a case is raised along this order, never lowered.
URGENCIES = ("biasa", "segera", "darurat")


def _require_aware(value: datetime, what: str) -> None:
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        raise InvalidRecordError(f"{what} is a naive datetime; storage needs timezone-aware UTC")


@dataclass(frozen=True, slots=True)
class Contact:
    id: int
    channel: str
    language: str | None
    created_at: datetime
    unreachable: bool


@dataclass(frozen=True, slots=True)
class NewInbound:
    """A message as a channel adapter received it; `transport_id` is the transport's own id."""

    channel: str
    transport_id: str = field(repr=False)  # may embed a chat id
    kind: str
    text: str = field(repr=False)
    received_at: datetime
    # The transport's id of the bot message this one replies to (routes a
    # counsellor's reply to its case); a plain message id, nothing personal.
    reply_to: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in INBOUND_KINDS:
            raise InvalidRecordError(
                f"NewInbound.kind {self.kind!r} is not one of {sorted(INBOUND_KINDS)}"
            )
        if not self.transport_id:
            raise InvalidRecordError("NewInbound.transport_id is empty")
        _require_aware(self.received_at, "NewInbound.received_at")


@dataclass(frozen=True, slots=True)
class InboxRow:
    id: int
    contact_id: int
    channel: str
    transport_id: str = field(repr=False)
    kind: str
    text: str = field(repr=False)
    received_at: datetime
    reply_to: str | None = None


@dataclass(frozen=True, slots=True)
class NewOutbound:
    """A reply to queue; `options` are (value, label) pairs. Priority 0 is most urgent."""

    contact_id: int
    channel: str
    text: str = field(repr=False)
    options: tuple[tuple[str, str], ...] = field(repr=False)
    priority: int
    due_at: datetime
    # A plain, non-identifying name for rows sent later (`booking:12:day_before`),
    # so that they can be found and withdrawn (a cancelled booking's reminders).
    ref: str | None = None

    def __post_init__(self) -> None:
        _require_aware(self.due_at, "NewOutbound.due_at")


@dataclass(frozen=True, slots=True)
class OutboxHead:
    """A contact's next reply to send, without its (encrypted) words or address."""

    id: int
    contact_id: int
    channel: str
    priority: int
    due_at: datetime
    attempts: int


@dataclass(frozen=True, slots=True)
class OutboxRow:
    id: int
    contact_id: int
    channel: str
    address: str = field(repr=False)
    text: str = field(repr=False)
    options: tuple[tuple[str, str], ...] = field(repr=False)
    priority: int
    due_at: datetime
    attempts: int
    ref: str | None = None


@dataclass(frozen=True, slots=True)
class CaseOpen:
    """Open a case, or raise the contact's open case to this urgency."""

    category: str
    urgency: str

    def __post_init__(self) -> None:
        if self.urgency not in URGENCIES:
            raise InvalidRecordError(
                f"CaseOpen.urgency {self.urgency!r} is not one of {list(URGENCIES)}"
            )


@dataclass(frozen=True, slots=True)
class Case:
    id: int
    code: str
    contact_id: int
    category: str
    urgency: str
    status: str
    opened_at: datetime


@dataclass(frozen=True, slots=True)
class ConsentRecord:
    given: bool
    version: str
    # True when the person withdrew consent (`berhenti`): processing stops and
    # their data is erased (storage.privacy.repo.due_for_erasure).
    withdrawal: bool = False


@dataclass(frozen=True, slots=True)
class TurnWrite:
    """Everything one processed message changes, written in one transaction."""

    inbox_id: int
    contact_id: int
    session_state: str
    outbound: tuple[NewOutbound, ...]
    processed_at: datetime
    cases: tuple[CaseOpen, ...] = ()
    language: str | None = None
    consent: ConsentRecord | None = None
    # True for a person who declined consent: the message's words are erased
    # once processed, so nothing of what they wrote is kept.
    forget_text: bool = False
    # A booking change (hold, confirm, cancel...) that commits with the turn; a
    # lost race raises SlotTakenError and nothing of the turn is written.
    booking: BookingOp | None = None
    # Rights exercised in the chat (storage.privacy.erasure, storage.privacy.repo): events for
    # the audit log, a quick exit's cleanup, an erasure the person confirmed.
    audit: tuple[AuditEntry, ...] = ()
    quick_exit: bool = False
    erase: bool = False
    # A family's rating of a closed case (storage.flowhost.ratings): codes only, counted.
    rating: NewRating | None = None

    def __post_init__(self) -> None:
        _require_aware(self.processed_at, "TurnWrite.processed_at")


@dataclass(frozen=True, slots=True)
class StaffMember:
    """A counsellor, supervisor or admin; `contact_id` is their linked Telegram chat, if any."""

    id: int
    username: str
    display_name: str
    roles: frozenset[str]
    active: bool
    contact_id: int | None
    created_at: datetime
