"""A family's photo or voice note, between a transport and the bot: fetched, checked, sent on.

Two optional capabilities a channel may have, checked with `isinstance`:
`MediaFetcher` (fetch the file a message carried: Telegram getFile, a Twilio
media URL) and `MediaSender` (upload bytes as a voice note, an audio file or a
photo: Telegram sendVoice, sendAudio, sendPhoto). What may be kept and shown is
an allow-list of types, each recognised by its first bytes (`sniff`), never by
what the sender declared alone.

    FetchError (a bot.errors.BotError)   the file could not be fetched; `code` says why
     ├── FetchLater     a transient failure (network, 5xx, rate limit): try again
     └── FetchRefused   it will never come (gone, forbidden, larger than the limit)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from bot.errors import BotError
from storage.media.records import MediaRef

__all__ = [
    "ALLOWED",
    "TOO_LARGE",
    "FetchError",
    "FetchLater",
    "FetchRefused",
    "Fetched",
    "MediaFetcher",
    "MediaSender",
    "allowed_kind",
    "base_mime",
    "sniff",
]

TOO_LARGE = "too_large"

# What may be kept, shown on the case page and sent on: mime type -> content kind.
ALLOWED = {
    "audio/ogg": "voice",  # Telegram and WhatsApp voice notes (opus)
    "audio/mpeg": "voice",  # mp3
    "audio/mp4": "voice",  # m4a / aac in mp4
    "audio/aac": "voice",
    "audio/amr": "voice",  # older phones' voice notes
    "image/jpeg": "photo",
    "image/png": "photo",
    "image/webp": "photo",
}


class FetchError(BotError):
    """A file could not be fetched; `code` is a plain reason, never the file's address."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class FetchLater(FetchError):
    """Try again: the network, the transport's server or its rate limit."""


class FetchRefused(FetchError):
    """It will never come: gone, forbidden, or larger than the limit (`TOO_LARGE`)."""


@dataclass(frozen=True, slots=True)
class Fetched:
    """A fetched file, with the type the transport reported (checked by the caller)."""

    data: bytes = field(repr=False)
    mime: str = ""


@runtime_checkable
class MediaFetcher(Protocol):
    """A channel that can fetch the file a message carried."""

    async def fetch_media(self, ref: MediaRef, limit: int) -> Fetched:
        """The file at `ref`, at most `limit` bytes (FetchRefused(TOO_LARGE) beyond it);
        raises FetchLater or FetchRefused."""
        ...


@runtime_checkable
class MediaSender(Protocol):
    """A channel that can send a photo or a voice note as itself, not as a link or a note."""

    async def send_media(
        self, address: str, kind: str, mime: str, data: bytes, caption: str
    ) -> str:
        """Uploads `data` (a type of `ALLOWED`) with `caption`; returns the message id.
        Raises DeliveryError."""
        ...


def base_mime(declared: str) -> str:
    """`audio/ogg; codecs=opus` -> `audio/ogg`, lower case."""
    return declared.split(";", 1)[0].strip().lower()


def allowed_kind(mime: str) -> str | None:
    """The content kind an allowed type is kept as, or None when it is not allowed."""
    return ALLOWED.get(base_mime(mime))


def sniff(data: bytes) -> str | None:
    """The allowed type these bytes are, read from their first bytes; None for anything else
    (a page, a script, a file of another type under an image's name)."""
    head = data[:16]
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "image/webp"
    if head.startswith(b"OggS"):
        return "audio/ogg"
    if head.startswith(b"#!AMR"):
        return "audio/amr"
    if head[4:8] == b"ftyp":
        return "audio/mp4"
    if head.startswith(b"ID3") or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0):
        # An MPEG audio frame (mp3), or ADTS (aac: 0xFFF1 / 0xFFF9).
        return "audio/aac" if head[1] & 0xF6 == 0xF0 else "audio/mpeg"
    return None
