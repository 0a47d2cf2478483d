"""uvicorn as the fake servers run it: inside the test's event loop, stopping at once.

A fake owes nobody a graceful shutdown: no 0.1 s ticks, no waiting for
connections, so hundreds of tests can each start and stop one. Shared by
`telegram_api` and `twilio_api`.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Iterator

import uvicorn

__all__ = ["KEEP_ALIVE_SECONDS", "QuietServer"]

# How long an idle client connection is kept open, as the real services' front ends do
# (nginx's default): uvicorn's own 5 s would close for the client what it leaves idle.
KEEP_ALIVE_SECONDS = 75


class QuietServer(uvicorn.Server):
    """uvicorn without its signal handlers (the test process keeps its own)."""

    def __init__(self, config: uvicorn.Config) -> None:
        config.timeout_keep_alive = KEEP_ALIVE_SECONDS
        super().__init__(config)
        self.exit_now = asyncio.Event()

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield

    async def main_loop(self) -> None:
        await self.exit_now.wait()

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        for server in self.servers:
            server.close()
        for connection in list(self.server_state.connections):
            connection.shutdown()
