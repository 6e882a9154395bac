"""Webhook subscriptions: who receives which events, and the secrets that sign them.

Domain functions `flush()`; the request's session commits."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from notification_service.errors import SubscriptionNotFound, SubscriptionStateConflict, UrlNotAllowed
from notification_service.models import WebhookDelivery, WebhookSubscription
from notification_service.schemas import SubscriptionCreate, SubscriptionUpdate
from notification_service.settings import NotificationSettings
from notification_service.signing import new_secret
from notification_service.ssrf import RefusedUrl, Resolver, check_url, resolve
from services.auth import Principal
from services.pagination import PageParams, decode_cursor, encode_cursor

RESENDABLE = ("failed", "dead")


def matches(patterns: Sequence[str], event_type: str) -> bool:
    """`*` matches everything, `ticket.*` every `ticket.` type, anything else itself."""
    for pattern in patterns:
        if pattern == "*" or pattern == event_type:
            return True
        if pattern.endswith(".*") and event_type.startswith(pattern[:-1]):
            return True
    return False


class SigningSecrets(Protocol):
    """A subscription's secrets: the ORM row, or the plain row a worker's claim reads."""

    @property
    def secret(self) -> str: ...
    @property
    def previous_secret(self) -> str | None: ...
    @property
    def previous_secret_expires_at(self) -> datetime | None: ...


def secrets_in_force(subscription: SigningSecrets, now: datetime) -> list[str]:
    """The current secret, and during a rotation's grace period the previous one too."""
    in_force = [subscription.secret]
    expires = subscription.previous_secret_expires_at
    if subscription.previous_secret and expires is not None and now < expires:
        in_force.append(subscription.previous_secret)
    return in_force


async def ensure_url_allowed(url: str, *, settings: NotificationSettings, resolver: Resolver = resolve) -> None:
    """In production, refuse an endpoint inside the platform's networks (SSRF)."""
    if not settings.is_production:
        return
    try:
        await check_url(url, allowed_hosts=settings.webhook_allowed_hosts, resolver=resolver)
    except RefusedUrl as exc:
        raise UrlNotAllowed(url, str(exc)) from exc


def subscription_read(subscription: WebhookSubscription, now: datetime) -> dict[str, Any]:
    expires = subscription.previous_secret_expires_at
    return {
        "id": subscription.id,
        "url": subscription.url,
        "event_types": list(subscription.event_types),
        "description": subscription.description,
        "status": subscription.status,
        "disabled_reason": subscription.disabled_reason,
        "previous_secret_expires_at": expires if expires is not None and expires > now else None,
        "created_at": subscription.created_at,
        "updated_at": subscription.updated_at,
    }


async def create_subscription(
    session: AsyncSession,
    *,
    data: SubscriptionCreate,
    principal: Principal,
    settings: NotificationSettings,
    now: datetime,
) -> WebhookSubscription:
    await ensure_url_allowed(data.url, settings=settings)
    subscription = WebhookSubscription(
        id=str(uuid.uuid4()),
        url=data.url,
        event_types=list(data.event_types),
        description=data.description,
        status="active",
        secret=new_secret(),
        created_by=principal.subject,
        created_at=now,
        updated_at=now,
    )
    session.add(subscription)
    await session.flush()
    return subscription


async def get_subscription(
    session: AsyncSession, *, subscription_id: str, for_update: bool = False
) -> WebhookSubscription:
    statement = select(WebhookSubscription).where(WebhookSubscription.id == subscription_id)
    if for_update:
        statement = statement.with_for_update()
    subscription = (await session.execute(statement)).scalar_one_or_none()
    if subscription is None:
        raise SubscriptionNotFound(subscription_id)
    return subscription


async def list_subscriptions(
    session: AsyncSession, *, page: PageParams, status: str | None
) -> tuple[list[WebhookSubscription], str | None]:
    statement = select(WebhookSubscription).order_by(WebhookSubscription.created_at, WebhookSubscription.id)
    if status is not None:
        statement = statement.where(WebhookSubscription.status == status)
    if page.cursor is not None:
        created_at, last_id = decode_cursor(page.cursor, arity=2)
        after = datetime.fromisoformat(str(created_at))
        statement = statement.where(
            (WebhookSubscription.created_at > after)
            | ((WebhookSubscription.created_at == after) & (WebhookSubscription.id > str(last_id)))
        )
    rows = list((await session.execute(statement.limit(page.limit + 1))).scalars())
    if len(rows) <= page.limit:
        return rows, None
    last = rows[page.limit - 1]
    return rows[: page.limit], encode_cursor([last.created_at.isoformat(), last.id])


async def update_subscription(
    session: AsyncSession,
    *,
    subscription_id: str,
    data: SubscriptionUpdate,
    settings: NotificationSettings,
    now: datetime,
) -> WebhookSubscription:
    subscription = await get_subscription(session, subscription_id=subscription_id, for_update=True)
    if data.url is not None:
        await ensure_url_allowed(data.url, settings=settings)
        subscription.url = data.url
    if data.event_types is not None:
        subscription.event_types = list(data.event_types)
    if data.description is not None:
        subscription.description = data.description
    subscription.updated_at = now
    await session.flush()
    return subscription


async def rotate_secret(
    session: AsyncSession, *, subscription_id: str, grace: timedelta, now: datetime
) -> tuple[WebhookSubscription, str]:
    """A new secret; the one it replaces signs too until `now + grace`."""
    subscription = await get_subscription(session, subscription_id=subscription_id, for_update=True)
    secret = new_secret()
    subscription.previous_secret = subscription.secret if grace > timedelta(0) else None
    subscription.previous_secret_expires_at = now + grace if grace > timedelta(0) else None
    subscription.secret = secret
    subscription.updated_at = now
    await session.flush()
    return subscription, secret


def disable(subscription: WebhookSubscription, *, reason: str, now: datetime) -> None:
    subscription.status = "disabled"
    subscription.disabled_reason = reason
    subscription.updated_at = now


async def set_enabled(
    session: AsyncSession, *, subscription_id: str, enabled: bool, now: datetime
) -> WebhookSubscription:
    subscription = await get_subscription(session, subscription_id=subscription_id, for_update=True)
    wanted = "active" if enabled else "disabled"
    if subscription.status == wanted:
        raise SubscriptionStateConflict(subscription_id, subscription.status, "enabled" if enabled else "disabled")
    if enabled:
        subscription.status = "active"
        subscription.disabled_reason = None
        # A fresh start: the five days of failures count from the next failure.
        subscription.failing_since = None
        subscription.updated_at = now
    else:
        disable(subscription, reason="disabled by an admin", now=now)
    await session.flush()
    return subscription


async def recover(session: AsyncSession, *, subscription_id: str, since: datetime, now: datetime) -> int:
    """Queue again every failed or dead delivery created since `since`, its schedule restarted."""
    await get_subscription(session, subscription_id=subscription_id)
    result = await session.execute(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.subscription_id == subscription_id,
            WebhookDelivery.status.in_(RESENDABLE),
            WebhookDelivery.created_at >= since,
            # One being sent right now settles by itself; clearing its lease would orphan the attempt.
            or_(WebhookDelivery.locked_until.is_(None), WebhookDelivery.locked_until <= now),
        )
        .values(
            status="pending",
            round_attempts=0,
            next_attempt_at=now,
            next_trigger="recover",
            locked_until=None,
            lease_token=None,
        )
        .execution_options(synchronize_session=False)
    )
    await session.flush()
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
