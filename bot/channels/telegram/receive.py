"""Receiving from Telegram: our own getUpdates loop, the webhook endpoint, and what an
update carries, as `Inbound`s (and whether its fields are what the Bot API promises).

Polling moves the offset past a batch only once all of it is stored (PTB's
Updater confirms updates earlier, so a crash could lose one); the webhook
answers 200 only once its update is stored.

Group chats: families write in private chats, and nothing said in a group is
stored; group updates are dropped (the README suggests disabling groups).
Edited messages are not asked for: an edit cannot re-answer a question the
conversation has moved past, and a person in danger writes again.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import warnings
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeGuard

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from telegram import Bot, Message, Update
from telegram.error import Conflict, InvalidToken, NetworkError, RetryAfter, TelegramError, TimedOut
from telegram.warnings import PTBUserWarning

from bot.backoff import Backoff
from bot.channels.base import Inbound
from bot.channels.telegram.errors import retry_seconds
from bot.channels.telegram.protocol import (
    ALLOWED_UPDATES,
    CHANNEL,
    MAX_WEBHOOK_BODY,
    SECRET_HEADER,
    UPDATES_PER_FETCH,
    Tuning,
)
from bot.core.pulse import Pulse
from bot.core.writehealth import storage_unavailable
from bot.logthrottle import LogThrottle
from bot.web import read_body
from storage.media.records import MediaRef

__all__ = [
    "PlainText",
    "Poller",
    "Received",
    "chat_of",
    "idle",
    "message_inbounds",
    "plain_inbounds",
    "plain_text",
    "webhook_update",
    "well_formed",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PlainText:
    """A person's text in a private chat, read straight from the update's JSON.

    Nearly every update is one of these, and python-telegram-bot's objects for one cost
    more CPU than the rest of its reading and storing (docs/performance.md): such an
    update is read here, field by field with the types the Bot API promises; anything
    else (a press, a photo, a group, a bot, a reply, links or a command marked in the
    text, a field this does not know) is read by the library as before. Both give the
    same `Inbound`s (`text_inbounds`).
    """

    update_id: int
    chat_id: int
    message_id: int
    date: datetime
    text: str = field(repr=False)


Received = Update | PlainText
"""An update as the poller hands it on: plain text read by us, or the library's object."""

_PLAIN_UPDATE = frozenset({"update_id", "message"})
# A message with entities (links, a command), a reply or anything more is the library's.
_PLAIN_MESSAGE = frozenset({"message_id", "from", "chat", "date", "text"})


