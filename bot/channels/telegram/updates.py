"""What an update carries, as `Inbound`s, and whether its fields are what the Bot API promises.

Group chats: families write in private chats, and nothing said in a group is
stored; group updates are dropped (the README suggests disabling groups).
Edited messages are not asked for: an edit cannot re-answer a question the
conversation has moved past, and a person in danger writes again.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from telegram import Message, Update

from bot.channels.base import Inbound
from bot.channels.telegram.protocol import CHANNEL

__all__ = ["chat_of", "message_inbounds", "well_formed"]


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
    inbounds.append(
        Inbound(CHANNEL, transport_id, address, _content_kind(message), "", at, reply_to)
    )
    return inbounds


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
