"""The values that cross the storage boundary: frozen, slotted, plain Python.

Inputs are checked when they are built (aware datetimes, known kinds and
urgencies), so a mistake fails in the caller's frame rather than inside a batch.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from storage.errors import InvalidRecordError

if TYPE_CHECKING:
    from storage.booking.records import BookingOp
    from storage.flowhost.missed import NewMiss
    from storage.flowhost.ratings import NewRating
    from storage.handoff.records import RelayIn
    from storage.media.records import MediaRef
    from storage.privacy.audit import AuditEntry

__all__ = [
    "INBOUND_KINDS",
    "URGENCIES",
    "Case",
    "CaseOpen",
    "CommittedTurn",
    "ConsentRecord",
    "Contact",
    "InboxRow",
    "NewInbound",
    "NewOutbound",
    "OutboxHead",
    "OutboxRef",
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
# The one home of the urgency codes for bot/ and storage/ (flows/, which imports
# neither, keeps its own copy for the checker; a test holds the two equal).
URGENCIES = ("biasa", "segera", "darurat")
_REF_PART = re.compile(r"[a-z][a-z_]{0,31}")


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
    # Where the transport keeps a photo or voice note (storage.media): sealed at rest.
    media: MediaRef | None = field(default=None, repr=False)

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
class OutboxRef:
    """What an outbox row is about, for the code that sends or withdraws it in its own way.

    Plain and non-identifying: a kind, the id of a case, a booking or a staff member,
    and for some kinds an action with its argument (`case:12:edit:40`, `alerts:7`,
    `booking:12:day_before`). Stored as that text; `str(ref)` and `OutboxRef.parse`
    are the only two places that know its shape.
    """

    kind: str
    id: int
    action: str = ""
    arg: str = ""

    def __post_init__(self) -> None:
        if not _REF_PART.fullmatch(self.kind) or ":" in self.action:
            raise InvalidRecordError(f"OutboxRef {self.kind!r}/{self.action!r} is not a code")
        if self.arg and not self.action:
            raise InvalidRecordError("OutboxRef has an argument without an action")

    def __str__(self) -> str:
        text = f"{self.kind}:{self.id}"
        if self.action:
            text += f":{self.action}"
        if self.arg:
            text += f":{self.arg}"
        return text

    @classmethod
    def parse(cls, text: str | None) -> OutboxRef | None:
        """The ref stored as `text`; None for no ref or one of an unknown shape."""
        if text is None:
            return None
        parts = text.split(":", 3)
        if len(parts) < 2 or not parts[1].isdigit() or not _REF_PART.fullmatch(parts[0]):
            return None
        return cls(parts[0], int(parts[1]), *parts[2:])

    @staticmethod
    def like(kind: str) -> str:
        """The SQL LIKE pattern of every stored ref of this kind."""
        return f"{kind}:%"


@dataclass(frozen=True, slots=True)
class NewOutbound:
    """A reply to queue; `options` are (value, label) pairs. Priority 0 is most urgent."""

    contact_id: int
    channel: str
    text: str = field(repr=False)
    options: tuple[tuple[str, str], ...] = field(repr=False)
    priority: int
    due_at: datetime
    # What the row is about (`booking:12:day_before`), so that it can be sent in its
    # own way, or found and withdrawn (a cancelled booking's reminders).
    ref: OutboxRef | None = None

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
    ref: OutboxRef | None = None


@dataclass(frozen=True, slots=True)
class CommittedTurn:
    """What a committed turn queued: its outbox ids in order, and its first reply, read
    back decrypted in the same transaction, when nothing of the contact's waits before
    it (so the sender may send it at once: bot.core.outbox `OutboxSender.offer`)."""

    outbox_ids: tuple[int, ...]
    first: OutboxRow | None = None


@dataclass(frozen=True, slots=True)
class CaseOpen:
    """Open a case, or raise the contact's open case to this urgency.

    `crisis`: the crisis check's kinds of danger (`bot.handoff.kinds` codes, comma-separated),
    added to the case's own."""

    category: str
    urgency: str
    crisis: str = ""

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
    # The family's message relayed to the counsellor holding their case: written in this
    # same transaction; a case released meanwhile raises StaleTurnError, nothing written.
    relay: RelayIn | None = None
    # Typed answers the flows did not understand (storage.flowhost.missed): counted per
    # question and day; the scrubbed words only for a family who consented.
    missed: tuple[NewMiss, ...] = ()
    # The office the family chose (an office code; storage.offices): set before any case
    # this turn opens, so the case opens there. An unknown code changes nothing.
    office: str | None = None

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
    office_id: int = 1  # the office whose cases, queue and figures they see
