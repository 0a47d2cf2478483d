"""The web chat channel: a family talks to the bot from a browser page (`page.py`, `/chat`).

The address is a random anonymous id kept in the browser's cookie; nothing else
identifies the person. Messages come in through the same pipeline as every other
channel (the page calls the receiver, which stores the message before answering);
replies go out through the outbox like any other.

Why the conversation is read back from the database: the page is the transport,
so "sent" must mean "the page can show it", across a reload, a closed tab and a
restart of the bot. `send` records the reply as a line of the conversation at
that address (`storage.channels.webchat`: a reference to the outbox row, never a copy of
its words) before the outbox marks it sent, and the page asks for the lines
after its cursor (the last line it showed), decrypted under the contact's own
key. So a reply once acknowledged is never lost, and a reconnect gets what it
missed, once. What stays readable at an address is bounded (`Tuning`), and a
quick exit or an erasure leaves nothing of it: a page whose cursor is from
before (`ChatView.reset`) is answered at once, to start over.

Only the waiting pages live in memory: one event per address that has a poll
open, so a reply wakes its page at once. No text is held here. On PostgreSQL a
reply another process sends wakes the poll too: the database tells every process
(`bot.core.live`, the address's `webchat:` topic), so a family's page may poll
one process while another sends.

The channel raises RetryLater only while it is not yet bound to the store.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field

from bot.channels.base import Outbound, Receiver, RetryLater
from bot.channels.registry import Host
from bot.channels.webchat.page import MAX_CHARS, WebChatPage, mount_webchat
from bot.core.live import LINGER, LiveChanges
from bot.core.texts import BotTexts
from bot.web import WebServer
from storage.channels.webchat import CHANNEL, KEEP_LINES, KEEP_SECONDS, START, ChatView, Cursor
from storage.store import Store

__all__ = ["NAME", "Tuning", "WebChatChannel"]

NAME = CHANNEL


@dataclass(frozen=True, slots=True)
class Tuning:
    lines: int = KEEP_LINES  # lines an address can read again (a reload, a reconnect)
    keep_seconds: int = KEEP_SECONDS  # no line older than this is shown, nor kept


@dataclass(slots=True)
class _Waiting:
    """The pages polling one address: woken together when a line comes."""

    event: asyncio.Event = field(default_factory=asyncio.Event)
    polls: int = 0


class WebChatChannel:
    """A Channel whose "transport" is the conversation view the web chat page reads."""

    buttons = True
    max_per_second = 200.0
    per_chat_interval = 0.0

    needs_web = True  # the page is the transport

    def __init__(
        self,
        tuning: Tuning | None = None,
        *,
        texts: BotTexts | None = None,
        secure_cookies: bool = False,
        read_chars: int = MAX_CHARS,
    ) -> None:
        self.tuning = tuning or Tuning()
        self._read_chars = read_chars
        self._concern: Callable[[str], bool] | None = None
        self._texts = texts
        self._secure_cookies = secure_cookies
        self._store: Store | None = None
        self._receive: Receiver | None = None
        self._waiting: dict[str, _Waiting] = {}
        self._closed = False

    @property
    def name(self) -> str:
        return NAME

    def bind(self, host: Host) -> None:
        """Gives the channel the store it keeps the conversations in (before sending starts)
        and the receiver its page stores messages with."""
        self._store = host.store
        self._receive = host.receive
        self._concern = host.concern
        self._closed = False

    # --- lifecycle ----------------------------------------------------------

    def add_routes(self, web: WebServer) -> None:
        """Serves the page; its waiting polls end when the server stops."""
        if self._receive is None or self._texts is None:
            raise RuntimeError("WebChatChannel needs texts and bind before its routes")
        page = WebChatPage(
            self,
            self._receive,
            self._texts,
            secure_cookies=self._secure_cookies,
            concern=self._concern,
            read_chars=self._read_chars,
        )
        mount_webchat(web, page)

    def describe(self) -> str:
        return ""

    async def open(self) -> None:
        """Nothing to open: the conversations are in the store."""

    async def start(self) -> None:
        """Nothing to start: the page receives once the web server runs."""

    async def stop(self) -> None:
        self.wake_all()

    async def close(self) -> None:
        """Closes the change listener its polls held open (PostgreSQL; nothing on SQLite)."""
        if self._store is not None and self._store.url is not None:
            await LiveChanges.of(self._store).close()

    def _bound(self) -> Store:
        if self._store is None:
            raise RetryLater("webchat_not_ready")
        return self._store

    async def send(self, message: Outbound) -> str | None:
        seq = await self._bound().webchat.delivered(
            message.outbox_id,
            message.address,
            keep_lines=self.tuning.lines,
            keep_seconds=self.tuning.keep_seconds,
        )
        self.wake(message.address)
        return None if seq is None else f"{NAME}:{seq}"

    async def view(self, address: str, after: Cursor = START) -> ChatView:
        """The lines still kept at `address` after the page's cursor, oldest first."""
        if self._store is None:
            return ChatView((), None)
        return await self._store.webchat.view(
            address, after, keep_lines=self.tuning.lines, keep_seconds=self.tuning.keep_seconds
        )

    def csrf_key(self) -> bytes | None:
        """The page's CSRF key, the same after a restart (None before the store is bound)."""
        return None if self._store is None else self._store.webchat.csrf_key()

    async def statement_read(self, address: str) -> bool:
        """The person closed their erasure's statement: the page at `address` goes blank."""
        if self._store is None:
            return False
        done = await self._store.webchat.statement_read(address)
        self.wake(address)
        return done

    def wake(self, address: str) -> None:
        """Wakes the pages polling `address` (a line was added there)."""
        waiting = self._waiting.pop(address, None)
        if waiting is not None:
            waiting.event.set()

    async def wait(self, address: str, after: Cursor, timeout: float) -> ChatView:
        """The lines after the cursor, waiting up to `timeout` seconds for one to come."""
        waiting = self._waiting.setdefault(address, _Waiting())
        waiting.polls += 1
        try:
            with self._told(address, waiting.event):
                return await self._wait(address, after, timeout, waiting)
        finally:
            waiting.polls -= 1
            if waiting.polls == 0 and self._waiting.get(address) is waiting:
                del self._waiting[address]

    def _told(
        self, address: str, event: asyncio.Event
    ) -> contextlib.AbstractContextManager[object]:
        """On PostgreSQL, a line another process adds for `address` wakes this poll too
        (`bot.core.live`); one process on SQLite wakes its polls itself (`wake`)."""
        store = self._store
        if store is None or store.url is None:
            return contextlib.nullcontext()
        live = LiveChanges.of(store)
        stack = contextlib.ExitStack()
        stack.enter_context(live.hold(LINGER))
        stack.enter_context(live.subscribe([store.webchat.live_topic(address)], event))
        return stack

    async def _wait(
        self, address: str, after: Cursor, timeout: float, waiting: _Waiting
    ) -> ChatView:
        # Registered before reading, so a line written in between still wakes this poll.
        view = await self.view(address, after)
        # A cursor of an earlier epoch: what the page shows is gone; say so now.
        # An erasure's statement the page does not show yet (its cursor is not the
        # statement's) is news as much as a line is.
        news = view.lines or view.reset or view.left or (view.statement and view.cursor != after)
        if news or timeout <= 0 or self._closed:
            return view
        try:
            await asyncio.wait_for(waiting.event.wait(), timeout)
        except TimeoutError:
            return view
        if self._closed:
            return view
        return await self.view(address, after)

    def wake_all(self) -> None:
        """Wakes every waiting page (the server is stopping)."""
        self._closed = True
        for waiting in self._waiting.values():
            waiting.event.set()
        self._waiting.clear()