def _whole(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def plain_text(item: object) -> PlainText | None:
    """The update as `PlainText` when it is exactly a person's text in a private chat."""
    if not isinstance(item, dict) or not item.keys() <= _PLAIN_UPDATE:
        return None
    update_id, message = item.get("update_id"), item.get("message")
    if not _whole(update_id) or not isinstance(message, dict):
        return None
    if not message.keys() <= _PLAIN_MESSAGE:
        return None
    chat, sender = message.get("chat"), message.get("from")
    text, date, message_id = message.get("text"), message.get("date"), message.get("message_id")
    if not (isinstance(chat, dict) and chat.get("type") == "private" and _whole(chat.get("id"))):
        return None
    if not (
        isinstance(sender, dict)
        and sender.get("is_bot") is False
        and _whole(sender.get("id"))
        and isinstance(sender.get("first_name"), str)
    ):
        return None
    if not (isinstance(text, str) and _whole(date) and _whole(message_id)):
        return None
    try:
        at = datetime.fromtimestamp(date, UTC)
    except (OverflowError, OSError, ValueError):
        return None
    return PlainText(update_id, int(chat["id"]), message_id, at, text)


async def idle(stopping: asyncio.Event, seconds: float) -> None:
    """Waits `seconds`, or less if the channel is stopping."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stopping.wait(), seconds)


class Poller:
    """The getUpdates loop; `offset` is past the last batch stored."""

    def __init__(
        self,
        bot: Bot,
        tuning: Tuning,
        stopping: asyncio.Event,
        handle_batch: Callable[[Sequence[Received]], Awaitable[None]],
        backlog: Callable[[], None],
    ) -> None:
        self._bot = bot
        self._tuning = tuning
        self._stopping = stopping
        self._handle_batch = handle_batch
        self._backlog = backlog
        self.offset: int | None = None
        self.backoff = Backoff(first=tuning.poll_retry_first, cap=tuning.poll_retry_cap)
        # Returns once the database takes writes (bot.core.writehealth); set by `bind`.
        self.until_writable: Callable[[], Awaitable[None]] | None = None
        self.pulse = Pulse(polls=True)  # replaced by the channel's own

    async def _writable(self) -> None:
        """Waits, without fetching, while the database cannot be written (or until stopping):
        what Telegram holds stays there, and nothing is fetched that cannot be stored."""
        if self.until_writable is None:
            return
        writable = asyncio.ensure_future(self.until_writable())
        await asyncio.sleep(0)
        if writable.done():
            return
        log.warning(
            "telegram: not fetching updates until the database can be written"
            " (or, with several processes, until this one leads)"
        )
        stop = asyncio.ensure_future(self._stopping.wait())
        await asyncio.wait({writable, stop}, return_when=asyncio.FIRST_COMPLETED)
        writable.cancel()
        stop.cancel()
        if not self._stopping.is_set():
            log.warning("telegram: fetching updates again")

    def _store_failed(self, exc: BaseException) -> None:
        if storage_unavailable(exc):
            return  # said once by bot.core.writehealth; the next pass waits for writes
        log.error("telegram: could not store updates; fetching them again", exc_info=exc)

    async def run(self) -> None:
        """Fetches updates; the offset moves past a batch only once all of it is stored."""
        while not self._stopping.is_set():
            await self._writable()
            if self._stopping.is_set():
                return
            try:
                fetched = await self._fetch()
            except RetryAfter as exc:
                await idle(self._stopping, retry_seconds(exc))
                continue
            except TimedOut:
                continue
            except (Conflict, InvalidToken, NetworkError) as exc:
                await self._retry_later(exc)
                continue
            except TelegramError as exc:  # an answer that is not the Bot API's (not JSON)
                await self._retry_later(exc)
                continue
            except Exception as exc:  # whatever else: the poll is tried again, never given up
                await self._retry_later(exc)
                continue
            if fetched is None:
                return
            self._answered()
            updates, last, count = fetched
            if last is None:
                continue
            if count >= UPDATES_PER_FETCH:
                self._backlog()  # a full batch: more are waiting at Telegram
            if updates:
                try:
                    await self._handle_batch(updates)
                except Exception as exc:
                    # Nothing is confirmed: the same updates come again and repeats are no-ops.
                    self._store_failed(exc)
                    if not storage_unavailable(exc):
                        await idle(self._stopping, self.backoff.first)
                    continue
            self.offset = last + 1

    async def _retry_later(self, exc: BaseException) -> None:
        """Waits a capped, jittered back-off after a failed getUpdates; one line, no traceback
        (the upstream's fault, not ours: its name and the error class say enough)."""
        self.pulse.failed()
        wait = self.backoff.next_wait()
        if self.backoff.failures == 1 or self.backoff.failures % 20 == 0:
            log.error(
                "telegram: getUpdates failed (%s, %s in a row); retrying in %.1fs",
                type(exc).__name__,
                self.backoff.failures,
                wait,
            )
        await idle(self._stopping, wait)

    def _answered(self) -> None:
        self.pulse.ok()
        if self.backoff.failures:
            log.warning(
                "telegram: getUpdates answers again after %s failures", self.backoff.failures
            )
        self.backoff.reset()

    async def confirm(self) -> None:
        """Tells Telegram what is stored, so a restart does not fetch it again."""
        if self.offset is not None:
            with contextlib.suppress(TelegramError):
                await self._bot.get_updates(offset=self.offset, timeout=0)

    async def _fetch(self) -> tuple[tuple[Received, ...], int | None, int] | None:
        """One long poll: the updates read, the last update id in the batch (for the
        offset to move past, unreadable ones included) and how many came; None when
        stopping cut it short."""
        fetch = asyncio.ensure_future(self._poll())
        stop = asyncio.ensure_future(self._stopping.wait())
        await asyncio.wait({fetch, stop}, return_when=asyncio.FIRST_COMPLETED)
        stop.cancel()
        if not fetch.done():
            fetch.cancel()
            with contextlib.suppress(asyncio.CancelledError, TelegramError):
                await fetch
            return None
        return self._read(fetch.result())

    async def _poll(self) -> object:
        """getUpdates through python-telegram-bot's request path, its answer as JSON (the
        long poll's seconds added to the read timeout, as `Bot.get_updates` does)."""
        with warnings.catch_warnings():
            # PTB suggests get_updates, which would build its objects for every update.
            warnings.simplefilter("ignore", PTBUserWarning)
            return await self._bot.do_api_request(
                "getUpdates",
                api_kwargs={
                    "offset": self.offset,
                    "timeout": self._tuning.poll_timeout,
                    "allowed_updates": list(ALLOWED_UPDATES),
                },
                read_timeout=self._tuning.request_timeout + self._tuning.poll_timeout,
            )

    def _read(self, raw: object) -> tuple[tuple[Received, ...], int | None, int]:
        """Each update read alone: plain text by us, the rest by the library; one that
        cannot be read is dropped (logged by id) without holding back the others."""
        items = raw if isinstance(raw, list) else []
        read: list[Received] = []
        last: int | None = None
        for item in items:
            update_id = item.get("update_id") if isinstance(item, dict) else None
            if _whole(update_id):
                last = update_id if last is None else max(last, update_id)
            plain = plain_text(item)
            if plain is not None:
                read.append(plain)
                continue
            try:
                update = Update.de_json(item, self._bot)
            except Exception:
                log.warning("telegram: update %s that cannot be read dropped", update_id)
                continue
            if update is not None:
                read.append(update)
        return tuple(read), last, len(items)


async def webhook_update(
    request: Request, secret: str, bot: Bot, noise: LogThrottle | None = None
) -> Update | Response:
    """The update a `POST /telegram/webhook` carries, or the refusal to answer it with.

    Refusals are logged through `noise`: a flood of forged posts is a count a minute."""
    noise = noise or LogThrottle(log)
    given = request.headers.get(SECRET_HEADER, "").encode()
    if not secret or not hmac.compare_digest(given, secret.encode()):
        noise.warning("telegram webhook: a request without the right secret token was refused")
        return PlainTextResponse("forbidden", status_code=403)
    body = await read_body(request, MAX_WEBHOOK_BODY)
    if body is None:
        return PlainTextResponse("too large", status_code=413)
    try:
        data = json.loads(body)
        if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
            raise ValueError("not an update")
        update = Update.de_json(data, bot)
        if not well_formed(update):
            raise ValueError("an update with missing or odd fields")
    except Exception:
        noise.warning("telegram webhook: a body that is not an update was refused")
        return PlainTextResponse("not an update", status_code=400)
    return update


# --- what an update carries -------------------------------------------------


def well_formed(update: Update) -> bool:
    """Whether the fields we read have the types the Bot API promises.

    python-telegram-bot builds objects from whatever JSON it is given, so a
    message without a chat or with a text that is a number gets this far.
    """
    if not isinstance(update.update_id, int):
        return False
    query = update.callback_query
    if query is not None:
        user = query.from_user
        message = query.message
        return (
            isinstance(query.id, str)
            and (query.data is None or isinstance(query.data, str))
            and user is not None
            and (user.language_code is None or isinstance(user.language_code, str))
            and (message is None or _well_formed_message(message, needs_sender=False))
        )
    return update.message is None or _well_formed_message(update.message, needs_sender=True)


def _well_formed_message(message: Any, *, needs_sender: bool) -> bool:
    chat = getattr(message, "chat", None)
    user = getattr(message, "from_user", None)
    replied = getattr(message, "reply_to_message", None)
    return (
        isinstance(getattr(chat, "id", None), int)
        and isinstance(getattr(chat, "type", None), str)
        and isinstance(getattr(message, "message_id", None), int)
        and isinstance(getattr(message, "date", None), datetime)
        and (not needs_sender or user is None or isinstance(user.is_bot, bool))
        and all(
            getattr(message, field, None) is None or isinstance(getattr(message, field), str)
            for field in ("text", "caption")
        )
        and (replied is None or isinstance(getattr(replied, "message_id", None), int))
    )


def message_inbounds(message: Message) -> list[Inbound]:
    """What a private message carries, in the order to process it (a caption first)."""
    address = str(message.chat.id)
    transport_id = f"{message.chat.id}:{message.message_id}"
    at = message.date if message.date.tzinfo is not None else message.date.replace(tzinfo=UTC)
    replied = message.reply_to_message
    reply_to = None if replied is None else str(replied.message_id)
    if message.text is not None:
        return text_inbounds(address, transport_id, message.text, at, reply_to)
    inbounds = []
    if message.caption:
        # Words sent with a photo are read (and crisis-checked) like any text.
        inbounds.append(
            Inbound(
                CHANNEL, f"{transport_id}:caption", address, "text", message.caption, at, reply_to
            )
        )
    kind = _content_kind(message)
    inbounds.append(
        Inbound(CHANNEL, transport_id, address, kind, "", at, reply_to, _media_ref(message))
    )
    return inbounds


def plain_inbounds(plain: PlainText) -> list[Inbound]:
    """What a plain text carries: the same as the library's reading of it gives."""
    transport_id = f"{plain.chat_id}:{plain.message_id}"
    return text_inbounds(str(plain.chat_id), transport_id, plain.text, plain.date, None)


def text_inbounds(
    address: str, transport_id: str, text: str, at: datetime, reply_to: str | None
) -> list[Inbound]:
    """A typed text, or `/start` with its deep link's payload."""
    command = text.split(maxsplit=1)
    if command and command[0].split("@", 1)[0].lower() == "/start":
        payload = command[1].strip()[:64] if len(command) > 1 else ""
        return [Inbound(CHANNEL, transport_id, address, "start", payload, at)]
    return [Inbound(CHANNEL, transport_id, address, "text", text, at, reply_to)]


def _media_ref(message: Message) -> MediaRef | None:
    """Where Telegram keeps a photo (its largest size) or a voice note or audio file."""
    if message.photo:
        largest = message.photo[-1]
        return MediaRef(largest.file_id, "image/jpeg", largest.file_size)
    sound = message.voice if message.voice is not None else message.audio
    if sound is not None and sound.file_id:
        default = "audio/ogg" if message.voice is not None else "audio/mpeg"
        return MediaRef(sound.file_id, sound.mime_type or default, sound.file_size)
    return None


def _content_kind(message: Message) -> str:
    if message.photo:
        return "photo"
    if message.voice is not None or message.audio is not None:
        return "voice"
    if message.video is not None or message.video_note is not None or message.animation is not None:
        return "video"
    if message.sticker is not None:
        return "sticker"
    if message.location is not None or message.venue is not None:
        return "location"
    if message.document is not None:
        return "file"
    if message.contact is not None:
        return "contact"
    return "unsupported"


def chat_of(update: Received) -> int | None:
    """The chat an update belongs to (None: no chat, or not well formed)."""
    if isinstance(update, PlainText):
        return update.chat_id
    if not well_formed(update):
        return None  # handle_update drops it
    if update.message is not None:
        return update.message.chat.id
    if update.callback_query is not None and update.callback_query.message is not None:
        return update.callback_query.message.chat.id
    return None
