"""Slowing password guessing: failed logins count against the username (or client id) and the
client address; past either allowance, `POST /auth/token` is a 429 until it refills. A
successful login counts nothing."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from gateway.errors import InvalidClient, InvalidCredentials, TooManyLoginFailures
from gateway.settings import GatewaySettings
from services.principals import Principal
from services.rate_limit import Allowance, RateLimiter


async def throttled(
    limiter: RateLimiter,
    settings: GatewaySettings,
    *,
    subject: str,
    address: str,
    attempt: Callable[[], Awaitable[Principal]],
) -> Principal:
    """`attempt`'s principal, unless this subject or address has failed too often lately."""
    checks = [
        (
            f"login:subject:{subject.lower()}",
            Allowance(settings.login_failures_per_minute_per_username, settings.login_failures_burst_per_username),
        ),
        (
            f"login:address:{address}",
            Allowance(settings.login_failures_per_minute_per_ip, settings.login_failures_burst_per_ip),
        ),
    ]
    for key, allowance in checks:
        decision = await limiter.peek(key, allowance)
        if not decision.allowed:
            raise TooManyLoginFailures(
                f"Too many failed logins; try again in {decision.retry_after_seconds} s.",
                code="too_many_login_failures",
                headers=decision.headers(),
            )
    try:
        return await attempt()
    except (InvalidCredentials, InvalidClient):
        for key, allowance in checks:
            await limiter.hit(key, allowance)
        raise
