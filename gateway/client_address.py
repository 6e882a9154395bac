"""The client's address, which the per-address rate limits and the login throttle count by.

`X-Forwarded-For` is anyone's to write, so it counts only when the peer that sent it is one of
the configured trusted proxies; then the client is the rightmost address in it that is not a
trusted proxy itself (each proxy appends the peer it saw, so everything left of that could be
forged). `X-Forwarded-Proto` is taken from a trusted peer too, so HSTS works behind a TLS
terminating proxy. The server's own proxy-header handling must be off (`--no-proxy-headers`
for uvicorn), or it rewrites the peer from a header before this middleware can judge it.
"""

from __future__ import annotations

from collections.abc import Sequence
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address

from starlette.types import ASGIApp, Receive, Scope, Send

Network = IPv4Network | IPv6Network


def _parsed(text: str) -> IPv4Address | IPv6Address | None:
    try:
        return ip_address(text.strip())
    except ValueError:
        return None


class TrustedProxies:
    def __init__(self, networks: Sequence[Network]) -> None:
        self.networks = tuple(networks)

    def __bool__(self) -> bool:
        return bool(self.networks)

    def trusts(self, address: str) -> bool:
        parsed = _parsed(address)
        return parsed is not None and any(parsed in network for network in self.networks)

    def client_of(self, peer: str, forwarded_for: Sequence[str]) -> str:
        """The client behind `peer`, given the X-Forwarded-For hops in order (leftmost first)."""
        if not self.trusts(peer):
            return peer
        client = peer
        for hop in reversed(forwarded_for):
            parsed = _parsed(hop)
            if parsed is None:
                # Unreadable: what lies left of it cannot be placed; the last hop read stands.
                break
            client = str(parsed)
            if not any(parsed in network for network in self.networks):
                break
        return client


class ClientAddressMiddleware:
    """Pure ASGI: puts the real client address in `scope["client"]` (and the scheme the
    client used in `scope["scheme"]`) when a trusted proxy forwarded the request."""

    def __init__(self, app: ASGIApp, *, trusted_proxies: Sequence[Network]) -> None:
        self.app = app
        self.proxies = TrustedProxies(trusted_proxies)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        peer = scope.get("client")
        if scope["type"] != "http" or not self.proxies or not peer or not self.proxies.trusts(str(peer[0])):
            await self.app(scope, receive, send)
            return
        hops: list[str] = []
        proto: str | None = None
        for key, value in scope["headers"]:
            if key == b"x-forwarded-for":
                hops.extend(value.decode("latin-1").split(","))
            elif key == b"x-forwarded-proto":
                proto = value.decode("latin-1").split(",")[-1].strip().lower()
        forwarded = dict(scope)
        forwarded["client"] = (self.proxies.client_of(str(peer[0]), hops), 0)
        if proto in {"http", "https"}:
            forwarded["scheme"] = proto
        await self.app(forwarded, receive, send)
