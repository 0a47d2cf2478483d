"""The terminal channel: chat as a family from a shell, through the real pipeline (`lk3 chat`).

Choices are shown as a numbered list. With standard input not a terminal it
reads one message per line, prints the bot's replies, and exits at the end of
input, so conversations can be scripted. The same `--as` and data folder resume
the conversation where it stopped.

Built through the registry like every channel ("terminal"); `TerminalOptions`,
given as its option, says who is chatting and on which streams.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TextIO

from bot.channels.base import Inbound, Outbound, Receiver, RetryLater, numbered_list
from bot.channels.registry import Host, Setup, register
from bot.web import WebServer

__all__ = ["NAME", "TerminalChannel", "TerminalOptions", "run_chat"]

NAME = "terminal"


@dataclass(frozen=True, slots=True)
class TerminalOptions:
    """Who chats (the address: any id; the same one resumes), and on which streams."""

    address: str = "demo"
    inp: TextIO = field(default_factory=lambda: sys.stdin)
    out: TextIO = field(default_factory=lambda: sys.stdout)
    interactive: bool = False  # prompts and a "LK3 ›" before each reply


class TerminalChannel:
    """Prints replies for the one person at this terminal, and reads what they type."""

    name = NAME
    buttons = False
    max_per_second = 1000.0
    per_chat_interval = 0.0
    needs_web = False

    def __init__(
        self, address: str, out: TextIO, *, interactive: bool = False, inp: TextIO | None = None
    ) -> None:
        self._address = address
        self._out = out
        self._interactive = interactive
        self._inp = inp if inp is not None else sys.stdin
        self._host: Host | None = None
        self._chat: asyncio.Task[int] | None = None

    # --- lifecycle ----------------------------------------------------------

    async def open(self) -> None:
        """Nothing to open: the streams are the process's."""

    def bind(self, host: Host) -> None:
        self._host = host

    def add_routes(self, web: WebServer) -> None:
        """No routes: the terminal is not on the web."""

    async def start(self) -> None:
        """Greets, then reads a line at a time until the input ends."""
        if self._host is None:
            raise RuntimeError("TerminalChannel.bind was not called before start")
        chat = run_chat(
            self._host.receive,
            self._host.wait_idle,
            address=self._address,
            inp=self._inp,
            out=self._out,
            interactive=self._interactive,
        )
        self._chat = asyncio.create_task(chat, name="terminal-chat")

    async def finished(self) -> int:
        """Waits for the end of the input; the exit status."""
        if self._chat is None:
            return 0
        return await self._chat

    async def stop(self) -> None:
        """Stops reading (a signal before the end of the input)."""
        if self._chat is not None and not self._chat.done():
            self._chat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._chat

    async def close(self) -> None:
        """Nothing to close."""

    def describe(self) -> str:
        return ""

    # --- sending ------------------------------------------------------------

    async def send(self, message: Outbound) -> str | None:
        if message.address != self._address:
            # Someone else's reply, left by an earlier session: it waits for them.
            raise RetryLater("not_connected", retry_after=60.0)
        body = numbered_list(message.text, message.options)
        prefix = "LK3 › " if self._interactive else ""
        self._out.write(f"{prefix}{body}\n\n")
        self._out.flush()
        return f"terminal-{message.outbox_id}"


async def run_chat(
    receive: Receiver,
    wait_idle: Callable[[], Awaitable[None]],
    *,
    address: str,
    inp: TextIO,
    out: TextIO,
    interactive: bool,
) -> int:
    """Feeds lines from `inp` to the pipeline and waits for the replies to each."""
    # A fixed id makes the greeting a no-op when the conversation is resumed.
    await receive(Inbound(NAME, f"start:{address}", address, "start", "", _now()))
    await wait_idle()
    loop = asyncio.get_running_loop()
    count = 0
    while True:
        if interactive:
            out.write("Anda › ")
            out.flush()
        line = await loop.run_in_executor(None, inp.readline)
        if not line:
            break
        text = line.rstrip("\r\n")
        if not text.strip():
            continue
        count += 1
        transport_id = f"{time.time_ns()}-{count}"
        await receive(Inbound(NAME, transport_id, address, "text", text, _now()))
        await wait_idle()
    if interactive:
        out.write("\n")
    return 0


def _now() -> datetime:
    return datetime.now(UTC)


def _adapter(setup: Setup) -> TerminalChannel:
    options = setup.option(NAME, TerminalOptions, TerminalOptions())
    return TerminalChannel(
        options.address, options.out, interactive=options.interactive, inp=options.inp
    )


register(NAME, _adapter)
