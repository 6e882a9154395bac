"""Who gets in, decided once per request before routing: the general rate limits and the
token-version check, in one Redis round trip.

Every request counts against its client address; a request with a valid token counts against
its caller (the token's subject) too, and is admitted only if both allowances admit it (a
refused request counts against neither). A caller over its allowance does not hold up other
callers behind the same address, and the address's allowance is the larger, for an office of
people behind one NAT. Past either one the answer is a 429 problem with `Retry-After`; every
answer carries the IETF draft's `RateLimit-*` fields of the tighter allowance. The health
probes are not counted. Redis down admits everything unchecked (services.rate_limit). An
anonymous request's address allowance is leased, `rate_limit_lease_hits` hits a round trip.

A token with a bad signature or expired is not the limiter's to answer: it counts against the
address only, and the route or the proxy answers its 401 as before.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.errors import TokenRevoked
from gateway.revocation import is_revoked, version_key
from gateway.settings import GatewaySettings
from services.auth import TokenVerifier
from services.errors import ProblemError, TooManyRequests, send_problem
from services.principals import Principal
from services.rate_limit import Allowance, Check, RateLimiter

UNCOUNTED_PREFIX = "/health"


def _bearer_token(scope: Scope) -> str | None:
    for key, value in scope["headers"]:
        if key == b"authorization" and value[:7].lower() == b"bearer ":
            return str(value[7:].decode("latin-1")).strip()
    return None


class AdmissionMiddleware:
    """Pure ASGI, inside the body limit and outside the proxy and the gateway's own routes."""

    def __init__(self, app: ASGIApp, *, settings: GatewaySettings) -> None:
        self.app = app
        self.per_principal = Allowance(
            settings.rate_limit_per_minute_per_principal, settings.rate_limit_burst_per_principal
        )
        self.per_address = Allowance(settings.rate_limit_per_minute_per_ip, settings.rate_limit_burst_per_ip)

    def _principal(self, scope: Scope, verifier: TokenVerifier) -> Principal | None:
        token = _bearer_token(scope)
        if not token:
            return None
        try:
            return verifier.verify(token)
        except ProblemError:
            return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(UNCOUNTED_PREFIX):
            await self.app(scope, receive, send)
            return
        state = scope["state"]
        limiter: RateLimiter = state["rate_limiter"]
        client = scope.get("client")
        checks: list[Check] = [(f"req:address:{client[0] if client else 'unknown'}", self.per_address)]
        principal = self._principal(scope, state["token_verifier"])
        if principal is not None:
            checks.insert(0, (f"req:principal:{principal.subject}", self.per_principal))
        # An anonymous request's hit may come from a lease (services.rate_limit); a caller's
        # request reads its token version, which must be fresh, so it asks Redis every time.
        verdict = await limiter.check(
            checks, also_read=version_key(principal.subject) if principal else None, lease=principal is None
        )
        if principal is not None and is_revoked(principal, verdict.value):
            await send_problem(send, TokenRevoked(), scope["path"])
            return
        tightest = verdict.tightest
        if not tightest.allowed:
            whose = "caller" if principal is not None and not verdict.decisions[0].allowed else "address"
            refusal = TooManyRequests(
                f"Too many requests from this {whose}; try again in {tightest.retry_after_seconds} s.",
                code="rate_limited",
                headers=tightest.headers(),
                limited=whose,
            )
            await send_problem(send, refusal, scope["path"])
            return
        if not verdict.checked:
            await self.app(scope, receive, send)
            return
        extra = [(name.lower().encode(), value.encode()) for name, value in tightest.headers().items()]

        async def send_with_limits(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                # A stricter limit inside (the login throttle's) already told its own figures.
                if not any(key == b"ratelimit-limit" for key, _ in headers):
                    message["headers"] = [*headers, *extra]
            await send(message)

        await self.app(scope, receive, send_with_limits)
