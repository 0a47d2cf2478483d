"""A family's photo or voice note fetched from Telegram, and media uploaded to a counsellor.

Fetching asks `getFile` for the file's path and size, refuses a file over the
limit before downloading it, and downloads it from the Bot API's file address
(which carries the token: never logged), counting the bytes as they arrive and
abandoning the download past the limit, whatever size was declared. Sending
uploads the bytes as a voice note, an audio file or a photo (multipart), with a
caption that names the case.
"""

from __future__ import annotations

import httpx
from telegram import Bot
from telegram.error import (
    BadRequest,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    RetryAfter,
    TelegramError,
)

from bot.channels.base import Unreachable
from bot.channels.media import TOO_LARGE, Fetched, FetchLater, FetchRefused, base_mime
from bot.channels.telegram.errors import delivery_error
from bot.digits import digits
from storage.media.records import MediaRef

__all__ = ["DOWNLOAD_TIMEOUT", "fetch", "send"]

DOWNLOAD_TIMEOUT = 60.0  # seconds for a file of a few megabytes on a slow line
CHUNK = 64 * 1024
# Voice notes Telegram plays as such (sendVoice: OGG/Opus, MP3, M4A); other audio goes
# as a file the phone can open.
_VOICE = frozenset({"audio/ogg", "audio/mpeg", "audio/mp4"})
_NAMES = {
    "audio/ogg": "voice.ogg",
    "audio/mpeg": "audio.mp3",
    "audio/mp4": "audio.m4a",
    "audio/aac": "audio.aac",
    "audio/amr": "audio.amr",
    "image/jpeg": "photo.jpg",
    "image/png": "photo.png",
    "image/webp": "photo.webp",
}


async def fetch(bot: Bot, ref: MediaRef, limit: int) -> Fetched:
    """The file a message carried; FetchRefused(TOO_LARGE) over `limit` bytes."""
    if ref.size is not None and ref.size > limit:
        raise FetchRefused(TOO_LARGE)
    try:
        found = await bot.get_file(ref.locator)
        if found.file_size is not None and found.file_size > limit:
            raise FetchRefused(TOO_LARGE)
        address = found.file_path
    except (BadRequest, Forbidden, InvalidToken, EndPointNotFound) as exc:
        raise FetchRefused(f"telegram_{type(exc).__name__}") from None
    except RetryAfter:
        raise FetchLater("rate_limited") from None
    except TelegramError as exc:
        raise FetchLater(f"telegram_{type(exc).__name__}") from None
    if not address or not address.startswith(("https://", "http://")):
        raise FetchRefused("no_file_path")  # no path (or a local one): never downloadable
    data = await _download(address, limit)
    return Fetched(data, ref.mime)


async def _download(address: str, limit: int) -> bytes:
    """The file's bytes, read in chunks and abandoned as soon as they pass `limit`."""
    data = bytearray()
    try:
        async with httpx.AsyncClient(timeout=DOWNLOAD_TIMEOUT) as client:
            async with client.stream("GET", address) as response:
                if response.status_code in (400, 401, 403, 404):
                    raise FetchRefused(f"http_{response.status_code}")
                if response.status_code != 200:
                    raise FetchLater(f"http_{response.status_code}")
                declared = response.headers.get("content-length", "")
                if digits(declared) and int(declared) > limit:
                    raise FetchRefused(TOO_LARGE)
                async for chunk in response.aiter_bytes(CHUNK):
                    data.extend(chunk)
                    if len(data) > limit:
                        raise FetchRefused(TOO_LARGE)
    except httpx.HTTPError as exc:
        # The class name only: the address carries the bot's token.
        raise FetchLater(f"httpx_{type(exc).__name__}") from None
    return bytes(data)


async def send(bot: Bot, address: str, kind: str, mime: str, data: bytes, caption: str) -> str:
    """Uploads a photo, voice note or audio file to a chat; returns the message id."""
    mime = base_mime(mime)
    name = _NAMES.get(mime, "file")
    try:
        chat_id = int(address)
    except ValueError:
        raise Unreachable("bad_address") from None
    wait = DOWNLOAD_TIMEOUT
    try:
        if kind == "photo":
            sent = await bot.send_photo(
                chat_id, data, caption=caption, filename=name, read_timeout=wait, write_timeout=wait
            )
        elif mime in _VOICE:
            sent = await bot.send_voice(
                chat_id, data, caption=caption, filename=name, read_timeout=wait, write_timeout=wait
            )
        else:
            sent = await bot.send_document(
                chat_id, data, caption=caption, filename=name, read_timeout=wait, write_timeout=wait
            )
    except TelegramError as exc:
        raise delivery_error(exc) from None
    return str(sent.message_id)
