"""One delivery attempt: the signed POST, and what its answer does to the delivery and its
subscription (delivered, retried later, dead; the endpoint disabled after 410 or five days of
failures, the admins told in their inbox)."""

from __future__ import annotations

import asyncio
import functools
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import aiohttp
from sqlalchemy import BigInteger, DateTime, Integer, String, Text, bindparam, column, func, insert, select, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.types import TypeEngine

from notification_service import inbox, subscriptions
from notification_service.deliveries import Claim, ids_in, next_delay
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


def create_session(*, timeout: float, connections: int) -> aiohttp.ClientSession:
    """The worker's one pooled session for webhook POSTs. No cookies kept between receivers, no
    redirects followed (a redirect could point inside the platform), bodies left as received."""
    connector = aiohttp.TCPConnector(limit=connections, ttl_dns_cache=60, enable_cleanup_closed=True)
    return aiohttp.ClientSession(
        connector=connector,
        # No total: `send` bounds each attempt, answer and excerpt, with its own timeout; a
        # second timer per request here cost a twentieth of the worker's CPU.
        timeout=aiohttp.ClientTimeout(total=None, connect=min(timeout, 2.0)),
        cookie_jar=aiohttp.DummyCookieJar(),
        auto_decompress=False,
        trust_env=False,
        skip_auto_headers=("User-Agent",),
    )


async def _read_excerpt(response: aiohttp.ClientResponse) -> str:
    collected = b""
    async for chunk in response.content.iter_any():
        collected += chunk
        if len(collected) >= EXCERPT_BYTES:
            break
    return collected[:EXCERPT_BYTES].decode("utf-8", errors="replace")


def _describe(exc: aiohttp.ClientError) -> str:
    # The log names the failure, not the HTTP library: a refused or unreachable endpoint is a ConnectError.
    kind = "ConnectError" if isinstance(exc, aiohttp.ClientConnectorError) else type(exc).__name__
    return f"{kind}: {exc}"


def body_of(claim: Claim, *, settings: NotificationSettings) -> str:
    return payload_body(
        claim.envelope, max_bytes=settings.webhook_max_payload_bytes, public_base_url=settings.gateway_url
    )


async def _target(
    url: str, *, settings: NotificationSettings, resolver: Resolver
) -> tuple[str, dict[str, str], dict[str, str]]:
    """Where to connect: in production the address just checked (pinned), else the URL as is."""
    if not settings.is_production:
        return url, {}, {}
    addresses = await check_url(url, allowed_hosts=settings.webhook_allowed_hosts, resolver=resolver)
    return pinned_request(url, addresses[0])


async def send(
    http: aiohttp.ClientSession,
    claim: Claim,
    *,
    settings: NotificationSettings,
    now: datetime,
    resolver: Resolver = resolve,
    body: str | None = None,
) -> Outcome:
    """POST the event (`body`, if the caller has made it already), signed with every secret in
    force; never raises for the receiver's faults."""
    started = time.monotonic()

    def failed(error: str, status_code: int | None = None) -> Outcome:
        return Outcome(status_code, int((time.monotonic() - started) * 1000), "", _clean(error, 500))

    try:
        url, host_header, extensions = await _target(claim.url, settings=settings, resolver=resolver)
    except RefusedUrl as exc:
        return failed(f"refused: {exc}")
    body = body if body is not None else body_of(claim, settings=settings)
    # The signature's timestamp is the real time of sending: receivers check it against their clock.
    headers = {
        **host_header,
        **webhook_headers(claim.secrets, message_id=claim.envelope["id"], timestamp=datetime.now(UTC), body=body),
    }
    timeout = settings.webhook_timeout_seconds
    try:
        async with (
            asyncio.timeout(timeout),
            http.post(
                url,
                data=body.encode(),
                headers=headers,
                allow_redirects=False,
                server_hostname=extensions.get("sni_hostname"),
            ) as response,
        ):
            excerpt = await _read_excerpt(response)
    except TimeoutError:
        return failed(f"timeout: no answer within {timeout:g} s")
    except aiohttp.ClientError as exc:
        return failed(_describe(exc))
    retry_after = parse_retry_after(response.headers.get("retry-after"), now=now)
    latency = int((time.monotonic() - started) * 1000)
    error = None if 200 <= response.status < 300 else f"status {response.status}"
    return Outcome(response.status, latency, _clean(excerpt, EXCERPT_BYTES), error, retry_after)


def _disable_and_tell_admins(
    session: AsyncSession, subscription: WebhookSubscription, *, reason: str, now: datetime
) -> None:
    subscriptions.disable(subscription, reason=reason, now=now)
    notice = inbox.Notice(inbox.ADMINS, "webhook.disabled", f"Webhook endpoint disabled: {subscription.url} ({reason})")
    source = f"webhook.disabled:{subscription.id}:{int(now.timestamp())}"
    inbox.add_entries(session, source_id=source, notices=[notice])


