"""Webhook deliveries: created with the event, claimed by workers, logged per attempt.

The table is the queue: a delivery is due when its `next_attempt_at` has come, no worker holds
an unexpired lease on it, its subscription is active and no earlier delivery of the same
ticket to the same subscription is still pending or failing (a ticket's events arrive in order)."""

from __future__ import annotations

import functools
import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pydantic_core
from sqlalchemy import BigInteger, Text, and_, any_, bindparam, cast, func, insert, or_, select, text, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from notification_service.errors import DeliveryInFlight, DeliveryNotFound
from notification_service.models import ReceivedEvent, WebhookAttempt, WebhookDelivery, WebhookSubscription
from notification_service.schemas import Envelope
from notification_service.subscriptions import matches, secrets_in_force
from services.db import UtcDateTime
from services.pagination import PageParams, decode_cursor, encode_cursor

# Seconds before each attempt, counted from the failure before it (the first is at once).
RETRY_DELAYS: tuple[int, ...] = (0, 5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400)
JITTER = 0.2
MAX_RETRY_AFTER = timedelta(hours=24)
UNSETTLED = ("pending", "failed")


def ordering_of(event: Envelope) -> tuple[str, int]:
    """Which events must keep their order (one ticket's), and where this one falls."""
    resource_id = event.data.get("id")
    if event.type.startswith("ticket.") and isinstance(resource_id, str):
        version = event.data.get("version")
        return f"ticket:{resource_id}"[:100], version if isinstance(version, int) and version >= 0 else 0
    return f"event:{event.id}", 0


async def fan_out(session: AsyncSession, *, events: Sequence[Envelope], now: datetime) -> int:
    """One pending delivery per event and matching active subscription, in one bulk INSERT."""
    subscriptions = list(
        (await session.execute(select(WebhookSubscription).where(WebhookSubscription.status == "active"))).scalars()
    )
    rows = []
    for event in events:
        key, version = ordering_of(event)
        for subscription in subscriptions:
            if not matches(subscription.event_types, event.type):
                continue
            rows.append(
                {
                    "subscription_id": subscription.id,
                    "event_id": event.id,
                    "event_type": event.type,
                    "ordering_key": key,
                    "ordering_version": version,
                    "status": "pending",
                    "next_attempt_at": now,
                    "created_at": now,
                }
            )
    if rows:
        await session.execute(insert(WebhookDelivery), rows)
    return len(rows)


def delivery_read(delivery: WebhookDelivery) -> dict[str, Any]:
    return {
        "id": str(delivery.id),
        "subscription_id": delivery.subscription_id,
        "event_id": delivery.event_id,
        "event_type": delivery.event_type,
        "status": delivery.status,
        "attempts": delivery.attempts,
        "last_status_code": delivery.last_status_code,
        "last_error": delivery.last_error,
        "last_attempt_at": delivery.last_attempt_at,
        "next_attempt_at": delivery.next_attempt_at if delivery.status in UNSETTLED else None,
        "delivered_at": delivery.delivered_at,
        "created_at": delivery.created_at,
    }


async def list_deliveries(
    session: AsyncSession, *, page: PageParams, subscription_id: str | None, status: str | None
) -> tuple[list[WebhookDelivery], str | None]:
    """Newest first."""
    statement = select(WebhookDelivery).order_by(WebhookDelivery.id.desc())
    if subscription_id is not None:
        statement = statement.where(WebhookDelivery.subscription_id == subscription_id)
    if status is not None:
        statement = statement.where(WebhookDelivery.status == status)
    if page.cursor is not None:
        (before,) = decode_cursor(page.cursor, arity=1)
        statement = statement.where(WebhookDelivery.id < int(before))
    rows = list((await session.execute(statement.limit(page.limit + 1))).scalars())
    if len(rows) <= page.limit:
        return rows, None
    return rows[: page.limit], encode_cursor([rows[page.limit - 1].id])


