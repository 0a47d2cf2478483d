"""The web chat channel: a family talks to the bot from a browser page (`/chat`).

The address is a random anonymous id kept in the browser's cookie; nothing else
identifies the person. Messages come in through the same pipeline as every other
channel (the page calls the receiver, which stores the message before answering);
replies go out through the outbox like any other, and `send` puts them in a small
per-address buffer the page reads (long polling).

Why a buffer and not a hand-over: the outbox marks a reply sent once `send`
returns, but the browser may be between two polls, or the tab closed for a
moment. The buffer keeps the last `Tuning.lines` lines of each conversation, each
with a sequence number; the page asks for the lines after the last it showed, so
a reconnect gets what it missed (at least once; the page skips what it has). The
buffer lives in memory only: what a person wrote and read is never written here
in clear, and a conversation idle for `Tuning.idle_seconds` is forgotten (the
conversation itself stays in the encrypted store; only this view of it goes).
A restart empties the buffer: replies sent before it are not shown again.

The channel raises no DeliveryError: a buffer always accepts.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field

from bot.channels.base import Outbound

__all__ = ["NAME", "Line", "Tuning", "WebChatChannel"]

NAME = "webchat"


@dataclass(frozen=True, slots=True)
class Tuning:
    lines: int = 100  # lines kept per conversation (what a reconnect can still fetch)
    conversations: int = 5000  # conversations kept at once; the least recent goes first
    idle_seconds: float = 6 * 3600.0  # a conversation untouched this long is forgotten


@dataclass(frozen=True, slots=True)
class Line:
    """One line of a conversation as the page shows it."""

    seq: int
    who: str  # "bot" or "you"
    text: str = field(repr=False)
    options: tuple[tuple[str, str], ...] = field(default=(), repr=False)


@dataclass(slots=True)
class _Conversation:
    lines: deque[Line]
    touched: float
    next_seq: int = 1
    changed: asyncio.Event = field(default_factory=asyncio.Event)


class WebChatChannel:
    """A Channel whose "transport" is a buffer the web chat page reads."""

    buttons = True
    max_per_second = 200.0
    per_chat_interval = 0.0

    def __init__(
        self, tuning: Tuning | None = None, *, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self.tuning = tuning or Tuning()
        self._monotonic = monotonic
        self._conversations: OrderedDict[str, _Conversation] = OrderedDict()

    @property
    def name(self) -> str:
        return NAME

    async def send(self, message: Outbound) -> str | None:
        line = self._append(message.address, "bot", message.text, message.options)
        return f"{NAME}:{line.seq}"

    def note_own(self, address: str, text: str) -> Line:
        """Shows the person's own message in their conversation (the page echoes it)."""
        return self._append(address, "you", text, ())

    def lines(self, address: str, after: int = 0) -> list[Line]:
        """The lines still kept after sequence number `after`, oldest first."""
        conversation = self._get(address, create=False)
        if conversation is None:
            return []
        return [line for line in conversation.lines if line.seq > after]

    async def wait(self, address: str, after: int, timeout: float) -> list[Line]:
        """The lines after `after`, waiting up to `timeout` seconds for one to come."""
        conversation = self._get(address, create=True)
        assert conversation is not None
        newer = self.lines(address, after)
        if newer or timeout <= 0:
            return newer
        try:
            await asyncio.wait_for(conversation.changed.wait(), timeout)
        except TimeoutError:
            return []
        return self.lines(address, after)

    def close(self) -> None:
        """Wakes every waiting page (the server is stopping) and forgets the buffers."""
        for conversation in self._conversations.values():
            conversation.changed.set()
        self._conversations.clear()

    def _get(self, address: str, *, create: bool) -> _Conversation | None:
        now = self._monotonic()
        self._forget_idle(now)
        conversation = self._conversations.get(address)
        if conversation is None:
            if not create:
                return None
            conversation = _Conversation(deque(maxlen=self.tuning.lines), now)
            self._conversations[address] = conversation
            while len(self._conversations) > self.tuning.conversations:
                _, oldest = self._conversations.popitem(last=False)
                oldest.changed.set()
        conversation.touched = now
        self._conversations.move_to_end(address)
        return conversation

    def _forget_idle(self, now: float) -> None:
        while self._conversations:
            address, oldest = next(iter(self._conversations.items()))
            if now - oldest.touched < self.tuning.idle_seconds:
                return
            del self._conversations[address]
            oldest.changed.set()

    def _append(
        self, address: str, who: str, text: str, options: tuple[tuple[str, str], ...]
    ) -> Line:
        conversation = self._get(address, create=True)
        assert conversation is not None
        line = Line(conversation.next_seq, who, text, options)
        conversation.next_seq += 1
        conversation.lines.append(line)
        # Wake every page waiting on this conversation, then arm a fresh event.
        changed, conversation.changed = conversation.changed, asyncio.Event()
        changed.set()
        return line
