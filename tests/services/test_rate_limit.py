"""The GCRA script with several allowances at once, and the limiter's pause after Redis fails
(its one-key use is tested with the login throttle, tests/gateway/test_login_throttle.py)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import structlog

from launcher.embedded_redis import EmbeddedRedis
from services.rate_limit import Allowance, RateLimiter
from services.redis import create_redis

ONE_A_SECOND = Allowance(per_minute=60, burst=2)
ROOMY = Allowance(per_minute=60, burst=100)


@pytest.fixture
async def limiter(redis_url: str) -> AsyncIterator[RateLimiter]:
    redis = create_redis(redis_url)
    yield RateLimiter(redis, prefix=f"rl:test:{uuid.uuid4().hex}:")
    await redis.aclose()


async def test_a_hit_counts_against_every_allowance_or_none(limiter: RateLimiter) -> None:
    now = 1_000_000
    for expected_remaining in (1, 0):
        verdict = await limiter.check([("tight", ONE_A_SECOND), ("roomy", ROOMY)], now_ms=now)
        assert verdict.allowed and verdict.checked
        assert [d.remaining for d in verdict.decisions] == [expected_remaining, 98 + expected_remaining]
    refused = await limiter.check([("tight", ONE_A_SECOND), ("roomy", ROOMY)], now_ms=now)
    assert not refused.allowed
    assert [d.allowed for d in refused.decisions] == [False, True]
    assert refused.tightest.retry_after_seconds == 1 and refused.tightest.limit == 2
    # The refused hit took nothing from the roomy allowance.
    assert (await limiter.peek("roomy", ROOMY, now_ms=now)).remaining == 98
    assert (await limiter.check([("tight", ONE_A_SECOND)], now_ms=now + 1000)).allowed


async def test_the_tightest_decision_is_the_one_with_fewest_remaining(limiter: RateLimiter) -> None:
    verdict = await limiter.check([("roomy", ROOMY), ("tight", ONE_A_SECOND)], now_ms=5_000)
    assert verdict.tightest.limit == 2 and verdict.tightest.remaining == 1
    assert verdict.tightest.headers() == {"RateLimit-Limit": "2", "RateLimit-Remaining": "1", "RateLimit-Reset": "1"}


async def test_a_key_is_read_in_the_same_round_trip(limiter: RateLimiter, redis_url: str) -> None:
    key = f"test:read:{uuid.uuid4().hex}"
    redis = create_redis(redis_url)
    try:
        await redis.set(key, "7", ex=60)
        assert (await limiter.check([("k", ROOMY)], also_read=key)).value == b"7"
        assert (await limiter.check([("k", ROOMY)], also_read=key + ":absent")).value is None
    finally:
        await redis.aclose()


async def test_after_redis_fails_the_limiter_admits_unchecked_for_a_pause() -> None:
    now = [100.0]
    down = create_redis("redis://127.0.0.1:1/0")
    limiter = RateLimiter(down, pause_seconds=2.0, clock=lambda: now[0])
    try:
        with structlog.testing.capture_logs() as logs:
            for _ in range(3):
                verdict = await limiter.check([("k", Allowance(per_minute=1, burst=1))])
                assert verdict.allowed and not verdict.checked
            assert len(logs) == 1 and logs[0]["log_level"] == "warning"
            now[0] += 2.0
            assert not (await limiter.check([("k", ONE_A_SECOND)])).checked
            assert len(logs) == 2  # it asked Redis again after the pause
    finally:
        await down.aclose()


async def test_a_redis_that_forgot_the_script_is_taught_it_again(tmp_path: Path) -> None:
    # A Redis of its own: flushing the scripts of the shared one would touch every other user.
    embedded = EmbeddedRedis(tmp_path).start()
    redis = create_redis(embedded.url)
    try:
        limiter = RateLimiter(redis)
        for also_read in (None, "some-key"):  # one command, and the pipeline with a read
            await redis.script_flush()
            verdict = await limiter.check([("k", ONE_A_SECOND)], also_read=also_read, now_ms=1_000)
            assert verdict.checked and verdict.allowed
        assert (await limiter.peek("k", ONE_A_SECOND, now_ms=1_000)).remaining == 0
    finally:
        await redis.aclose()
        embedded.stop()
