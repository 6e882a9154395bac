"""Which address is the client's, given the peer and its X-Forwarded-For (the edges; the
limits it feeds are tested through the API in test_rate_limits.py)."""

from __future__ import annotations

from ipaddress import ip_network

import pytest

from gateway.client_address import TrustedProxies
from gateway.settings import GatewaySettings

PROXIES = TrustedProxies([ip_network("10.0.0.0/8"), ip_network("2001:db8::/32")])


@pytest.mark.parametrize(
    ("peer", "hops", "client"),
    [
        ("203.0.113.5", ["198.51.100.1"], "203.0.113.5"),  # an untrusted peer's header is ignored
        ("10.0.0.2", [], "10.0.0.2"),  # a trusted peer that forwarded nothing is the client
        ("10.0.0.2", ["198.51.100.1"], "198.51.100.1"),
        ("10.0.0.2", ["6.6.6.6", " 198.51.100.1 "], "198.51.100.1"),  # forged hops on the left
        ("10.0.0.2", ["198.51.100.1", "10.0.0.9"], "198.51.100.1"),  # two proxies
        ("10.0.0.2", ["10.0.0.8", "10.0.0.9"], "10.0.0.8"),  # all inside: the leftmost
        ("10.0.0.2", ["198.51.100.1", "unknown"], "10.0.0.2"),  # unreadable: the last hop read
        ("10.0.0.2", ["nonsense", "198.51.100.1"], "198.51.100.1"),
        ("2001:db8::1", ["2001:db8::2", "2a00:1450::1"], "2a00:1450::1"),
        ("not-an-address", ["198.51.100.1"], "not-an-address"),
    ],
)
def test_the_client_is_the_rightmost_untrusted_hop(peer: str, hops: list[str], client: str) -> None:
    assert PROXIES.client_of(peer, hops) == client


def test_trusted_proxies_are_validated_as_networks() -> None:
    settings = GatewaySettings(trusted_proxies="10.0.0.0/8, 192.0.2.1 ,")
    assert [str(network) for network in settings.trusted_proxy_networks] == ["10.0.0.0/8", "192.0.2.1/32"]
    with pytest.raises(ValueError, match="does not appear to be an IPv4 or IPv6 network"):
        GatewaySettings(trusted_proxies="10.0.0.0/8, the-load-balancer")
