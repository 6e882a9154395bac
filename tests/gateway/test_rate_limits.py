"""The general rate limits (issue 14): per caller and per client address at the gateway, 429
problems with Retry-After and the RateLimit fields, Redis down admits; the client address
comes from X-Forwarded-For only through a trusted proxy.

Each test runs a gateway of its own with small limits in front of the in-process services,
and uses fresh accounts and addresses: the counts live on the shared Redis, past the test."""

from __future__ import annotations

import random
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import httpx
import pytest
import structlog
from asgi_lifespan import LifespanManager

from gateway.app import create_app
from gateway.settings import GatewaySettings
from tests.catalog_service.helpers import assert_problem
from tests.conftest import Platform
from tests.support import bearer, login

PASSWORD = "a-strong-password-1"
Gateway = Callable[..., AbstractAsyncContextManager[Callable[[str], httpx.AsyncClient]]]


def _address() -> str:
    return f"198.51.{random.randrange(256)}.{random.randrange(1, 255)}"


@pytest.fixture
def gateway(platform: Platform, base_env: dict[str, str]) -> Gateway:
    """`async with gateway(**settings) as client_from:` a gateway with those settings, and
    `client_from(address)` a client whose requests come from `address`."""

    @asynccontextmanager
    async def started(**settings: Any) -> AsyncIterator[Callable[[str], httpx.AsyncClient]]:
        # A loaded test machine's Redis may take longer than production's short wait, and a
        # request admitted unchecked would pass where the test expects its 429.
        env: dict[str, Any] = {key.lower(): value for key, value in base_env.items()}
        env["rate_limit_redis_timeout_seconds"] = 5.0
        app = create_app(GatewaySettings(**{**env, **settings}), upstreams=platform.upstreams)
        app.dependency_overrides.update(platform.services["catalog"].dependency_overrides)
        clients: list[httpx.AsyncClient] = []
        async with LifespanManager(app) as manager:

            def client_from(address: str) -> httpx.AsyncClient:
                transport = httpx.ASGITransport(app=manager.app, client=(address, 40000))
                client = httpx.AsyncClient(transport=transport, base_url="http://testserver")
                clients.append(client)
                return client

            try:
                yield client_from
            finally:
                for client in clients:
                    await client.aclose()

    return started


async def _fresh_token(platform: Platform) -> str:
    username = f"caller-{uuid.uuid4().hex[:8]}"
    body = {"username": username, "password": PASSWORD, "role": "dispatcher"}
    response = await platform.client.post("/api/v1/accounts", json=body, headers=await platform.auth("admin"))
    assert response.status_code == 201, response.text
    return await login(platform.client, username, PASSWORD)


async def test_a_caller_past_its_allowance_gets_429_with_retry_after_and_ratelimit_fields(
    platform: Platform, gateway: Gateway
) -> None:
    token = await _fresh_token(platform)
    async with gateway(rate_limit_burst_per_principal=3, rate_limit_per_minute_per_principal=1) as client_from:
        client = client_from(_address())
        remaining = []
        for _ in range(3):
            response = await client.get("/api/v1/tickets", headers=bearer(token))
            assert response.status_code == 200, response.text
            assert response.headers["ratelimit-limit"] == "3"
            remaining.append(response.headers["ratelimit-remaining"])
        assert remaining == ["2", "1", "0"]
        refused = await client.get("/api/v1/auth/me", headers=bearer(token))
        problem = assert_problem(refused, 429, "rate_limited")
        assert problem["limited"] == "caller"
        # One request a minute refills it: the next is due in a minute, not before.
        assert 55 <= int(refused.headers["retry-after"]) <= 60
        assert (refused.headers["ratelimit-limit"], refused.headers["ratelimit-remaining"]) == ("3", "0")
        assert int(refused.headers["ratelimit-reset"]) >= int(refused.headers["retry-after"])
        assert "x-request-id" in refused.headers  # logged and traced like any answer


async def test_one_caller_over_its_allowance_holds_up_no_other_caller_at_the_same_address(
    platform: Platform, gateway: Gateway
) -> None:
    first, second = await _fresh_token(platform), await _fresh_token(platform)
    async with gateway(rate_limit_burst_per_principal=2, rate_limit_per_minute_per_principal=1) as client_from:
        client = client_from(_address())
        for _ in range(2):
            assert (await client.get("/api/v1/auth/me", headers=bearer(first))).status_code == 200
        assert_problem(await client.get("/api/v1/auth/me", headers=bearer(first)), 429, "rate_limited")
        assert (await client.get("/api/v1/auth/me", headers=bearer(second))).status_code == 200
        # Nor does it hold up the address's anonymous readers: the refused requests counted nothing.
        assert (await client.get("/api/v1/items")).status_code == 200


async def test_an_address_past_its_allowance_gets_429_and_other_addresses_pass(
    platform: Platform, gateway: Gateway
) -> None:
    token = await _fresh_token(platform)
    async with gateway(rate_limit_burst_per_ip=3, rate_limit_per_minute_per_ip=1) as client_from:
        busy, other = client_from(_address()), client_from(_address())
        for _ in range(3):
            assert (await busy.get("/api/v1/items")).status_code == 200
        refused = await busy.get("/api/v1/items")
        assert assert_problem(refused, 429, "rate_limited")["limited"] == "address"
        assert int(refused.headers["retry-after"]) >= 55
        # A token does not lift the address's limit; the health probes are never counted.
        assert_problem(await busy.get("/api/v1/auth/me", headers=bearer(token)), 429, "rate_limited")
        assert (await busy.get("/health/live")).status_code == 200
        assert (await other.get("/api/v1/items")).status_code == 200
        assert (await other.get("/api/v1/auth/me", headers=bearer(token))).status_code == 200