async def get_delivery(session: AsyncSession, *, delivery_id: str, for_update: bool = False) -> WebhookDelivery:
    delivery = None
    if delivery_id.isascii() and delivery_id.isdigit() and len(delivery_id) < 19:
        statement = select(WebhookDelivery).where(WebhookDelivery.id == int(delivery_id))
        delivery = (await session.execute(statement.with_for_update() if for_update else statement)).scalar()
    if delivery is None:
        raise DeliveryNotFound(delivery_id)
    return delivery


async def attempt_log(session: AsyncSession, *, delivery_id: int) -> list[WebhookAttempt]:
    statement = select(WebhookAttempt).where(WebhookAttempt.delivery_id == delivery_id).order_by(WebhookAttempt.id)
    return list((await session.execute(statement)).scalars())


async def redeliver(session: AsyncSession, *, delivery_id: str, now: datetime) -> WebhookDelivery:
    """Send the event again, at once, with the same event id, signed with the current secret."""
    delivery = await get_delivery(session, delivery_id=delivery_id, for_update=True)
    if delivery.locked_until is not None and delivery.locked_until > now:
        # Clearing the lease would leave the attempt under way unable to settle.
        raise DeliveryInFlight(delivery_id)
    delivery.status = "pending"
    delivery.round_attempts = 0
    delivery.next_attempt_at = now
    delivery.next_trigger = "redeliver"
    delivery.locked_until = None
    delivery.lease_token = None
    await session.flush()
    return delivery


@dataclass(frozen=True, slots=True)
class Claim:
    """A delivery a worker holds a lease on, with what it needs to send it."""

    delivery_id: int
    lease_token: str
    subscription_id: str
    url: str
    secrets: tuple[str, ...]
    envelope: dict[str, Any]
    number: int
    trigger: str


def ids_in(column: Any, name: str, *, dialect: str) -> Any:
    """`column IN :name` for a list of ids. On PostgreSQL `= ANY(:name)`: one statement text
    and one array parameter however many ids, where an expanded IN is rendered anew on every
    execution (a twentieth of the worker's CPU) and prepared again for every new length."""
    if dialect == "postgresql":
        return column == any_(bindparam(name, type_=ARRAY(BigInteger())))
    return column.in_(bindparam(name, expanding=True))


def _unleased_due(now: Any, delivery: Any = WebhookDelivery) -> Any:
    return and_(
        delivery.status.in_(UNSETTLED),
        delivery.next_attempt_at <= now,
        or_(delivery.locked_until.is_(None), delivery.locked_until <= now),
    )


def _no_earlier_unsettled() -> Any:
    """No earlier event of the delivery's ticket to its subscription is still unsettled."""
    earlier = aliased(WebhookDelivery)
    # A scalar subquery rather than NOT EXISTS: the database then probes the ordering index
    # for each row the claim looks at, instead of joining every unsettled delivery first.
    first_earlier = (
        select(earlier.id)
        .where(
            earlier.subscription_id == WebhookDelivery.subscription_id,
            earlier.ordering_key == WebhookDelivery.ordering_key,
            earlier.status.in_(UNSETTLED),
            or_(
                earlier.ordering_version < WebhookDelivery.ordering_version,
                and_(earlier.ordering_version == WebhookDelivery.ordering_version, earlier.id < WebhookDelivery.id),
            ),
        )
        .limit(1)
        .scalar_subquery()
    )
    return first_earlier.is_(None)


def _due(now: Any) -> Any:
    return and_(_unleased_due(now), WebhookSubscription.status == "active", _no_earlier_unsettled())


# How many deliveries at the head of the queue a claim locks and checks for earlier events of
# their tickets, per delivery it takes: the ordering check then runs on the queue's head only.
CLAIM_WINDOW = 2


