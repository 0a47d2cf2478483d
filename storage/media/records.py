"""The values of a family's media: where to fetch it, and what is kept of it.

Nothing here carries the bytes' meaning: a kind, a mime type from an allow-list, a
size and a status are plain; the locator (a Telegram file id, a Twilio media URL)
and the bytes themselves are sealed under the family's data key.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from storage.errors import InvalidRecordError

__all__ = [
    "FETCHED_KINDS",
    "MEDIA_STATUSES",
    "MediaContent",
    "MediaItem",
    "MediaRef",
]

# The content kinds fetched and kept when a counsellor holds the case.
FETCHED_KINDS = frozenset({"photo", "voice"})
# waiting: received, not fetched yet; stored: the bytes are kept; too_large / refused:
# beyond the limits (nothing kept); failed: could not be fetched (nothing kept).
MEDIA_STATUSES = ("waiting", "stored", "too_large", "refused", "failed")


@dataclass(frozen=True, slots=True)
class MediaRef:
    """Where a transport keeps a person's photo or voice note, and what it declared of it."""

    locator: str = field(repr=False)  # Telegram file id, Twilio media URL: sealed at rest
    mime: str = ""  # as the transport declared it ("" when it did not say)
    size: int | None = None  # bytes, when the transport said

    def __post_init__(self) -> None:
        if not self.locator:
            raise InvalidRecordError("MediaRef.locator is empty")
        if self.size is not None and self.size < 0:
            raise InvalidRecordError("MediaRef.size is negative")


@dataclass(frozen=True, slots=True)
class MediaItem:
    """One media message as the case page lists it: no bytes, nothing sealed."""

    id: int
    inbox_id: int
    contact_id: int
    kind: str
    status: str
    mime: str
    size: int


@dataclass(frozen=True, slots=True)
class MediaContent:
    """The bytes of a stored media message, opened under the family's key."""

    id: int
    contact_id: int
    kind: str
    mime: str
    received_at: datetime  # when its message came (a case closed before shows it not)
    data: bytes = field(repr=False)
