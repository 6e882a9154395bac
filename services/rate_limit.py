"""Rate limits by GCRA (the generic cell rate algorithm) in one Lua script on the shared Redis,
so every gateway replica counts against the same allowance.

A key's state is its theoretical arrival time (TAT). An allowance of `burst` hits, refilling at
`per_minute`, admits a hit when the TAT it would set lies no further ahead than the burst's
worth of intervals. Redis down must not take the API down: the limiter then admits, and says
so in the log. One script call checks several allowances at once (a caller's and its
address's), so a request costs one round trip.

A roomy allowance may be taken a few hits at a time (`check(..., lease=True)`): one round trip
counts `lease_hits` hits against the shared allowance at once, and the replica admits the next
ones itself, without asking Redis, until they are used or `lease_seconds` have passed (the
unused ones are then forfeit). The round trip to Redis was a fifth of a proxied request's CPU
(benchmarks/gateway_cost.py: the socket write and read, not the script). The limit still holds
across replicas, since a leased hit is counted in Redis before it is used; it is only tighter,
by the hits a replica holds and does not use. So only allowances of at least
`LEASES_PER_BURST` leases are leased at all, a lease being at most a twentieth of the burst, and
where a whole lease no longer fits the script grants a single hit, so the last hits of an
allowance are counted one by one as before. A check that also reads a key (the token version)
is never leased: that value must be fresh on every request.
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

# KEYS the keys; ARGV: the hits wanted (0 only looks), now ms (or "" for Redis's own clock, the
# same for every replica), then each key's interval ms and burst. The hits are granted only when
# every key's allowance admits them all, and then count against all of them; when more than one
# is wanted and they do not all fit, a single hit is granted if it fits (a refused hit counts
# against none). Returns {allowed, remaining, retry_after_ms, reset_ms, granted} for each key in
# turn, `allowed` saying whether that key's own allowance admits one hit.
GCRA = """
local wanted = tonumber(ARGV[1])
local now = tonumber(ARGV[2])
if not now then
  local t = redis.call('TIME')
  now = t[1] * 1000 + math.floor(t[2] / 1000)
end
local tats = {}
for i, key in ipairs(KEYS) do
  local tat = tonumber(redis.call('GET', key) or now)
  if tat < now then tat = now end
  tats[i] = tat
end
local function fits(hits)
  for i, key in ipairs(KEYS) do
    local interval = tonumber(ARGV[1 + 2 * i])
    local burst = tonumber(ARGV[2 + 2 * i])
    if tats[i] + interval * hits - interval * burst > now then return false end
  end
  return true
end
local granted = 0
if wanted > 1 and fits(wanted) then
  granted = wanted
elseif fits(1) then
  granted = math.min(wanted, 1)
end
local results = {}
for i, key in ipairs(KEYS) do
  local interval = tonumber(ARGV[1 + 2 * i])
  local burst = tonumber(ARGV[2 + 2 * i])
  local tat = tats[i]
  local window = interval * burst
  local allow_at = tat + interval - window
  if allow_at > now then
    table.insert(results, {0, 0, allow_at - now, tat - now, 0})
  else
    if granted > 0 then
      tat = tat + interval * granted
      redis.call('SET', key, tat, 'PX', tat - now)
    end
    table.insert(results, {1, math.floor((window - (tat - now)) / interval), 0, tat - now, granted})
  end
end
return results
"""
GCRA_SHA = hashlib.sha1(GCRA.encode()).hexdigest()
# An allowance is leased only if its burst holds this many whole leases.
LEASES_PER_BURST = 20
# Leases kept at most: one per client address seen within `lease_seconds`, bounded against an
# address-spraying client (the oldest is dropped, and its next request asks Redis).
MAX_LEASES = 10_000


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


@dataclass(slots=True)
class _Lease:
    """Hits a replica took from the shared allowances of one check, not used yet."""

    unused: int
    expires_at: float
    # As Redis answered when the lease was taken: what remained there, and when (on this
    # replica's clock) each allowance is back to full.
    remaining: list[int]
    reset_at: list[float]
    allowances: list[Allowance]

    def take(self, now: float) -> Verdict:
        self.unused -= 1
        return Verdict(
            [
                Decision(True, allowance.burst, left + self.unused, 0, _seconds(max(0.0, reset - now) * 1000))
                for allowance, left, reset in zip(self.allowances, self.remaining, self.reset_at, strict=True)
            ]
        )


def _admitted(checks: Sequence[Check]) -> Verdict:
    return Verdict([Decision(True, allowance.burst, allowance.burst, 0, 0) for _, allowance in checks], checked=False)


class RateLimiter:
    """After Redis fails once, the limiter admits without asking it for `pause_seconds`: a
    Redis that is down costs no request a connection attempt (or its timeout), and the log one
    line per pause instead of one per request. Leases: see the module; `lease_hits` 1 leases
    nothing."""

    def __init__(
        self,
        redis: ScriptClient,
        *,
        prefix: str = "rl:",
        pause_seconds: float = 1.0,
        lease_hits: int = 1,
        lease_seconds: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._redis = redis
        self._prefix = prefix
        self._pause_seconds = pause_seconds
        self._lease_hits = lease_hits
        self._lease_seconds = lease_seconds
        self._clock = clock
        self._unchecked_until = float("-inf")
        self._leases: dict[tuple[str, ...], _Lease] = {}

    def lease_size(self, checks: Sequence[Check]) -> int:
        """The hits one round trip takes for `checks` when leased (1: not leased)."""
        return max(1, min(self._lease_hits, *(allowance.burst // LEASES_PER_BURST for _, allowance in checks)))

    async def check(
        self,
        checks: Sequence[Check],
        *,
        consume: bool = True,
        also_read: str | None = None,
        now_ms: int | None = None,
        lease: bool = False,
    ) -> Verdict:
        """Count one hit against every check's key if all of them admit it, and read
        `also_read` (a key outside the limiter's prefix) in the same round trip. With `lease`,
        the hit may come from this replica's lease of them (see the module)."""
        now = self._clock()
        wanted = (self.lease_size(checks) if lease and also_read is None else 1) if consume else 0
        leased = tuple(key for key, _ in checks) if wanted > 1 else None
        if leased is not None:
            held = self._leases.get(leased)
            if held is not None:
                if held.unused > 0 and now < held.expires_at:
                    return held.take(now)
                del self._leases[leased]
        if now < self._unchecked_until:
            return _admitted(checks)
        keys = [self._prefix + key for key, _ in checks]
        args = [str(wanted), "" if now_ms is None else str(now_ms)]
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
            for (allowed, remaining, retry_ms, reset_ms, _), (_, allowance) in zip(replies[0], checks, strict=True)
        ]
        granted = int(replies[0][0][4])
        if leased is not None and granted > 1:
            if len(self._leases) >= MAX_LEASES:
                del self._leases[next(iter(self._leases))]
            self._leases[leased] = _Lease(
                unused=granted - 1,
                expires_at=now + self._lease_seconds,
                remaining=[decision.remaining for decision in decisions],
                reset_at=[now + int(reply[3]) / 1000 for reply in replies[0]],
                allowances=[allowance for _, allowance in checks],
            )
            # The client is told what is left of its allowance, the hits this replica holds included.
            decisions = [Decision(True, d.limit, d.remaining + granted - 1, 0, d.reset_seconds) for d in decisions]
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