@dataclass(frozen=True, slots=True)
class Attempted:
    """A claim sent: its outcome, and when the attempt started."""

    claim: Claim
    outcome: Outcome
    started_at: datetime


def _failure(
    session: AsyncSession,
    subscription: WebhookSubscription,
    outcome: Outcome,
    *,
    round_attempts: int,
    settings: NotificationSettings,
    rng: random.Random,
    now: datetime,
) -> tuple[str, datetime | None]:
    """What a failed attempt makes of its delivery (status, next attempt), and of its subscription."""
    active = subscription.status == "active"
    if outcome.status_code == 410:
        if active:
            _disable_and_tell_admins(session, subscription, reason="the endpoint answered 410 Gone", now=now)
        return "dead", None
    delay = next_delay(round_attempts, rng=rng, retry_after=outcome.retry_after)
    subscription.failing_since = subscription.failing_since or now
    failing_for = now - subscription.failing_since
    if active and failing_for >= timedelta(seconds=settings.webhook_disable_after_seconds):
        _disable_and_tell_admins(session, subscription, reason="every delivery failed for 5 days", now=now)
    return ("dead", None) if delay is None else ("failed", now + delay)


def _logged(attempted: Attempted, *, number: int) -> dict[str, Any]:
    outcome = attempted.outcome
    return {
        "delivery_id": attempted.claim.delivery_id,
        "number": number,
        "trigger": attempted.claim.trigger,
        "started_at": attempted.started_at,
        "status_code": outcome.status_code,
        "latency_ms": outcome.latency_ms,
        "response_excerpt": outcome.excerpt,
        "error": outcome.error,
    }


_SETTLE = (
    update(WebhookDelivery)
    .where(WebhookDelivery.id == bindparam("settled_id"))
    .values(
        attempts=bindparam("new_attempts"),
        round_attempts=bindparam("new_round_attempts"),
        status=bindparam("new_status"),
        next_attempt_at=bindparam("new_next_attempt_at"),
        delivered_at=bindparam("new_delivered_at"),
        last_status_code=bindparam("new_status_code"),
        last_error=bindparam("new_error"),
        last_attempt_at=bindparam("new_attempt_at"),
        locked_until=None,
        lease_token=None,
        next_trigger="schedule",
    )
)
_COUNT_ONLY = (
    update(WebhookDelivery)
    .where(WebhookDelivery.id == bindparam("counted_id"))
    .values(attempts=bindparam("new_attempts"))
)


def _unnest(**types: TypeEngine[Any]) -> Any:
    """Rows given as one array per column, named `<column>s` (PostgreSQL's unnest): a group is
    one statement with one parameter set, where executemany binds and runs one per row (on
    the worker's path, binding was a tenth of its CPU and each row's UPDATE ~90 us of the server's)."""
    arrays = (bindparam(f"{name}s", type_=ARRAY(type_)) for name, type_ in types.items())
    return func.unnest(*arrays).table_valued(*(column(name, type_) for name, type_ in types.items())).render_derived()


_INSTANT = DateTime(timezone=True)
_LOGGED = _unnest(
    delivery_id=BigInteger(),
    number=Integer(),
    trigger=String(),
    started_at=_INSTANT,
    status_code=Integer(),
    latency_ms=Integer(),
    response_excerpt=Text(),
    error=String(),
)
_LOGGED_COLUMNS = (
    "delivery_id",
    "number",
    "trigger",
    "started_at",
    "status_code",
    "latency_ms",
    "response_excerpt",
    "error",
)
_LOG_ALL = insert(WebhookAttempt).from_select(_LOGGED_COLUMNS, select(*(_LOGGED.c[name] for name in _LOGGED_COLUMNS)))
_SETTLED = _unnest(
    id=BigInteger(),
    attempts=Integer(),
    round_attempts=Integer(),
    status=String(),
    next_attempt_at=_INSTANT,
    delivered_at=_INSTANT,
    last_status_code=Integer(),
    last_error=String(),
    last_attempt_at=_INSTANT,
)
# Each of _SETTLED's columns, from which key of a settled delivery's values (those _SETTLE binds).
_SETTLE_FROM = {
    "id": "settled_id",
    "attempts": "new_attempts",
    "round_attempts": "new_round_attempts",
    "status": "new_status",
    "next_attempt_at": "new_next_attempt_at",
    "delivered_at": "new_delivered_at",
    "last_status_code": "new_status_code",
    "last_error": "new_error",
    "last_attempt_at": "new_attempt_at",
}


_SETTLE_ALL = (
    update(WebhookDelivery)
    .where(WebhookDelivery.id == _SETTLED.c.id)
    .values(
        {
            **{name: _SETTLED.c[name] for name in _SETTLE_FROM if name != "id"},
            "locked_until": None,
            "lease_token": None,
            "next_trigger": "schedule",
        }
    )
)


