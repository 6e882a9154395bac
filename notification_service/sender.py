"""One delivery attempt: the signed POST, and what its answer does to the delivery and its
subscription (delivered, retried later, dead; the endpoint disabled after 410 or five days of
failures, the admins told in their inbox)."""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

import httpx
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from notification_service import inbox, subscriptions
from notification_service.deliveries import Claim, next_delay
from notification_service.models import WebhookAttempt, WebhookDelivery, WebhookSubscription
from notification_service.settings import NotificationSettings
from notification_service.signing import payload_body, webhook_headers
from notification_service.ssrf import RefusedUrl, Resolver, check_url, pinned_request, resolve

EXCERPT_BYTES = 1024


@dataclass(frozen=True, slots=True)
class Outcome:
    status_code: int | None
    latency_ms: int
    excerpt: str
    error: str | None
    retry_after: timedelta | None = None

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def _clean(text: str, limit: int) -> str:
    # PostgreSQL text cannot hold NUL; a receiver may answer anything.
    return text.replace("\x00", "\ufffd")[:limit]


def parse_retry_after(value: str | None, *, now: datetime) -> timedelta | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return timedelta(seconds=int(value))
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(when - now, timedelta(0))


async def _read_excerpt(response: httpx.Response) -> str:
    collected = b""
    async for chunk in response.aiter_bytes():
        collected += chunk
        if len(collected) >= EXCERPT_BYTES:
            break
    return collected[:EXCERPT_BYTES].decode("utf-8", errors="replace")


async def _target(
    url: str, *, settings: NotificationSettings, resolver: Resolver
) -> tuple[str, dict[str, str], dict[str, str]]:
    """Where to connect: in production the address just checked (pinned), else the URL as is."""
    if not settings.is_production:
        return url, {}, {}
    addresses = await check_url(url, allowed_hosts=settings.webhook_allowed_hosts, resolver=resolver)
    return pinned_request(url, addresses[0])


async def send(
    http: httpx.AsyncClient,
    claim: Claim,
    *,
    settings: NotificationSettings,
    now: datetime,
    resolver: Resolver = resolve,
) -> Outcome:
    """POST the event, signed with every secret in force; never raises for the receiver's faults."""
    started = time.monotonic()

    def failed(error: str, status_code: int | None = None) -> Outcome:
        return Outcome(status_code, int((time.monotonic() - started) * 1000), "", _clean(error, 500))

    try:
        url, host_header, extensions = await _target(claim.url, settings=settings, resolver=resolver)
    except RefusedUrl as exc:
        return failed(f"refused: {exc}")
    body = payload_body(
        claim.envelope, max_bytes=settings.webhook_max_payload_bytes, public_base_url=settings.gateway_url
    )
    # The signature's timestamp is the real time of sending: receivers check it against their clock.
    headers = {
        **host_header,
        **webhook_headers(claim.secrets, message_id=claim.envelope["id"], timestamp=datetime.now(UTC), body=body),
    }
    timeout = settings.webhook_timeout_seconds
    try:
        async with asyncio.timeout(timeout):
            request = http.build_request(
                "POST", url, content=body.encode(), headers=headers, timeout=timeout, extensions=extensions
            )
            response = await http.send(request, stream=True)
            try:
                excerpt = await _read_excerpt(response)
            finally:
                await response.aclose()
    except (TimeoutError, httpx.TimeoutException):
        return failed(f"timeout: no answer within {timeout:g} s")
    except httpx.HTTPError as exc:
        return failed(f"{type(exc).__name__}: {exc}")
    retry_after = parse_retry_after(response.headers.get("retry-after"), now=now)
    latency = int((time.monotonic() - started) * 1000)
    error = None if 200 <= response.status_code < 300 else f"status {response.status_code}"
    return Outcome(response.status_code, latency, _clean(excerpt, EXCERPT_BYTES), error, retry_after)


def _disable_and_tell_admins(
    session: AsyncSession, subscription: WebhookSubscription, *, reason: str, now: datetime
) -> None:
    subscriptions.disable(subscription, reason=reason, now=now)
    notice = inbox.Notice(inbox.ADMINS, "webhook.disabled", f"Webhook endpoint disabled: {subscription.url} ({reason})")
    source = f"webhook.disabled:{subscription.id}:{int(now.timestamp())}"
    inbox.add_entries(session, source_id=source, notices=[notice])


def _settle_failure(
    session: AsyncSession,
    delivery: WebhookDelivery,
    subscription: WebhookSubscription,
    outcome: Outcome,
    *,
    settings: NotificationSettings,
    rng: random.Random,
    now: datetime,
) -> None:
    active = subscription.status == "active"
    if outcome.status_code == 410:
        delivery.status, delivery.next_attempt_at = "dead", None
        if active:
            _disable_and_tell_admins(session, subscription, reason="the endpoint answered 410 Gone", now=now)
        return
    delay = next_delay(delivery.round_attempts, rng=rng, retry_after=outcome.retry_after)
    delivery.status = "dead" if delay is None else "failed"
    delivery.next_attempt_at = None if delay is None else now + delay
    subscription.failing_since = subscription.failing_since or now
    failing_for = now - subscription.failing_since
    if active and failing_for >= timedelta(seconds=settings.webhook_disable_after_seconds):
        _disable_and_tell_admins(session, subscription, reason="every delivery failed for 5 days", now=now)


def _attempt_row(claim: Claim, outcome: Outcome, *, number: int, started_at: datetime) -> WebhookAttempt:
    return WebhookAttempt(
        delivery_id=claim.delivery_id,
        number=number,
        trigger=claim.trigger,
        started_at=started_at,
        status_code=outcome.status_code,
        latency_ms=outcome.latency_ms,
        response_excerpt=outcome.excerpt,
        error=outcome.error,
    )


async def record(
    session: AsyncSession,
    *,
    claim: Claim,
    outcome: Outcome,
    started_at: datetime,
    settings: NotificationSettings,
    rng: random.Random,
    now: datetime,
) -> str:
    """Log the attempt and settle the delivery. If the lease ran out meanwhile and another
    worker holds the delivery now, the attempt is still logged but settles nothing ("lost")."""
    delivery = (
        await session.execute(select(WebhookDelivery).where(WebhookDelivery.id == claim.delivery_id).with_for_update())
    ).scalar()
    if delivery is None:
        return "lost"
    if delivery.lease_token != claim.lease_token:
        delivery.attempts += 1
        session.add(_attempt_row(claim, outcome, number=delivery.attempts, started_at=started_at))
        await session.flush()
        return "lost"
    delivery.attempts += 1
    delivery.round_attempts += 1
    session.add(_attempt_row(claim, outcome, number=delivery.attempts, started_at=started_at))
    delivery.last_status_code = outcome.status_code
    delivery.last_error = outcome.error
    delivery.last_attempt_at = started_at
    delivery.locked_until = delivery.lease_token = None
    delivery.next_trigger = "schedule"
    if outcome.succeeded:
        delivery.status, delivery.delivered_at, delivery.next_attempt_at = "delivered", now, None
        # Not a lock on the subscription for every success: concurrent deliveries to one
        # endpoint would queue on it. Only a failing endpoint's row is written (and locked).
        await session.execute(
            update(WebhookSubscription)
            .where(WebhookSubscription.id == delivery.subscription_id, WebhookSubscription.failing_since.is_not(None))
            .values(failing_since=None)
        )
    else:
        subscription = await subscriptions.get_subscription(
            session, subscription_id=delivery.subscription_id, for_update=True
        )
        _settle_failure(session, delivery, subscription, outcome, settings=settings, rng=rng, now=now)
    await session.flush()
    return delivery.status
