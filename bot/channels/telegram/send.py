"""One reply to Telegram: parts of at most 4096 characters, bold entities, the plain fallback.

A reply whose later part failed is resumed where it stopped: the parts already
sent are kept per outbox row, so a retry sends only the rest.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time

from telegram import Bot, MessageEntity
from telegram.error import BadRequest, TelegramError

from bot.channels.base import Outbound, Unreachable, numbered_list
from bot.channels.telegram.errors import delivery_error
from bot.channels.telegram.keyboards import keyboard_json
from bot.channels.telegram.protocol import MAX_TEXT, NO_PREVIEW_JSON, Tuning
from bot.channels.textparts import bold_spans, split_text, utf16_len

__all__ = ["Replies", "Sent"]

log = logging.getLogger(__name__)

Sent = tuple[list[int], bool, tuple[tuple[str, str], ...]]
"""The message ids of a reply's parts, whether its buttons are shown, their long values."""


class Replies:
    """Sends replies, remembering the parts of an unfinished one and when each chat last got one."""

    def __init__(self, bot: Bot, tuning: Tuning) -> None:
        self._bot = bot
        self._tuning = tuning
        self._parts_sent: dict[int, list[int]] = {}  # outbox id -> message ids of parts sent
        self._last_sent: dict[str, float] = {}
        self._group_sent: dict[int, float] = {}

    def last_sent(self, address: str) -> float:
        """When (monotonic) the chat last got a reply from this process; -1.0 if never."""
        return self._last_sent.get(address, -1.0)

    async def send(self, message: Outbound) -> Sent:
        """Delivers one reply in parts; raises a `DeliveryError` when Telegram refuses."""
        try:
            chat_id = int(message.address)
        except ValueError:
            raise Unreachable("bad_address") from None
        if chat_id < 0:
            await self._pace_group(chat_id)
        reserve = utf16_len(numbered_list("", message.options)) if message.options else 0
        parts = split_text(message.text, MAX_TEXT - reserve, utf16_len) or ["…"]
        markup, long_values = keyboard_json(message.options)
        sent = self._parts_sent.pop(message.outbox_id, [])
        shown = False
        for index in range(len(sent), len(parts)):
            last = index == len(parts) - 1
            try:
                message_id, shown = await self._send_part(
                    chat_id, parts[index], message.options if last else (), markup if last else None
                )
            except TelegramError as exc:
                error = delivery_error(exc)
                if sent and not isinstance(error, Unreachable):
                    self._parts_sent[message.outbox_id] = sent  # a retry sends only the rest
                raise error from None
            sent.append(message_id)
        self._last_sent[message.address] = time.monotonic()
        if len(self._last_sent) > 10_000:
            # Only the last few seconds matter (for "typing…"): forget older chats.
            horizon = time.monotonic() - 60.0
            self._last_sent = {a: t for a, t in self._last_sent.items() if t > horizon}
        return sent, shown, long_values

    async def _send_part(
        self,
        chat_id: int,
        text: str,
        options: tuple[tuple[str, str], ...],
        markup: str | None,
    ) -> tuple[int, bool]:
        """Sends one part (`markup`: the keyboard as JSON); (message id, whether its
        buttons are shown)."""
        plain, spans = bold_spans(text)
        entities = (
            json.dumps(
                [{"type": MessageEntity.BOLD, "offset": o, "length": n} for o, n in spans]
            )
            if spans
            else None
        )
        try:
            sent = await self._send_message(chat_id, plain, entities, markup)
            return sent, markup is not None
        except BadRequest as exc:
            if isinstance(delivery_error(exc), Unreachable) or (not entities and markup is None):
                raise
            # Never leave a family without the words: send them plain, choices numbered.
            log.warning(
                "telegram: a formatted reply was refused (%s); sending it plain", type(exc).__name__
            )
            return await self._send_message(chat_id, numbered_list(text, options)), False

    async def _send_message(
        self,
        chat_id: int,
        text: str,
        entities: str | None = None,
        markup: str | None = None,
    ) -> int:
        """sendMessage through python-telegram-bot's request path (parameters, errors,
        retries are its own); returns the new message's id.

        `Bot.send_message` would also build a `Message` from the answer, about a tenth of
        the bot's CPU, and only the id is ever read (docs/performance.md). Entities and
        the keyboard come as JSON, which the library passes on as they are: a
        question's keyboard is the same every time it is asked, and is serialised once.
        """
        answer = await self._bot.do_api_request(
            "sendMessage",
            api_kwargs={
                "chat_id": chat_id,
                "text": text,
                "entities": entities,
                "reply_markup": markup,
                "link_preview_options": NO_PREVIEW_JSON,
            },
        )
        message_id = answer.get("message_id") if isinstance(answer, dict) else None
        if not isinstance(message_id, int) or isinstance(message_id, bool):
            # Not known to be delivered: retried like any failed send (at least once).
            raise TelegramError("sendMessage answered without a message id")
        return message_id

    async def _pace_group(self, chat_id: int) -> None:
        """Keeps to Telegram's 20 messages a minute in one group."""
        wait = self._group_sent.get(chat_id, -1e9) + self._tuning.group_interval
        wait -= time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        self._group_sent[chat_id] = time.monotonic()