def _columns(rows: Sequence[dict[str, Any]], keys: dict[str, str]) -> dict[str, list[Any]]:
    return {f"{name}s": [row[key] for row in rows] for name, key in keys.items()}


@functools.cache
def _held_statement(dialect: str) -> Any:
    """The `held` deliveries, locked in id order."""
    return (
        select(
            WebhookDelivery.id,
            WebhookDelivery.lease_token,
            WebhookDelivery.attempts,
            WebhookDelivery.round_attempts,
            WebhookDelivery.subscription_id,
        )
        .where(ids_in(WebhookDelivery.id, "held", dialect=dialect))
        .order_by(WebhookDelivery.id)
        .with_for_update()
    )


async def _log_and_settle(
    connection: AsyncConnection, logged: list[dict[str, Any]], settling: list[dict[str, Any]]
) -> None:
    if connection.dialect.name == "postgresql":
        if logged:
            await connection.execute(_LOG_ALL, _columns(logged, {name: name for name in _LOGGED_COLUMNS}))
        if settling:
            await connection.execute(_SETTLE_ALL, _columns(settling, _SETTLE_FROM))
        return
    if logged:
        await connection.execute(insert(WebhookAttempt), logged)
    if settling:
        await connection.execute(_SETTLE, settling)


async def record(
    session: AsyncSession,
    *,
    attempts: Sequence[Attempted],
    settings: NotificationSettings,
    rng: random.Random,
    now: datetime,
) -> list[str]:
    """Log each finished attempt and settle its delivery, all in the caller's one transaction
    (a commit per attempt would cap a worker at the disk's flushes per second); the status each
    ended in, in order. An attempt whose lease ran out meanwhile, another worker holding the
    delivery now, is still logged but settles nothing ("lost"). Plain statements, no ORM
    objects, except the subscriptions of failed attempts."""
    ids = sorted({attempted.claim.delivery_id for attempted in attempts})
    # Deliveries locked in id order, then subscriptions in id order: settlers never deadlock.
    connection = await session.connection()
    held = _held_statement(connection.dialect.name)
    rows = {row.id: row for row in await connection.execute(held, {"held": ids})}

    def holds_lease(attempted: Attempted) -> bool:
        row = rows.get(attempted.claim.delivery_id)
        return row is not None and row.lease_token == attempted.claim.lease_token

    failing_ids = sorted(
        {rows[a.claim.delivery_id].subscription_id for a in attempts if holds_lease(a) and not a.outcome.succeeded}
    )
    failing: dict[str, WebhookSubscription] = {}
    if failing_ids:
        locked = select(WebhookSubscription).where(WebhookSubscription.id.in_(failing_ids))
        failing = {
            s.id: s
            for s in (await session.execute(locked.order_by(WebhookSubscription.id).with_for_update())).scalars()
        }
    counted = {delivery_id: row.attempts for delivery_id, row in rows.items()}
    logged: list[dict[str, Any]] = []
    settled: dict[int, dict[str, Any]] = {}
    recovered: set[str] = set()
    statuses = []
    for attempted in attempts:
        claim, outcome = attempted.claim, attempted.outcome
        row = rows.get(claim.delivery_id)
        if row is None:
            statuses.append("lost")
            continue
        counted[row.id] += 1
        logged.append(_logged(attempted, number=counted[row.id]))
        if not holds_lease(attempted):
            statuses.append("lost")
            continue
        status, next_attempt_at = "delivered", None
        if outcome.succeeded and row.subscription_id in failing:
            failing[row.subscription_id].failing_since = None
        elif outcome.succeeded:
            # Only a failing endpoint's row is written: a lock on the subscription for every
            # success would queue concurrent deliveries to one endpoint on it.
            recovered.add(row.subscription_id)
        else:
            status, next_attempt_at = _failure(
                session,
                failing[row.subscription_id],
                outcome,
                round_attempts=row.round_attempts + 1,
                settings=settings,
                rng=rng,
                now=now,
            )
        settled[row.id] = {
            "settled_id": row.id,
            "new_round_attempts": row.round_attempts + 1,
            "new_status": status,
            "new_next_attempt_at": next_attempt_at,
            "new_delivered_at": now if status == "delivered" else None,
            "new_status_code": outcome.status_code,
            "new_error": outcome.error,
            "new_attempt_at": attempted.started_at,
        }
        statuses.append(status)
    await _log_and_settle(connection, logged, [{**values, "new_attempts": counted[i]} for i, values in settled.items()])
    if unsettled := [i for i in {a["delivery_id"] for a in logged} if i not in settled]:
        await connection.execute(_COUNT_ONLY, [{"counted_id": i, "new_attempts": counted[i]} for i in unsettled])
    if recovered:
        await connection.execute(
            update(WebhookSubscription)
            .where(WebhookSubscription.id.in_(sorted(recovered)), WebhookSubscription.failing_since.is_not(None))
            .values(failing_since=None)
        )
    await session.flush()
    return statuses
