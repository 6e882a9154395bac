"""The GCRA script with several allowances at once, the limiter's pause after Redis fails, and
leases of several hits per round trip (its one-key use is tested with the login throttle,
tests/gateway/test_login_throttle.py)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import structlog

from launcher.embedded_redis import EmbeddedRedis
from services import rate_limit
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


class CountingRedis:
    """The limiter's Redis, counting its round trips (a script call, or a pipeline)."""

    def __init__(self, redis: Any) -> None:
        self.redis = redis
        self.round_trips = 0

    def evalsha(self, sha: str, numkeys: int, *keys_and_args: Any) -> Any:
        self.round_trips += 1
        return self.redis.evalsha(sha, numkeys, *keys_and_args)

    def script_load(self, script: str) -> Any:
        return self.redis.script_load(script)

    def pipeline(self, transaction: bool = False) -> Any:
        self.round_trips += 1
        return self.redis.pipeline(transaction=transaction)


ROOMIER = Allowance(per_minute=60, burst=200)  # leases of min(lease_hits, 200 // 20) = 10 hits
NOW_MS = 7_000_000


@pytest.fixture
async def counting(redis_url: str) -> AsyncIterator[CountingRedis]:
    redis = create_redis(redis_url)
    yield CountingRedis(redis)
    await redis.aclose()


def _leasing(counting: CountingRedis, prefix: str, clock: list[float], **settings: Any) -> RateLimiter:
    return RateLimiter(counting, prefix=prefix, lease_hits=10, lease_seconds=1.0, clock=lambda: clock[0], **settings)


async def test_a_lease_takes_several_hits_in_one_round_trip_and_admits_them_locally(counting: CountingRedis) -> None:
    prefix, clock = f"rl:test:{uuid.uuid4().hex}:", [10.0]
    limiter = _leasing(counting, prefix, clock)
    assert limiter.lease_size([("k", ROOMIER)]) == 10
    remaining = []
    for _ in range(10):
        verdict = await limiter.check([("k", ROOMIER)], now_ms=NOW_MS, lease=True)
        assert verdict.allowed and verdict.checked
        remaining.append(verdict.tightest.remaining)
    assert counting.round_trips == 1
    # What the client is told counts down one by one, the replica's unused hits included.
    assert remaining == list(range(199, 189, -1))
    # In Redis the whole lease was counted at once, before any of it was used.
    assert (await limiter.peek("k", ROOMIER, now_ms=NOW_MS)).remaining == 190
    eleventh = await limiter.check([("k", ROOMIER)], now_ms=NOW_MS, lease=True)
    assert eleventh.tightest.remaining == 189 and counting.round_trips == 3  # the peek, and a new lease


async def test_two_replicas_leasing_admit_exactly_the_burst_between_them(counting: CountingRedis) -> None:
    prefix, clock = f"rl:test:{uuid.uuid4().hex}:", [10.0]
    burst = Allowance(per_minute=1, burst=40)  # leases of 2; the allowance does not refill here
    replicas = [_leasing(counting, prefix, clock), _leasing(counting, prefix, clock)]
    admitted, refused_in_a_row = 0, 0
    for turn in range(200):
        verdict = await replicas[turn % 2].check([("k", burst)], now_ms=NOW_MS, lease=True)
        admitted += verdict.allowed
        refused_in_a_row = 0 if verdict.allowed else refused_in_a_row + 1
        if refused_in_a_row == 2:
            break
    assert admitted == 40
    assert refused_in_a_row == 2
    refusal = await replicas[0].check([("k", burst)], now_ms=NOW_MS, lease=True)
    assert not refusal.allowed and refusal.tightest.retry_after_seconds >= 55


