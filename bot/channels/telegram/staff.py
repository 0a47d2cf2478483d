"""The hand-off's calls to Telegram: alerts edited, media copied between chats, quick exit.

None of these is a reply: the outbox's hand-off rows (alerts edited when a case is
taken, a family's photo copied to the counsellor) and the quick exit call them.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence

from telegram import Bot
from telegram.error import BadRequest, TelegramError

from bot.channels.base import Unreachable
from bot.channels.telegram.errors import delivery_error
from bot.channels.telegram.keyboards import keyboard
from bot.digits import digits

__all__ = ["copy_message", "delete_messages", "edit_message", "edit_message_buttons"]

log = logging.getLogger(__name__)


async def edit_message(bot: Bot, address: str, message_id: str, text: str) -> None:
    """Replaces an alert's text (who took the case) and removes its button."""
    try:
        await bot.edit_message_text(text, chat_id=int(address), message_id=int(message_id))
    except BadRequest as exc:
        if "not modified" in str(exc).lower() or "not found" in str(exc).lower():
            return  # already so, or deleted by the counsellor: nothing left to do
        raise delivery_error(exc) from None
    except TelegramError as exc:
        raise delivery_error(exc) from None
    except ValueError:
        raise Unreachable("bad_address") from None


async def edit_message_buttons(
    bot: Bot, address: str, message_id: str, text: str, options: tuple[tuple[str, str], ...]
) -> None:
    """Replaces an alert digest's text and its buttons (the cases still waiting)."""
    markup, _ = keyboard(options)  # "take" buttons are short action values: no tokens
    try:
        await bot.edit_message_text(
            text, chat_id=int(address), message_id=int(message_id), reply_markup=markup
        )
    except BadRequest as exc:
        if "not modified" in str(exc).lower() or "not found" in str(exc).lower():
            return
        raise delivery_error(exc) from None
    except TelegramError as exc:
        raise delivery_error(exc) from None
    except ValueError:
        raise Unreachable("bad_address") from None


async def copy_message(bot: Bot, transport_id: str, to_address: str, caption: str | None) -> str:
    """Copies a message between chats (copyMessage): nothing is downloaded or kept.

    `transport_id` is the id `updates.message_inbounds` gave the message:
    "<chat>:<message>", or "<chat>:<message>:caption" for the words sent with it.
    """
    from_address, _, rest = transport_id.partition(":")
    message_id = rest.split(":")[0]
    try:
        copied = await bot.copy_message(
            chat_id=int(to_address),
            from_chat_id=int(from_address),
            message_id=int(message_id),
            caption=caption,
        )
    except TelegramError as exc:
        raise delivery_error(exc) from None
    except ValueError:
        raise Unreachable("bad_address") from None
    return str(copied.message_id)


async def delete_messages(
    bot: Bot, address: str, sent_ids: Sequence[str], received_ids: Sequence[str]
) -> int:
    """Deletes both sides of the chat (quick exit); returns how many ids were sent to go.

    `sent_ids` are what `send` returned ("12,13" for a reply in two parts);
    `received_ids` are our transport ids ("<chat>:<message>", a caption's
    "<chat>:<message>:caption"; a button press has no message of its own).
    Telegram lets a bot delete both sides of a private chat for 48 hours and
    skips what it cannot delete.
    """
    try:
        chat_id = int(address)
    except ValueError:
        raise Unreachable("bad_address") from None
    ids = sorted(message_ids(chat_id, [*sent_ids, *received_ids]))
    for start in range(0, len(ids), 100):
        try:
            await bot.delete_messages(chat_id, ids[start : start + 100])
        except TelegramError as exc:
            raise delivery_error(exc) from None
    if ids:
        log.info("telegram: asked to delete %s message(s) of a chat", len(ids))
    return len(ids)


def message_ids(chat_id: int, ids: Iterable[str]) -> set[int]:
    """Message ids in this chat, from send results ("12,13") and transport ids ("<chat>:12")."""
    found: set[int] = set()
    for item in ids:
        for piece in item.split(","):
            fields = piece.strip().split(":")
            if len(fields) == 1 and digits(fields[0]):
                found.add(int(fields[0]))
            elif len(fields) >= 2 and fields[0] == str(chat_id) and digits(fields[1]):
                found.add(int(fields[1]))
    return found