@functools.cache
def _queue_head(window: int) -> Any:
    """The first `window` unleased due deliveries of active subscriptions that no other claim
    holds, locked. Built once per window and reused; the instant is the `now` parameter."""
    now = bindparam("now", type_=UtcDateTime())
    return (
        select(WebhookDelivery.id)
        .join(WebhookSubscription, WebhookSubscription.id == WebhookDelivery.subscription_id)
        .where(_unleased_due(now), WebhookSubscription.status == "active")
        .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
        .limit(window)
        .with_for_update(skip_locked=True, of=WebhookDelivery)
    )


# The envelope as stored: a claim sends each event to every subscription, and decodes it once.
_ENVELOPE_TEXT = cast(ReceivedEvent.envelope, Text).label("envelope_text")
# Beside each claimed delivery: where it goes, what signs it, and the event.
_SENDING_COLUMNS = (
    WebhookSubscription.id.label("subscription_id"),
    WebhookSubscription.url,
    WebhookSubscription.secret,
    WebhookSubscription.previous_secret,
    WebhookSubscription.previous_secret_expires_at,
    _ENVELOPE_TEXT,
)


def _claim_columns() -> Any:
    return (
        select(
            WebhookDelivery.id,
            WebhookDelivery.attempts,
            WebhookDelivery.next_trigger,
            *_SENDING_COLUMNS,
        )
        .join_from(WebhookDelivery, WebhookSubscription, WebhookSubscription.id == WebhookDelivery.subscription_id)
        .join(ReceivedEvent, ReceivedEvent.event_id == WebhookDelivery.event_id)
    )


@functools.cache
def _among_head_statement(dialect: str) -> Any:
    """What sending the `head` deliveries needs, for those whose ticket has no earlier event
    unsettled. The head is locked and due already: no queue condition, no order, no limit.
    The deliveries are picked first, by primary key, in a materialised CTE, and only then
    joined: a planner with stale statistics (one active subscription, a near-empty queue)
    otherwise walked every delivery of each subscription, or the whole queue index, and
    filtered the head out of them (50 ms to over a second a claim)."""
    chosen = (
        select(
            WebhookDelivery.id,
            WebhookDelivery.attempts,
            WebhookDelivery.next_trigger,
            WebhookDelivery.subscription_id,
            WebhookDelivery.event_id,
        )
        .where(ids_in(WebhookDelivery.id, "head", dialect=dialect), _no_earlier_unsettled())
        .cte("chosen")
        .prefix_with("MATERIALIZED")
    )
    return (
        select(
            chosen.c.id,
            chosen.c.attempts,
            chosen.c.next_trigger,
            *_SENDING_COLUMNS,
        )
        .join_from(chosen, WebhookSubscription, WebhookSubscription.id == chosen.c.subscription_id)
        .join(ReceivedEvent, ReceivedEvent.event_id == chosen.c.event_id)
        .where(WebhookSubscription.status == "active")
    )


@functools.cache
def _whole_queue_statement(limit: int) -> Any:
    """Due deliveries with what sending them needs, in the whole queue. Built once per batch
    size and reused (building it costs more than running it)."""
    now = bindparam("now", type_=UtcDateTime())
    return (
        _claim_columns()
        .where(_due(now))
        .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
        .limit(limit)
        .with_for_update(skip_locked=True, of=WebhookDelivery)
    )


@functools.cache
def _lease_statement(dialect: str) -> Any:
    return (
        update(WebhookDelivery)
        .where(ids_in(WebhookDelivery.id, "claimed", dialect=dialect))
        .values(locked_until=bindparam("until", type_=UtcDateTime()), lease_token=bindparam("token"))
    )


# The queue is read in index order only. Without this, a planner whose statistics predate a
# burst (the table analysed when nothing was pending, or never) estimates a handful of due
# rows and bitmap-scans and sorts the whole due queue, dead index entries included, on every
# claim: PostgreSQL's time per claim grew with the backlog (30-50 ms for a head of 200).
_QUEUE_ORDER_ONLY = text("SELECT set_config('enable_bitmapscan', 'off', true), set_config('enable_sort', 'off', true)")


