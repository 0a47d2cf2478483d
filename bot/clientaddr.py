"""The client's real address: `X-Forwarded-For` believed only from configured proxies.

Behind a reverse proxy every request comes from the proxy's address, and the
client's is in `X-Forwarded-For`. Anyone can send that header, so it is read
only when the connection comes from an address in `[web] trusted_proxies`
(CIDR networks); then the list is walked from the right, past the trusted
proxies, to the first address none of them is: that one a trusted proxy saw
connect. A header from anyone else is ignored, so a guesser cannot give each
sign-in attempt a fresh address to escape the console's throttling.

uvicorn's own proxy-header handling is switched off (bot.web); `RealClient`
rewrites the ASGI scope's `client` once, so every endpoint reads
`request.client` and gets the same answer.

    parse_networks   config strings to networks, or ConfigError naming the bad one
    RealClient       the ASGI middleware
    network_key      what a limit counts for one client: its IPv4 address, its IPv6 /64
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import Any

from bot.configvalues import ConfigError

__all__ = [
    "LOOPBACK",
    "Network",
    "RealClient",
    "client_address",
    "client_network",
    "network_key",
    "parse_networks",
]

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Scope = dict[str, Any]
ASGIApp = Any

LOOPBACK = ("127.0.0.1/32", "::1/128")
"""The default `[web] trusted_proxies`: a proxy on this machine (Caddy, nginx). Safe to
believe: a bot listening where the internet reaches it never gets a remote client from
a loopback address, and behind a local proxy every request would otherwise come from it."""


def parse_networks(values: Iterable[str], key: str = "web.trusted_proxies") -> tuple[str, ...]:
    """Checks each value is an address or a CIDR network; returns them normalised."""
    out = []
    for value in values:
        try:
            network = ipaddress.ip_network(value.strip(), strict=True)
        except ValueError as exc:
            raise ConfigError(
                f"Config '{key}' has value {value!r}. Not an IP address or a CIDR network"
                f" such as '127.0.0.1' or '10.0.0.0/8' ({exc})."
            ) from None
        out.append(str(network))
    return tuple(out)


def _address(text: str) -> Address | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def client_address(peer: str, forwarded: str | None, trusted: tuple[Network, ...]) -> str:
    """The client as far as trusted proxies vouch for it (`peer` when none does)."""

    def is_trusted(address: Address) -> bool:
        return any(address in network for network in trusted)

    current = _address(peer)
    if current is None or not trusted or not forwarded or not is_trusted(current):
        return peer
    for hop in reversed(forwarded.split(",")):
        address = _address(hop)
        if address is None:
            break  # a trusted proxy passed on garbage: go no further than that proxy
        current = address
        if not is_trusted(address):
            break
    return str(current)


def client_network(request: Any) -> str:
    """`network_key` of a Starlette request's client, as `RealClient` resolved it."""
    client = request.client
    return network_key(client.host) if client is not None else "unknown"


def network_key(address: str) -> str:
    """The key rate limits count a client under: an IPv4 address as it is, an IPv6 one
    as its /64 (one household or phone gets a whole /64, so counting single IPv6
    addresses would hand a guesser 2^64 fresh ones)."""
    parsed = _address(address)
    if isinstance(parsed, ipaddress.IPv6Address) and parsed.ipv4_mapped is None:
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    if isinstance(parsed, ipaddress.IPv6Address) and parsed.ipv4_mapped is not None:
        return str(parsed.ipv4_mapped)
    return address


class RealClient:
    """ASGI middleware: sets `scope["client"]` to the real client (see the module docstring)."""

    def __init__(self, app: ASGIApp, trusted: Iterable[str]) -> None:
        self.app = app
        self.trusted = tuple(ipaddress.ip_network(n) for n in trusted)

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] in ("http", "websocket") and self.trusted:
            client = scope.get("client")
            if client:
                forwarded = [
                    value.decode("latin-1")
                    for name, value in scope.get("headers", [])
                    if name == b"x-forwarded-for"
                ]
                real = client_address(str(client[0]), ",".join(forwarded) or None, self.trusted)
                if real != client[0]:
                    scope = {**scope, "client": (real, 0)}
        await self.app(scope, receive, send)
