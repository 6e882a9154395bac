"""Rate limits by GCRA (the generic cell rate algorithm) in one Lua script on the shared Redis,
so every gateway replica counts against the same allowance.

A key's state is its theoretical arrival time (TAT). An allowance of `burst` hits, refilling at
`per_minute`, admits a hit when the TAT it would set lies no further ahead than the burst's
worth of intervals. Redis down must not take the API down: the limiter then admits, and says
so in the log.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError

logger = structlog.get_logger(__name__)

# KEYS[1] the key; ARGV: interval ms, burst, consume (1) or only look (0), now ms (or "" for
# Redis's own clock, the same for every replica). Returns {allowed, remaining, retry_after_ms, reset_ms}.
GCRA = """
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local consume = ARGV[3] == '1'
local now = tonumber(ARGV[4])
if not now then
  local t = redis.call('TIME')
  now = t[1] * 1000 + math.floor(t[2] / 1000)
end
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local window = interval * burst
local new_tat = tat + interval
local allow_at = new_tat - window
if allow_at > now then
  return {0, 0, allow_at - now, tat - now}
end
if consume then
  redis.call('SET', KEYS[1], new_tat, 'PX', new_tat - now)
  tat = new_tat
end
local remaining = math.floor((window - (tat - now)) / interval)
return {1, remaining, 0, tat - now}
"""


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


class RateLimiter:
    def __init__(self, redis: Redis, *, prefix: str = "rl:") -> None:
        self._redis = redis
        self._prefix = prefix
        self._script = redis.register_script(GCRA)

    async def _run(self, key: str, allowance: Allowance, *, consume: bool, now_ms: int | None) -> Decision:
        args = [allowance.interval_ms, allowance.burst, "1" if consume else "0", "" if now_ms is None else now_ms]
        try:
            allowed, remaining, retry_ms, reset_ms = await self._script(keys=[self._prefix + key], args=args)
        except (RedisError, OSError) as exc:
            logger.warning("rate limit not checked: Redis is unreachable; admitting", key=key, error=str(exc))
            return Decision(True, allowance.burst, allowance.burst, 0, 0)
        return Decision(bool(allowed), allowance.burst, int(remaining), _seconds(retry_ms), _seconds(reset_ms))

    async def hit(self, key: str, allowance: Allowance, *, now_ms: int | None = None) -> Decision:
        """Count one hit against `key`, if its allowance admits it."""
        return await self._run(key, allowance, consume=True, now_ms=now_ms)

    async def peek(self, key: str, allowance: Allowance, *, now_ms: int | None = None) -> Decision:
        """Whether a hit would be admitted now, counting nothing."""
        return await self._run(key, allowance, consume=False, now_ms=now_ms)
