"""A local HTTP receiver for the webhook tests: checks each delivery's signature as a
province system would, answers with the statuses it was told to, keeps what it took."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from support.ports import free_port

from bot.figures.signing import verify

SECRET = "s" * 16 + "e" * 16 + "cret"


@dataclass
class Receiver:
    url: str = ""
    now: float = 0.0  # the receiver's clock (the test's), for the timestamp window
    statuses: list[int] = field(default_factory=list)  # answered in turn; then 200
    hang_next: bool = False  # the next request gets no answer until `release` is set
    release: asyncio.Event = field(default_factory=asyncio.Event)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    seen: list[str] = field(default_factory=list)  # every event id that arrived
    taken: list[dict[str, Any]] = field(default_factory=list)  # bodies accepted, deduped
    bad_signatures: int = 0

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        ok = verify(
            SECRET,
            request.headers.get("LK3-Timestamp", ""),
            request.headers.get("LK3-Signature", ""),
            body,
            self.now,
        )
        if not ok:
            self.bad_signatures += 1
            return web.Response(status=401)
        event_id = request.headers["LK3-Event-Id"]
        self.seen.append(event_id)
        self.arrived.set()
        if self.hang_next:
            self.hang_next = False
            await self.release.wait()
        status = self.statuses.pop(0) if self.statuses else 200
        if status == 200 and event_id not in {t["id"] for t in self.taken}:
            self.taken.append(json.loads(body))
        return web.Response(status=status)


@asynccontextmanager
async def receiving(now: float) -> AsyncIterator[Receiver]:
    receiver = Receiver(now=now)
    app = web.Application()
    app.router.add_post("/hook", receiver.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    receiver.url = f"http://127.0.0.1:{port}/hook"
    try:
        yield receiver
    finally:
        receiver.release.set()
        await runner.cleanup()
