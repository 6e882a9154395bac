"""Which webhook endpoints the platform may call: in production, never an address inside the
platform's own networks (loopback, private, link-local, cloud metadata) unless allow-listed.

Checked when a subscription is saved and again before every attempt, since a name may resolve
elsewhere by then (DNS rebinding)."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Sequence
from urllib.parse import urlsplit

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Awaitable[list[str]]]

METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(address) for address in ("169.254.169.254", "fd00:ec2::254", "100.100.100.200")
)


class RefusedUrl(Exception):
    """The URL may not be called; the message says why."""


async def resolve(host: str, port: int) -> list[str]:
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise RefusedUrl(f"its host {host!r} does not resolve") from exc
    return sorted({str(info[4][0]) for info in infos})


def _refusal(address: IpAddress) -> str | None:
    if address in METADATA_ADDRESSES:
        return "a cloud metadata address"
    if address.is_loopback:
        return "a loopback address"
    if address.is_link_local:
        return "a link-local address"
    if address.is_private or address.is_multicast or not address.is_global:
        return "a private, multicast or reserved address"
    return None


def _allowed(host: str, address: IpAddress, allowed_hosts: Sequence[str]) -> bool:
    for entry in allowed_hosts:
        if entry.lower() == host.lower():
            return True
        try:
            if address in ipaddress.ip_network(entry, strict=False):
                return True
        except ValueError:
            continue
    return False


async def check_url(url: str, *, allowed_hosts: Sequence[str], resolver: Resolver = resolve) -> list[IpAddress]:
    """The addresses `url`'s host resolves to; RefusedUrl if any of them is refused."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    addresses = []
    for text in await resolver(host, port):
        address = ipaddress.ip_address(text.split("%", 1)[0])
        reason = _refusal(address)
        if reason is not None and not _allowed(host, address, allowed_hosts):
            raise RefusedUrl(f"{host!r} resolves to {address}, {reason}")
        addresses.append(address)
    if not addresses:
        raise RefusedUrl(f"its host {host!r} resolves to no address")
    return addresses


def pinned_request(url: str, address: IpAddress) -> tuple[str, dict[str, str], dict[str, str]]:
    """`url` with its host replaced by the checked `address`, and the Host header and TLS server
    name that keep the request and certificate check about the original host: the connection
    goes where the check looked, whatever the name resolves to a moment later (DNS rebinding)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    literal = f"[{address}]" if address.version == 6 else str(address)
    netloc = literal if parts.port is None else f"{literal}:{parts.port}"
    host_header = parts.netloc.rsplit("@", 1)[-1]
    pinned = parts._replace(netloc=netloc).geturl()
    return pinned, {"host": host_header}, {"sni_hostname": host}
