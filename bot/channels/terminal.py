"""The terminal channel: chat as a family from a shell, through the real pipeline.

Choices are shown as a numbered list. With standard input not a terminal it
reads one message per line, prints the bot's replies, and exits at the end of
input, so conversations can be scripted. The same `--as` and data folder resume
the conversation where it stopped.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TextIO

from bot.channels.base import Inbound, Outbound, Receiver, RetryLater, numbered_list

__all__ = ["TerminalChannel", "run_chat"]

NAME = "terminal"


class TerminalChannel:
    """Prints replies for the one person at this terminal."""

    name = NAME
    buttons = False
    max_per_second = 1000.0
    per_chat_interval = 0.0

    def __init__(self, address: str, out: TextIO, *, interactive: bool = False) -> None:
        self._address = address
        self._out = out
        self._interactive = interactive

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
