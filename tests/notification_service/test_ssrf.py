"""The SSRF checks on their own: every address a name resolves to is checked, and the request
is pinned to a checked address with the original host kept for HTTP and TLS."""

from __future__ import annotations

import ipaddress

import pytest

from notification_service.ssrf import RefusedUrl, check_url, pinned_request


def dns(*answers: str):  # type: ignore[no-untyped-def]
    async def resolver(host: str, port: int) -> list[str]:
        return list(answers)

    return resolver


async def test_a_name_with_one_private_address_among_public_ones_is_refused() -> None:
    with pytest.raises(RefusedUrl, match=r"10\.1\.2\.3"):
        await check_url("https://erp.example.com/h", allowed_hosts=[], resolver=dns("93.184.216.34", "10.1.2.3"))


async def test_public_addresses_pass_and_are_returned() -> None:
    found = await check_url("https://erp.example.com/h", allowed_hosts=[], resolver=dns("93.184.216.34"))
    assert found == [ipaddress.ip_address("93.184.216.34")]


@pytest.mark.parametrize("address", ["::ffff:127.0.0.1", "100.64.0.1", "fe80::1%eth0", "224.0.0.1"])
async def test_odd_internal_forms_are_refused(address: str) -> None:
    with pytest.raises(RefusedUrl):
        await check_url("http://erp.example.com/h", allowed_hosts=[], resolver=dns(address))


async def test_the_allow_list_takes_names_and_networks() -> None:
    await check_url("http://erp.internal/h", allowed_hosts=["ERP.internal"], resolver=dns("10.0.0.5"))
    await check_url("http://other.internal/h", allowed_hosts=["10.0.0.0/8"], resolver=dns("10.0.0.5"))
    with pytest.raises(RefusedUrl):
        await check_url("http://other.internal/h", allowed_hosts=["10.9.0.0/16", "bad entry"], resolver=dns("10.0.0.5"))


def test_pinning_keeps_the_host_for_http_and_tls() -> None:
    url, headers, extensions = pinned_request(
        "https://erp.example.com:8443/hooks?a=1", ipaddress.ip_address("2001:db8::1")
    )
    assert url == "https://[2001:db8::1]:8443/hooks?a=1"
    assert headers == {"host": "erp.example.com:8443"} and extensions == {"sni_hostname": "erp.example.com"}
    url, headers, _ = pinned_request("http://erp.example.com/h", ipaddress.ip_address("93.184.216.34"))
    assert url == "http://93.184.216.34/h" and headers == {"host": "erp.example.com"}
