"""What the gateway's admission (rate limits and the token-version check) costs a request.

Run from the repository root:  python benchmarks/admission.py   (REDIS_URL, default local DB 0)

Drives gateway.admission.AdmissionMiddleware in-process around an app that answers 200 at
once, so the figures are the middleware's own: this process's CPU time per request (from its
CPU counters over a fixed number of requests) and the wall time, which adds the Redis round
trip. Compared in one run: no middleware; an anonymous request (one allowance); a request
with a token (two allowances and the version read, still one round trip); Redis unreachable
(admitted unchecked).
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gateway.admission import AdmissionMiddleware
from gateway.settings import GatewaySettings
from services.auth import TokenVerifier, issue_token
from services.principals import Principal, Role
from services.rate_limit import RateLimiter
from services.redis import create_redis

REQUESTS = 5000


async def _ok(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
    await send({"type": "http.response.body", "body": b"{}"})


async def _receive() -> dict[str, Any]:
    return {"type": "http.request", "body": b""}


async def _send(message: Any) -> None:
    return None


async def _measure(app: Any, state: dict[str, Any], headers: list[tuple[bytes, bytes]]) -> tuple[float, float]:
    """CPU µs and wall µs per request over REQUESTS requests (after a warm-up)."""
    address = f"198.51.100.{uuid.uuid4().int % 250 + 1}"

    def scope() -> dict[str, Any]:
        return {
            "type": "http",
            "method": "GET",
            "path": "/api/v1/items",
            "headers": headers,
            "client": (address, 40000),
            "state": dict(state),
        }

    for _ in range(200):
        await app(scope(), _receive, _send)
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(REQUESTS):
        await app(scope(), _receive, _send)
    return (time.process_time() - cpu) * 1e6 / REQUESTS, (time.perf_counter() - wall) * 1e6 / REQUESTS


async def main() -> None:
    url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    settings = GatewaySettings(
        environment="test", rate_limit_burst_per_principal=100_000_000, rate_limit_burst_per_ip=100_000_000
    )
    verifier = TokenVerifier(settings)
    token, _ = issue_token(settings, Principal(subject=f"bench-{uuid.uuid4().hex[:8]}", role=Role.DISPATCHER))
    with_token = [(b"authorization", f"Bearer {token}".encode())]
    redis = create_redis(url, timeout_seconds=settings.rate_limit_redis_timeout_seconds)
    down = create_redis("redis://127.0.0.1:1/0", timeout_seconds=settings.rate_limit_redis_timeout_seconds)
    try:
        admission = AdmissionMiddleware(_ok, settings=settings)
        up_state = {"rate_limiter": RateLimiter(redis), "token_verifier": verifier}
        down_state = {"rate_limiter": RateLimiter(down), "token_verifier": verifier}
        rows = {
            "no admission": await _measure(_ok, up_state, []),
            "anonymous (1 allowance)": await _measure(admission, up_state, []),
            "token (2 + version read)": await _measure(admission, up_state, with_token),
            "Redis down (unchecked)": await _measure(admission, down_state, with_token),
        }
    finally:
        await redis.aclose()
        await down.aclose()
    print(f"admission middleware, {REQUESTS} requests each, Redis at {url}")
    print(f"{'case':<28}{'CPU µs/req':>12}{'wall µs/req':>13}")
    for name, (cpu, wall) in rows.items():
        print(f"{name:<28}{cpu:>12.1f}{wall:>13.1f}")


if __name__ == "__main__":
    asyncio.run(main())