async def test_when_a_whole_lease_no_longer_fits_one_hit_is_granted(counting: CountingRedis) -> None:
    prefix, clock = f"rl:test:{uuid.uuid4().hex}:", [10.0]
    exact, leasing = RateLimiter(counting, prefix=prefix), _leasing(counting, prefix, clock)
    for _ in range(195):
        assert (await exact.hit("k", ROOMIER, now_ms=NOW_MS)).allowed
    # Five left, fewer than a lease: the leasing replica takes them one round trip each.
    before = counting.round_trips
    for left in range(4, -1, -1):
        verdict = await leasing.check([("k", ROOMIER)], now_ms=NOW_MS, lease=True)
        assert verdict.allowed and verdict.tightest.remaining == left
    assert counting.round_trips - before == 5
    assert not (await leasing.check([("k", ROOMIER)], now_ms=NOW_MS, lease=True)).allowed


async def test_unused_leased_hits_are_forfeit_after_the_lease_seconds(counting: CountingRedis) -> None:
    prefix, clock = f"rl:test:{uuid.uuid4().hex}:", [10.0]
    limiter = _leasing(counting, prefix, clock)
    await limiter.check([("k", ROOMIER)], now_ms=NOW_MS, lease=True)
    clock[0] += 0.999
    await limiter.check([("k", ROOMIER)], now_ms=NOW_MS, lease=True)
    assert counting.round_trips == 1
    clock[0] += 0.001
    await limiter.check([("k", ROOMIER)], now_ms=NOW_MS, lease=True)
    assert counting.round_trips == 2
    # Two leases counted (20 hits), three used: the other eight of the first are gone.
    assert (await limiter.peek("k", ROOMIER, now_ms=NOW_MS)).remaining == 180


async def test_checks_that_read_a_key_small_allowances_and_unleased_checks_ask_redis_every_time(
    counting: CountingRedis,
) -> None:
    prefix, clock = f"rl:test:{uuid.uuid4().hex}:", [10.0]
    limiter = _leasing(counting, prefix, clock)
    small = Allowance(per_minute=60, burst=39)  # fewer than 20 leases of 2
    assert limiter.lease_size([("k", small)]) == 1
    assert limiter.lease_size([("k", ROOMIER), ("s", small)]) == 1
    cases: list[tuple[str, Allowance, dict[str, Any]]] = [
        ("read", ROOMIER, {"lease": True, "also_read": f"test:absent:{uuid.uuid4().hex}"}),
        ("small", small, {"lease": True}),
        ("unleased", ROOMIER, {}),
    ]
    for key, allowance, options in cases:
        before = counting.round_trips
        for expected_remaining in (allowance.burst - 1, allowance.burst - 2, allowance.burst - 3):
            verdict = await limiter.check([(key, allowance)], now_ms=NOW_MS, **options)
            assert verdict.tightest.remaining == expected_remaining
        assert counting.round_trips - before == 3, key


async def test_the_leases_kept_are_bounded(counting: CountingRedis, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rate_limit, "MAX_LEASES", 2)
    prefix, clock = f"rl:test:{uuid.uuid4().hex}:", [10.0]
    limiter = _leasing(counting, prefix, clock)
    for key in ("a", "b", "c"):
        await limiter.check([(key, ROOMIER)], now_ms=NOW_MS, lease=True)
    assert counting.round_trips == 3
    await limiter.check([("c", ROOMIER)], now_ms=NOW_MS, lease=True)
    assert counting.round_trips == 3  # the newest is still held
    await limiter.check([("a", ROOMIER)], now_ms=NOW_MS, lease=True)
    assert counting.round_trips == 4  # the oldest was dropped


async def test_with_redis_down_a_leasing_check_admits_unchecked() -> None:
    clock = [10.0]
    down = create_redis("redis://127.0.0.1:1/0")
    limiter = RateLimiter(down, lease_hits=10, clock=lambda: clock[0])
    try:
        verdict = await limiter.check([("k", ROOMIER)], lease=True)
        assert verdict.allowed and not verdict.checked
    finally:
        await down.aclose()
