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
from datetime import UTC, datetime
from typing import Any

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

__all__ = ["Poller", "chat_of", "idle", "message_inbounds", "webhook_update", "well_formed"]

log = logging.getLogger(__name__)


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
        handle_batch: Callable[[Sequence[Update]], Awaitable[None]],
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
                updates = await self._fetch()
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
            except Exception:
                # One update PTB cannot read fails its whole batch: read each one alone.
                log.warning("telegram: a batch of updates could not be read; reading each alone")
                try:
                    updates, last = await self._fetch_each()
                except Exception as exc:
                    await self._retry_later(exc)
                    continue
                self._answered()
                if updates:
                    try:
                        await self._handle_batch(updates)
                    except Exception as exc:
                        self._store_failed(exc)
                        await idle(self._stopping, self.backoff.first)
                        continue
                if last is not None:
                    self.offset = last + 1
                continue
            if updates is None:
                return
            self._answered()
            if not updates:
                continue
            if len(updates) >= UPDATES_PER_FETCH:
                self._backlog()  # a full batch: more are waiting at Telegram
            try:
                await self._handle_batch(updates)
            except Exception as exc:
                # Nothing is confirmed: the same updates come again and repeats are no-ops.
                self._store_failed(exc)
                if not storage_unavailable(exc):
                    await idle(self._stopping, self.backoff.first)
                continue
            self.offset = updates[-1].update_id + 1

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

    async def _fetch(self) -> tuple[Update, ...] | None:
        """One long poll; None when stopping cut it short."""
        fetch = asyncio.ensure_future(
            self._bot.get_updates(
                offset=self.offset,
                timeout=self._tuning.poll_timeout,
                allowed_updates=list(ALLOWED_UPDATES),
            )
        )
        stop = asyncio.ensure_future(self._stopping.wait())
        await asyncio.wait({fetch, stop}, return_when=asyncio.FIRST_COMPLETED)
        stop.cancel()
        if not fetch.done():
            fetch.cancel()
            with contextlib.suppress(asyncio.CancelledError, TelegramError):
                await fetch
            return None
        return fetch.result()

    async def _fetch_each(self) -> tuple[tuple[Update, ...], int | None]:
        """The pending batch read update by update, dropping those that cannot be read;
        and the last update id in it, for the offset to move past."""
        with warnings.catch_warnings():
            # PTB suggests get_updates, which is the call that could not read the batch.
            warnings.simplefilter("ignore", PTBUserWarning)
            raw = await self._bot.do_api_request(
                "getUpdates",
                api_kwargs={
                    "offset": self.offset,
                    "timeout": 0,
                    "allowed_updates": list(ALLOWED_UPDATES),
                },
            )
        read: list[Update] = []
        last: int | None = None
        for item in raw if isinstance(raw, list) else []:
            update_id = item.get("update_id") if isinstance(item, dict) else None
            if isinstance(update_id, int) and not isinstance(update_id, bool):
                last = update_id if last is None else max(last, update_id)
            try:
                update = Update.de_json(item, self._bot)
            except Exception:
                log.warning("telegram: update %s that cannot be read dropped", update_id)
                continue
            if update is not None:
                read.append(update)
        return tuple(read), last


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
    text = message.text
    if text is not None:
        command = text.split(maxsplit=1)
        if command and command[0].split("@", 1)[0].lower() == "/start":
            payload = command[1].strip()[:64] if len(command) > 1 else ""
            return [Inbound(CHANNEL, transport_id, address, "start", payload, at)]
        return [Inbound(CHANNEL, transport_id, address, "text", text, at, reply_to)]
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


def chat_of(update: Update) -> int | None:
    """The chat an update belongs to (None: no chat, or not well formed)."""
    if not well_formed(update):
        return None  # handle_update drops it
    if update.message is not None:
        return update.message.chat.id
    if update.callback_query is not None and update.callback_query.message is not None:
        return update.callback_query.message.chat.id
    return None
