"""Slowing password guessing: failed logins count against the username and the client
address (GCRA on the shared Redis); a successful login counts nothing; Redis down admits."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import httpx
import pytest

from services.rate_limit import Allowance, RateLimiter
from services.redis import create_redis
from tests.catalog_service.helpers import assert_problem
from tests.conftest import Platform
from tests.support import DEMO_PASSWORD

TOKEN = "/api/v1/auth/token"
NEW_PASSWORD = "a-new-long-password-965808"


async def _new_account(platform: Platform) -> str:
    username = f"clerk-{uuid.uuid4().hex[:8]}"
    body = {"username": username, "password": NEW_PASSWORD, "role": "dispatcher", "display_name": "受理员"}
    response = await platform.client.post("/api/v1/accounts", json=body, headers=await platform.auth("admin"))
    assert response.status_code == 201, response.text
    return username


async def _login(client: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    return await client.post(TOKEN, data={"username": username, "password": password})


async def test_failed_logins_past_the_allowance_are_429_even_with_the_right_password(platform: Platform) -> None:
    username = await _new_account(platform)
    for _ in range(10):  # GATEWAY_LOGIN_FAILURES_BURST_PER_USERNAME
        assert_problem(await _login(platform.client, username, "guess-" + uuid.uuid4().hex), 401)
    refused = await _login(platform.client, username, NEW_PASSWORD)
    problem = assert_problem(refused, 429, "too_many_login_failures")
    assert int(refused.headers["retry-after"]) >= 1
    assert refused.headers["ratelimit-limit"] == "10" and refused.headers["ratelimit-remaining"] == "0"
    assert "try again" in problem["detail"]
    # Another account from the same address is not held up by this one.
    assert (await _login(platform.client, "dispatcher", DEMO_PASSWORD)).status_code == 200


async def test_successful_logins_count_nothing(platform: Platform) -> None:
    username = await _new_account(platform)
    for _ in range(15):
        assert (await _login(platform.client, username, NEW_PASSWORD)).status_code == 200


@pytest.fixture
async def limiter(redis_url: str) -> AsyncIterator[RateLimiter]:
    redis = create_redis(redis_url)
    yield RateLimiter(redis, prefix=f"rl:test:{uuid.uuid4().hex}:")
    await redis.aclose()


async def test_an_allowance_refills_at_its_rate(limiter: RateLimiter) -> None:
    allowance = Allowance(per_minute=60, burst=3)  # one hit a second, three at once
    start = 1_000_000
    admitted = [(await limiter.hit("k", allowance, now_ms=start)).allowed for _ in range(4)]
    assert admitted == [True, True, True, False]
    refused = await limiter.peek("k", allowance, now_ms=start)
    assert (refused.allowed, refused.retry_after_seconds) == (False, 1)
    assert (await limiter.hit("k", allowance, now_ms=start + 999)).allowed is False
    assert (await limiter.hit("k", allowance, now_ms=start + 1000)).allowed is True
    assert (await limiter.hit("other", allowance, now_ms=start)).remaining == 2


async def test_peeking_counts_nothing(limiter: RateLimiter) -> None:
    allowance = Allowance(per_minute=1, burst=1)
    for _ in range(5):
        assert (await limiter.peek("k", allowance, now_ms=5_000)).allowed is True
    assert (await limiter.hit("k", allowance, now_ms=5_000)).allowed is True
    assert (await limiter.peek("k", allowance, now_ms=5_000)).allowed is False


async def test_redis_down_admits() -> None:
    unreachable = RateLimiter(create_redis("redis://127.0.0.1:1/0"))
    decision = await unreachable.hit("k", Allowance(per_minute=1, burst=1))
    assert decision.allowed is True
