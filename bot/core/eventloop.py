"""The event loop the long-running service runs on: uvloop where it is installed.

The bot spends most of its CPU in the event loop itself: waking on sockets, the
HTTP calls to Telegram and Twilio, callbacks from the SQLite threads. uvloop (the
loop uvicorn uses in production, on libuv) does that work in C, which shows in
the bot's CPU per message (docs/performance.md). Nothing depends on which loop runs it, so a
platform without uvloop, or `LK3_EVENT_LOOP=asyncio` (to rule the loop out when
chasing a problem), runs on the standard one.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Coroutine
from typing import Any, TypeVar

__all__ = ["loop_name", "run_service"]

T = TypeVar("T")


def loop_name(env: dict[str, str] | None = None) -> str:
    """"uvloop" or "asyncio": what `run_service` will run on."""
    chosen = (os.environ if env is None else env).get("LK3_EVENT_LOOP", "").strip().lower()
    if chosen == "asyncio":
        return "asyncio"
    try:
        import uvloop  # noqa: F401
    except ImportError:
        return "asyncio"
    return "uvloop"


def run_service(main: Coroutine[Any, Any, T]) -> T:
    """Runs `main` to completion on the service's event loop (see the module docstring)."""
    if loop_name() == "uvloop":
        import uvloop

        return uvloop.run(main)
    return asyncio.run(main)
