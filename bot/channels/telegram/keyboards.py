"""Inline keyboards: the buttons of a question, and which chat shows which (`LiveKeyboards`).

A chat has at most one live keyboard (`storage.channels.keyboards`): the buttons of the
latest question. A press is taken only from that message, once; then its buttons
are replaced by the chosen label. A newer question or a typed answer retires the
keyboard, so a stale button pressed later is answered with a short note and
never taken as an answer to a different question.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message

from bot.channels.telegram.protocol import CHANNEL, CHOSEN, MAX_CALLBACK_DATA, TOKEN_PREFIX
from storage.channels.keyboards import KeyboardRepo, LiveKeyboard

__all__ = ["KEYBOARDS_KNOWN", "LiveKeyboards", "button_data", "chosen_markup", "keyboard"]

log = logging.getLogger(__name__)

# Chats whose keyboard state is remembered before it is forgotten (re-read when needed:
# one read per batch of updates). 10,000 chats are the last minute of a busy night;
# 50,000 made the bot's memory grow with its contacts up to 50,000 of them.
KEYBOARDS_KNOWN = 10_000


def keyboard(
    options: tuple[tuple[str, str], ...],
) -> tuple[InlineKeyboardMarkup | None, dict[str, str]]:
    """Buttons for the choices, and the tokens standing in for values too long for a button."""
    if not options:
        return None, {}
    long_values: dict[str, str] = {}
    buttons = []
    for value, label in options:
        data = value
        if not value or value.startswith(TOKEN_PREFIX) or len(value.encode()) > MAX_CALLBACK_DATA:
            data = TOKEN_PREFIX + hashlib.sha256(value.encode()).hexdigest()[:20]
            long_values[data] = value
        buttons.append(InlineKeyboardButton(label, callback_data=data))
    short = len(buttons) <= 3 and all(len(label) <= 12 for _, label in options)
    rows = [buttons] if short else [[button] for button in buttons]
    return InlineKeyboardMarkup(rows), long_values


@functools.lru_cache(maxsize=2048)
def keyboard_json(
    options: tuple[tuple[str, str], ...],
) -> tuple[str | None, tuple[tuple[str, str], ...]]:
    """`keyboard` as sent: the markup's JSON, and the long values' tokens as pairs.
    A pure function of the choices, which flows repeat, so kept for the next time."""
    markup, long_values = keyboard(options)
    text = None if markup is None else json.dumps(markup.to_dict(), separators=(",", ":"))
    return text, tuple(long_values.items())


def button_data(message: Message | Any) -> list[str] | None:
    """The data of the buttons the message shows (None: Telegram did not send the message)."""
    markup = getattr(message, "reply_markup", None)
    if not isinstance(message, Message):
        return None
    if not isinstance(markup, InlineKeyboardMarkup):
        return []
    return [str(b.callback_data) for row in markup.inline_keyboard for b in row]


def chosen_markup(message: Message | Any, data: str) -> InlineKeyboardMarkup | None:
    """The pressed button alone, marked, in place of the keyboard (None if not found)."""
    markup = getattr(message, "reply_markup", None)
    if not isinstance(markup, InlineKeyboardMarkup):
        return None
    for row in markup.inline_keyboard:
        for button in row:
            if button.callback_data == data:
                return InlineKeyboardMarkup(
                    [[InlineKeyboardButton(f"✓ {button.text}", callback_data=CHOSEN)]]
                )
    return None


class LiveKeyboards:
    """The store's live keyboards, with what this process knows of each chat.

    This process alone shows and retires keyboards, so it remembers per chat whether
    one is live (True) or none (False); a chat it has not seen is read from the store.
    A counter of keyboards shown per chat tells a retire or a read under way that a
    newer keyboard came meanwhile. Memory stays bounded by `known`: past it, what is
    known is forgotten, which only costs a read per chat.
    """

    def __init__(
        self, repo: KeyboardRepo, *, known: int = KEYBOARDS_KNOWN, channel: str = CHANNEL
    ) -> None:
        self._repo = repo
        self._channel = channel  # this bot's instance name (`telegram:tual`: its own chats)
        self._known = known
        self._live: dict[str, bool] = {}
        self._shown: dict[str, int] = {}

    def knows(self, address: str) -> bool | None:
        """True: a keyboard is live; False: none is; None: not known (read from the store)."""
        return self._live.get(address)

    async def live(self, address: str) -> LiveKeyboard | None:
        return await self._repo.live(self._channel, address)

    async def show(self, address: str, message_id: int, long_values: dict[str, str]) -> int | None:
        """Records the buttons just sent; returns the message id of the keyboard they replace."""
        older = await self._repo.show(
            self._channel, address, str(message_id), long_values, datetime.now(UTC)
        )
        self.remember(address, True)
        return None if older is None else int(older.message_id)

    async def pressed(self, address: str, message_id: str) -> None:
        """Retires the keyboard a press was taken from."""
        generation = self._shown.get(address, 0)
        await self._repo.retire(self._channel, address, message_id)
        if self._shown.get(address, 0) == generation:
            self.remember(address, False)

    async def retire(self, address: str) -> int | None:
        """Retires the chat's live keyboard after a typed message; returns its message id."""
        known = self._live.get(address)
        if known is False:
            return None  # no keyboard since the last one went: nothing to read or retire
        generation = self._shown.get(address, 0)
        try:
            if known is None:
                # Not seen since start-up: a read first, as most chats have none live.
                live = await self._repo.live(self._channel, address)
                retired = None if live is None else await self._repo.retire(self._channel, address)
            else:
                retired = await self._repo.retire(self._channel, address)
        except Exception:
            log.exception("telegram: could not retire a keyboard")
            return None
        if self._shown.get(address, 0) == generation:
            self.remember(address, False)
        return None if retired is None else int(retired.message_id)

    async def learn(self, chats: Iterable[int]) -> None:
        """Reads at once whether chats not seen since start-up have a live keyboard, so
        that a batch of typed messages costs one read, not one each (a flood of new
        families is all such chats)."""
        unknown = [str(chat) for chat in chats if str(chat) not in self._live]
        if not unknown:
            return
        # What was shown while the read ran is newer than what the read found.
        shown = {address: self._shown.get(address, 0) for address in unknown}
        try:
            live = await self._repo.with_live(self._channel, unknown)
        except Exception:
            log.exception("telegram: could not read which chats have live keyboards")
            return  # each is read on its own when needed
        if len(self._live) + len(unknown) > self._known and self.forget():
            return  # the counters went too: nothing here can be told to be current
        for address in unknown:
            if address not in self._live and self._shown.get(address, 0) == shown[address]:
                self._live[address] = address in live

    def remember(self, address: str, live: bool) -> None:
        if len(self._live) > self._known:
            self.forget()
        self._live[address] = live
        if live:
            self._shown[address] = self._shown.get(address, 0) + 1

    def forget(self) -> bool:
        """Forgets what is known of live keyboards, so memory stays bounded. The counters
        of shown keyboards are kept, so a read under way cannot mistake a keyboard shown
        meanwhile for none, unless they too grew too many: then True, and such a read
        must be dropped."""
        self._live.clear()
        if len(self._shown) > 2 * self._known:
            self._shown.clear()
            return True
        return False