async def test_an_anonymous_address_taking_leased_hits_gets_exactly_its_burst(
    platform: Platform, gateway: Gateway
) -> None:
    # A burst of 100 is leased 5 hits a round trip: the client still sees every hit counted,
    # and the 101st request is refused as if each had asked Redis.
    async with gateway(
        rate_limit_burst_per_ip=100, rate_limit_per_minute_per_ip=1, rate_limit_lease_hits=5
    ) as client_from:
        client = client_from(_address())
        remaining = []
        for _ in range(100):
            response = await client.get("/api/v1/items")
            assert response.status_code != 429, response.text
            remaining.append(int(response.headers["ratelimit-remaining"]))
        assert remaining == list(range(99, -1, -1))
        refused = await client.get("/api/v1/items")
        assert assert_problem(refused, 429, "rate_limited")["limited"] == "address"


async def test_a_bad_token_counts_against_the_address_and_is_still_401(platform: Platform, gateway: Gateway) -> None:
    async with gateway(rate_limit_burst_per_ip=2, rate_limit_per_minute_per_ip=1) as client_from:
        client = client_from(_address())
        for _ in range(2):
            assert_problem(await client.get("/api/v1/tickets", headers=bearer("not-a-token")), 401, "invalid_token")
        assert_problem(await client.get("/api/v1/tickets", headers=bearer("not-a-token")), 429, "rate_limited")


async def test_redis_down_admits_every_request_and_says_so_in_the_log(platform: Platform, gateway: Gateway) -> None:
    token = await _fresh_token(platform)
    async with gateway(
        redis_url="redis://127.0.0.1:1/0", rate_limit_burst_per_principal=1, rate_limit_burst_per_ip=1
    ) as client_from:
        client = client_from(_address())
        with structlog.testing.capture_logs() as logs:
            for _ in range(5):
                response = await client.get("/api/v1/auth/me", headers=bearer(token))
                assert response.status_code == 200, response.text
                assert "ratelimit-limit" not in response.headers
            assert (await client.get("/api/v1/items")).status_code == 200
    warnings = [entry for entry in logs if entry["event"].startswith("rate limits not checked")]
    # One line per pause, not one per request.
    assert len(warnings) == 1 and warnings[0]["log_level"] == "warning"


async def test_a_forged_forwarded_for_does_not_escape_the_address_limit(platform: Platform, gateway: Gateway) -> None:
    async with gateway(
        rate_limit_burst_per_ip=2, rate_limit_per_minute_per_ip=1, trusted_proxies="10.0.0.0/8, 192.0.2.1"
    ) as client_from:
        untrusted = client_from(_address())
        for _ in range(2):
            forged = {"x-forwarded-for": _address()}
            assert (await untrusted.get("/api/v1/items", headers=forged)).status_code == 200
        refused = await untrusted.get("/api/v1/items", headers={"x-forwarded-for": _address()})
        assert_problem(refused, 429, "rate_limited")

        # Through a trusted proxy, the client it names is counted, not the proxy.
        proxy = client_from("10.1.2.3")
        client, neighbour = _address(), _address()
        for _ in range(2):
            assert (await proxy.get("/api/v1/items", headers={"x-forwarded-for": client})).status_code == 200
        # What the client wrote itself, left of what the proxy appended, changes nothing.
        spoofed = {"x-forwarded-for": f"{_address()}, {client}"}
        assert_problem(await proxy.get("/api/v1/items", headers=spoofed), 429, "rate_limited")
        # A chain of trusted proxies: the first untrusted address from the right is the client.
        chained = {"x-forwarded-for": f"{neighbour}, 10.9.9.9"}
        assert (await client_from("192.0.2.1").get("/api/v1/items", headers=chained)).status_code == 200
        assert (await proxy.get("/api/v1/items", headers={"x-forwarded-for": neighbour})).status_code == 200


async def test_the_login_throttle_counts_the_client_behind_a_trusted_proxy(
    platform: Platform, gateway: Gateway
) -> None:
    async with gateway(trusted_proxies="10.0.0.0/8", login_failures_burst_per_ip=2) as client_from:
        proxy = client_from("10.0.0.7")
        guesser, other = {"x-forwarded-for": _address()}, {"x-forwarded-for": _address()}
        for _ in range(2):
            data = {"username": f"nobody-{uuid.uuid4().hex[:8]}", "password": "wrong-password"}
            assert_problem(await proxy.post("/api/v1/auth/token", data=data, headers=guesser), 401)
        data = {"username": f"nobody-{uuid.uuid4().hex[:8]}", "password": "wrong-password"}
        assert_problem(
            await proxy.post("/api/v1/auth/token", data=data, headers=guesser), 429, "too_many_login_failures"
        )
        assert_problem(await proxy.post("/api/v1/auth/token", data=data, headers=other), 401, "invalid_credentials")


async def test_the_scheme_is_taken_from_a_trusted_proxy_only(platform: Platform, gateway: Gateway) -> None:
    async with gateway(trusted_proxies="10.0.0.0/8", hsts_max_age_seconds=600) as client_from:
        https = {"x-forwarded-proto": "https", "x-forwarded-for": _address()}
        through_proxy = await client_from("10.0.0.7").get("/api/v1/items", headers=https)
        assert through_proxy.headers["strict-transport-security"].startswith("max-age=600")
        direct = await client_from(_address()).get("/api/v1/items", headers=https)
        assert "strict-transport-security" not in direct.headers
