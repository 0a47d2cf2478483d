"""The HTTP connection pool the channels' clients share the shape of: idle connections die.

aiohttp reuses the connection idle the longest first. After an upstream fault
(calls that hung, each on its own connection; 5xx answered while sends piled up)
the pool holds many connections, and steady traffic then cycles through all of
them, so none is ever idle long enough to be closed: the process kept 30 more
descriptors for good. Here the connection used last is reused first, so steady
traffic needs only as many as it uses at once, and the rest are closed after
`KEEPALIVE_SECONDS` idle.
"""

from __future__ import annotations

import ssl

import aiohttp
from aiohttp.client_proto import ResponseHandler
from aiohttp.client_reqrep import ConnectionKey

__all__ = ["KEEPALIVE_SECONDS", "RecentFirstConnector"]

# An idle connection is closed after this long (aiohttp checks as often).
KEEPALIVE_SECONDS = 10.0


class RecentFirstConnector(aiohttp.TCPConnector):
    """A `TCPConnector` that reuses the connection released last (so surplus ones idle out)."""

    def __init__(self, *, limit: int, ssl_context: ssl.SSLContext | bool = True) -> None:
        super().__init__(limit=limit, ssl=ssl_context, keepalive_timeout=KEEPALIVE_SECONDS)

    def _release(
        self, key: ConnectionKey, protocol: ResponseHandler, *, should_close: bool = False
    ) -> None:
        super()._release(key, protocol, should_close=should_close)
        # aiohttp appends a released connection and takes from the left: put it in front.
        idle = self._conns.get(key)
        if idle and idle[-1][0] is protocol:
            idle.appendleft(idle.pop())