async def claim_due(session: AsyncSession, *, now: datetime, limit: int, lease: timedelta) -> list[Claim]:
    """Lease up to `limit` due deliveries. On PostgreSQL the rows are taken FOR UPDATE SKIP
    LOCKED, so workers claiming at once get different rows; SQLite's write sessions BEGIN
    IMMEDIATE, so there one claim runs at a time. The head of the queue is locked and checked
    first; only when so many of it wait for earlier events of their tickets that it yields less
    than a full batch is the whole queue checked, so that no ticket waits behind another's.
    One lease token covers the claim's rows (a row claimed again gets another). Plain rows, no
    ORM objects: a claim is on every delivery's path. The caller commits."""
    window = limit * CLAIM_WINDOW
    connection = await session.connection()
    dialect = connection.dialect.name
    if dialect == "postgresql":
        await connection.execute(_QUEUE_ORDER_ONLY)
    head = list((await connection.execute(_queue_head(window), {"now": now})).scalars())
    if not head:
        return []
    place = {delivery_id: n for n, delivery_id in enumerate(head)}
    rows = sorted(
        (await connection.execute(_among_head_statement(dialect), {"head": head})).all(), key=lambda r: place[r.id]
    )
    rows = rows[:limit]
    if len(rows) < limit and len(head) == window:
        rows = list((await connection.execute(_whole_queue_statement(limit), {"now": now})).all())
    if not rows:
        return []
    token = str(uuid.uuid4())
    envelopes: dict[str, dict[str, Any]] = {}
    for row in rows:
        if row.envelope_text not in envelopes:
            envelopes[row.envelope_text] = pydantic_core.from_json(row.envelope_text)
    await connection.execute(
        _lease_statement(dialect), {"claimed": [row.id for row in rows], "until": now + lease, "token": token}
    )
    return [
        Claim(
            delivery_id=row.id,
            lease_token=token,
            subscription_id=row.subscription_id,
            url=row.url,
            secrets=tuple(secrets_in_force(row, now)),
            envelope=envelopes[row.envelope_text],
            number=row.attempts + 1,
            trigger=row.next_trigger,
        )
        for row in rows
    ]


async def backlog(session: AsyncSession, *, now: datetime) -> tuple[dict[str, int], float]:
    """Unsettled deliveries by status, and how long the most overdue one has been due (0 when none)."""
    by_status = dict.fromkeys(UNSETTLED, 0)
    rows = await session.execute(
        select(WebhookDelivery.status, func.count(), func.min(WebhookDelivery.next_attempt_at))
        .where(WebhookDelivery.status.in_(UNSETTLED))
        .group_by(WebhookDelivery.status)
    )
    earliest: datetime | None = None
    for status, count, due in rows:
        by_status[status] = int(count)
        if due is not None and (earliest is None or due < earliest):
            earliest = due
    overdue = max(0.0, (now - earliest).total_seconds()) if earliest is not None else 0.0
    return by_status, overdue


def next_delay(round_attempts: int, *, rng: random.Random, retry_after: timedelta | None) -> timedelta | None:
    """When to try again after the `round_attempts`-th failed attempt; None once they are spent."""
    if round_attempts >= len(RETRY_DELAYS):
        return None
    base = RETRY_DELAYS[round_attempts]
    delay = timedelta(seconds=base * rng.uniform(1 - JITTER, 1 + JITTER))
    if retry_after is not None:
        delay = max(delay, min(retry_after, MAX_RETRY_AFTER))
    return delay


async def reschedule_unsent(session: AsyncSession, *, claim: Claim) -> None:
    """Give a claim back untouched (its subscription changed while it was held)."""
    await session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id == claim.delivery_id, WebhookDelivery.lease_token == claim.lease_token)
        .values(locked_until=None, lease_token=None)
    )
