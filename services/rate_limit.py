"""Rate limits by GCRA (the generic cell rate algorithm) in one Lua script on the shared Redis,
so every gateway replica counts against the same allowance.

A key's state is its theoretical arrival time (TAT). An allowance of `burst` hits, refilling at
`per_minute`, admits a hit when the TAT it would set lies no further ahead than the burst's
worth of intervals. Redis down must not take the API down: the limiter then admits, and says
so in the log. One script call checks several allowances at once (a caller's and its
address's), so a request costs one round trip.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import structlog
from redis.exceptions import NoScriptError, RedisError

logger = structlog.get_logger(__name__)

# KEYS the keys; ARGV: consume (1) or only look (0), now ms (or "" for Redis's own clock, the
# same for every replica), then each key's interval ms and burst. A hit is admitted only when
# every key's allowance admits it, and then counts against all of them (a refused hit counts
# against none). Returns {allowed, remaining, retry_after_ms, reset_ms} for each key in turn,
# `allowed` saying whether that key's own allowance admits the hit.
GCRA = """
local consume = ARGV[1] == '1'
local now = tonumber(ARGV[2])
if not now then
  local t = redis.call('TIME')
  now = t[1] * 1000 + math.floor(t[2] / 1000)
end
local admitted = true
local tats = {}
for i, key in ipairs(KEYS) do
  local interval = tonumber(ARGV[1 + 2 * i])
  local burst = tonumber(ARGV[2 + 2 * i])
  local tat = tonumber(redis.call('GET', key) or now)
  if tat < now then tat = now end
  tats[i] = tat
  if tat + interval - interval * burst > now then admitted = false end
end
local results = {}
for i, key in ipairs(KEYS) do
  local interval = tonumber(ARGV[1 + 2 * i])
  local burst = tonumber(ARGV[2 + 2 * i])
  local tat = tats[i]
  local window = interval * burst
  local allow_at = tat + interval - window
  if allow_at > now then
    table.insert(results, {0, 0, allow_at - now, tat - now})
  else
    if admitted and consume then
      tat = tat + interval
      redis.call('SET', key, tat, 'PX', tat - now)
    end
    table.insert(results, {1, math.floor((window - (tat - now)) / interval), 0, tat - now})
  end
end
return results
"""
GCRA_SHA = hashlib.sha1(GCRA.encode()).hexdigest()


class ScriptClient(Protocol):
    """What the limiter asks of Redis: redis-py's client, or the gateway's pipelined one
    (gateway.limiter_redis), which raises redis-py's exceptions too."""

    def evalsha(self, sha: str, numkeys: int, *keys_and_args: Any) -> Any: ...

    def script_load(self, script: str) -> Any: ...

    def pipeline(self, transaction: bool = ...) -> Any: ...


@dataclass(frozen=True, slots=True)
class Allowance:
    per_minute: float
    burst: int

    @property
    def interval_ms(self) -> int:
        return max(1, round(60_000 / self.per_minute))


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    limit: int
    remaining: int
    retry_after_seconds: int
    reset_seconds: int

    def headers(self) -> dict[str, str]:
        """The IETF draft's RateLimit fields, and Retry-After when refused."""
        headers = {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(self.reset_seconds),
        }
        if not self.allowed:
            headers["Retry-After"] = str(self.retry_after_seconds)
        return headers


def _seconds(ms: Any) -> int:
    return max(0, -(-int(ms) // 1000))


Check = tuple[str, Allowance]


@dataclass(frozen=True, slots=True)
class Verdict:
    """The decisions of one round trip, one per check, and the value of the key read with them
    (None when absent). `checked` is False when Redis was unreachable and all was admitted."""

    decisions: list[Decision]
    value: bytes | None = None
    checked: bool = True

    @property
    def allowed(self) -> bool:
        return all(decision.allowed for decision in self.decisions)

    @property
    def tightest(self) -> Decision:
        """The decision whose headers the client should see: a refusal, else the fewest remaining."""
        return min(self.decisions, key=lambda decision: (decision.allowed, decision.remaining))


def _admitted(checks: Sequence[Check]) -> Verdict:
    return Verdict([Decision(True, allowance.burst, allowance.burst, 0, 0) for _, allowance in checks], checked=False)


class RateLimiter:
    """After Redis fails once, the limiter admits without asking it for `pause_seconds`: a
    Redis that is down costs no request a connection attempt (or its timeout), and the log one
    line per pause instead of one per request."""

    def __init__(
        self,
        redis: ScriptClient,
        *,
        prefix: str = "rl:",
        pause_seconds: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._redis = redis
        self._prefix = prefix
        self._pause_seconds = pause_seconds
        self._clock = clock
        self._unchecked_until = float("-inf")

    async def check(
        self, checks: Sequence[Check], *, consume: bool = True, also_read: str | None = None, now_ms: int | None = None
    ) -> Verdict:
        """Count one hit against every check's key if all of them admit it, and read
        `also_read` (a key outside the limiter's prefix) in the same round trip."""
        if self._clock() < self._unchecked_until:
            return _admitted(checks)
        keys = [self._prefix + key for key, _ in checks]
        args = ["1" if consume else "0", "" if now_ms is None else str(now_ms)]
        for _, allowance in checks:
            args.extend((str(allowance.interval_ms), str(allowance.burst)))
        try:
            try:
                replies = await self._round_trip(keys, args, also_read)
            except NoScriptError:
                # A restarted or flushed Redis forgot the script: load it once and ask again.
                await self._redis.script_load(GCRA)
                replies = await self._round_trip(keys, args, also_read)
        except (RedisError, OSError) as exc:
            self._unchecked_until = self._clock() + self._pause_seconds
            logger.warning(
                "rate limits not checked: Redis is unreachable; admitting",
                keys=keys,
                pause_seconds=self._pause_seconds,
                error=str(exc),
            )
            return _admitted(checks)
        decisions = [
            Decision(bool(allowed), allowance.burst, int(remaining), _seconds(retry_ms), _seconds(reset_ms))
            for (allowed, remaining, retry_ms, reset_ms), (_, allowance) in zip(replies[0], checks, strict=True)
        ]
        return Verdict(decisions, replies[1] if also_read is not None else None)

    async def _round_trip(self, keys: list[str], args: list[str], also_read: str | None) -> list[Any]:
        if also_read is None:
            # A pipeline costs redis-py a tenth more CPU than the one command it would carry.
            return [await self._redis.evalsha(GCRA_SHA, len(keys), *keys, *args)]
        pipe = self._redis.pipeline(transaction=False)
        pipe.evalsha(GCRA_SHA, len(keys), *keys, *args)
        if also_read is not None:
            pipe.get(also_read)
        replies: list[Any] = await pipe.execute()
        return replies

    async def hit(self, key: str, allowance: Allowance, *, now_ms: int | None = None) -> Decision:
        """Count one hit against `key`, if its allowance admits it."""
        return (await self.check([(key, allowance)], now_ms=now_ms)).decisions[0]

    async def peek(self, key: str, allowance: Allowance, *, now_ms: int | None = None) -> Decision:
        """Whether a hit would be admitted now, counting nothing."""
        return (await self.check([(key, allowance)], consume=False, now_ms=now_ms)).decisions[0]
