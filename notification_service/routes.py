"""Notification-service endpoints: the relay's internal intake, webhook subscriptions and
their delivery log (admin), and each person's inbox."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Depends, Path, Query, Request, Response

from notification_service import deliveries, hotline_routes, inbox, service, subscriptions
from notification_service.schemas import (
    BatchReceipt,
    DeliveryDetail,
    DeliveryRead,
    DeliveryStatus,
    EventBatch,
    InboxEntryRead,
    InboxPage,
    ReadAllReceipt,
    Recover,
    RecoverReceipt,
    RotateSecret,
    SecretRotated,
    SubscriptionCreate,
    SubscriptionCreated,
    SubscriptionRead,
    SubscriptionStatus,
    SubscriptionUpdate,
)
from notification_service.settings import NotificationSettings
from services.auth import AdminPrincipal, Principal, Role, require_roles
from services.db import SessionDep, utcnow
from services.errors import problem_responses
from services.internal import InternalCaller
from services.pagination import Page, PageDep
from services.responses import locate

READ = problem_responses(400, 401, 403, 404, 422)
LIST = problem_responses(400, 401, 403, 422)
WRITE = problem_responses(400, 401, 403, 404, 409, 422)
CREATE = problem_responses(400, 401, 403, 422)

# Ids are printable ASCII: PostgreSQL refuses a NUL in a text parameter, and that must be a 422, not a 500.
ID_PATTERN = r"^[!-~]{1,36}$"
SubscriptionIdPath = Annotated[str, Path(pattern=ID_PATTERN, description="Subscription id")]
DeliveryIdPath = Annotated[str, Path(max_length=20, description="Delivery id")]
EntryIdPath = Annotated[str, Path(max_length=20, description="Inbox entry id")]
InboxReader = Annotated[
    Principal,
    Depends(require_roles(Role.ENTERPRISE, Role.STAFF, Role.DISPATCHER, Role.SUPERVISOR, Role.ADMIN)),
]

# Not in the public document: the gateway does not route /internal; only services call it.
internal = APIRouter(prefix="/internal", tags=["internal"], include_in_schema=False)


def _settings(request: Request) -> NotificationSettings:
    settings: NotificationSettings = request.state.settings
    return settings


@internal.post("/events", response_model=BatchReceipt, responses=problem_responses(400, 401, 422))
async def receive_events(
    _: InternalCaller, request: Request, session: SessionDep, body: EventBatch, background: BackgroundTasks
) -> BatchReceipt:
    """Store relayed events once each, with their deliveries and inbox entries (internal: X-Internal-Token)."""
    received, duplicates = await service.store_events(session, events=body.events, now=utcnow())
    if received:
        # After the response, so after the commit: the worker need not wait for its next tick.
        background.add_task(service.nudge_delivery_worker, request.state.delivery_queue)
    return BatchReceipt(received=received, duplicates=duplicates)


# Webhook subscriptions (admin)

webhooks = APIRouter(prefix="/api/v1", tags=["webhooks"])


@webhooks.post("/webhook-subscriptions", status_code=201, response_model=SubscriptionCreated, responses=CREATE)
async def create_subscription(
    request: Request, response: Response, session: SessionDep, principal: AdminPrincipal, body: SubscriptionCreate
) -> Any:
    """Subscribe an endpoint to events (admin); the signing secret is shown this once."""
    now = utcnow()
    created = await subscriptions.create_subscription(
        session, data=body, principal=principal, settings=_settings(request), now=now
    )
    locate(request, response, created.id)
    return {**subscriptions.subscription_read(created, now), "secret": created.secret}


@webhooks.get("/webhook-subscriptions", response_model=Page[SubscriptionRead], responses=LIST)
async def list_subscriptions(
    session: SessionDep, _: AdminPrincipal, page: PageDep, status: SubscriptionStatus | None = None
) -> Any:
    """List webhook subscriptions, oldest first (admin)."""
    rows, next_cursor = await subscriptions.list_subscriptions(session, page=page, status=status)
    now = utcnow()
    return {"items": [subscriptions.subscription_read(row, now) for row in rows], "next_cursor": next_cursor}


@webhooks.get("/webhook-subscriptions/{subscription_id}", response_model=SubscriptionRead, responses=READ)
async def get_subscription(session: SessionDep, _: AdminPrincipal, subscription_id: SubscriptionIdPath) -> Any:
    """Get one webhook subscription, without its secret (admin)."""
    row = await subscriptions.get_subscription(session, subscription_id=subscription_id)
    return subscriptions.subscription_read(row, utcnow())


@webhooks.patch("/webhook-subscriptions/{subscription_id}", response_model=SubscriptionRead, responses=WRITE)
async def update_subscription(
    request: Request,
    session: SessionDep,
    _: AdminPrincipal,
    subscription_id: SubscriptionIdPath,
    body: SubscriptionUpdate,
) -> Any:
    """Change a subscription's URL, event types or description (admin)."""
    now = utcnow()
    row = await subscriptions.update_subscription(
        session, subscription_id=subscription_id, data=body, settings=_settings(request), now=now
    )
    return subscriptions.subscription_read(row, now)


@webhooks.post("/webhook-subscriptions/{subscription_id}/rotate-secret", response_model=SecretRotated, responses=WRITE)
async def rotate_subscription_secret(
    request: Request,
    session: SessionDep,
    _: AdminPrincipal,
    subscription_id: SubscriptionIdPath,
    body: RotateSecret | None = None,
) -> Any:
    """Replace the signing secret (admin); the old one still signs for the grace period (default 24 h)."""
    seconds = body.grace_seconds if body and body.grace_seconds is not None else None
    grace = timedelta(seconds=_settings(request).webhook_secret_grace_seconds if seconds is None else seconds)
    row, secret = await subscriptions.rotate_secret(session, subscription_id=subscription_id, grace=grace, now=utcnow())
    return {"id": row.id, "secret": secret, "previous_secret_expires_at": row.previous_secret_expires_at}


@webhooks.post("/webhook-subscriptions/{subscription_id}/disable", response_model=SubscriptionRead, responses=WRITE)
async def disable_subscription(session: SessionDep, _: AdminPrincipal, subscription_id: SubscriptionIdPath) -> Any:
    """Stop sending to this endpoint; its deliveries wait (admin)."""
    now = utcnow()
    row = await subscriptions.set_enabled(session, subscription_id=subscription_id, enabled=False, now=now)
    return subscriptions.subscription_read(row, now)


@webhooks.post("/webhook-subscriptions/{subscription_id}/enable", response_model=SubscriptionRead, responses=WRITE)
async def enable_subscription(session: SessionDep, _: AdminPrincipal, subscription_id: SubscriptionIdPath) -> Any:
    """Resume sending to this endpoint, waiting deliveries first (admin)."""
    now = utcnow()
    row = await subscriptions.set_enabled(session, subscription_id=subscription_id, enabled=True, now=now)
    return subscriptions.subscription_read(row, now)


@webhooks.post("/webhook-subscriptions/{subscription_id}/recover", response_model=RecoverReceipt, responses=WRITE)
async def recover_subscription(
    session: SessionDep, _: AdminPrincipal, subscription_id: SubscriptionIdPath, body: Recover
) -> Any:
    """Resend every failed or dead delivery since `since`, with the current secret (admin)."""
    count = await subscriptions.recover(session, subscription_id=subscription_id, since=body.since, now=utcnow())
    return {"requeued": count}


# The delivery log (admin)


@webhooks.get("/webhook-deliveries", response_model=Page[DeliveryRead], responses=LIST)
async def list_deliveries(
    session: SessionDep,
    _: AdminPrincipal,
    page: PageDep,
    subscription_id: Annotated[str | None, Query(pattern=ID_PATTERN)] = None,
    status: DeliveryStatus | None = None,
) -> Any:
    """List deliveries, newest first, by subscription and status (admin)."""
    rows, next_cursor = await deliveries.list_deliveries(
        session, page=page, subscription_id=subscription_id, status=status
    )
    return {"items": [deliveries.delivery_read(row) for row in rows], "next_cursor": next_cursor}


@webhooks.get("/webhook-deliveries/{delivery_id}", response_model=DeliveryDetail, responses=READ)
async def get_delivery(session: SessionDep, _: AdminPrincipal, delivery_id: DeliveryIdPath) -> Any:
    """Get one delivery with every attempt: time, status code, latency, answer, error (admin)."""
    row = await deliveries.get_delivery(session, delivery_id=delivery_id)
    attempts = await deliveries.attempt_log(session, delivery_id=row.id)
    log = [
        {
            "number": a.number,
            "trigger": a.trigger,
            "started_at": a.started_at,
            "status_code": a.status_code,
            "latency_ms": a.latency_ms,
            "response_excerpt": a.response_excerpt,
            "error": a.error,
        }
        for a in attempts
    ]
    return {**deliveries.delivery_read(row), "attempt_log": log}


@webhooks.post(
    "/webhook-deliveries/{delivery_id}/redeliver", status_code=202, response_model=DeliveryRead, responses=WRITE
)
async def redeliver_delivery(session: SessionDep, _: AdminPrincipal, delivery_id: DeliveryIdPath) -> Any:
    """Send the event again now, same event id, current secret (admin)."""
    row = await deliveries.redeliver(session, delivery_id=delivery_id, now=utcnow())
    return deliveries.delivery_read(row)


# The inbox (the caller's own)

inbox_router = APIRouter(prefix="/api/v1", tags=["inbox"])


async def reached(request: Request, principal: InboxReader) -> list[str]:
    """The audiences the caller's inbox gathers; an enterprise's size comes from the ticket
    service, kept a few minutes per enterprise (sizes change rarely)."""
    if principal.role != Role.ENTERPRISE or not principal.enterprise_id:
        return inbox.audiences(principal)
    sizes: dict[str, tuple[str | None, float]] = request.state.enterprise_sizes
    cached = sizes.get(principal.enterprise_id)
    now = time.monotonic()
    if cached is None or cached[1] < now:
        authorization = request.headers.get("authorization", "")
        size = await request.state.tickets.enterprise_size(principal.enterprise_id, authorization=authorization)
        cached = (size, now + (SIZE_CACHE_SECONDS if size else 5))
        sizes[principal.enterprise_id] = cached
    return inbox.audiences(principal, enterprise_size=cached[0])


SIZE_CACHE_SECONDS = 300
Reached = Annotated[list[str], Depends(reached)]


@inbox_router.get("/inbox", response_model=InboxPage, responses=LIST)
async def list_inbox_entries(
    session: SessionDep,
    principal: InboxReader,
    audiences: Reached,
    page: PageDep,
    unread: Annotated[bool, Query(description="Only unread entries.")] = False,
) -> Any:
    """The caller's notifications, newest first, with the unread count (any person)."""
    items, next_cursor, unread_count = await inbox.list_inbox(
        session, principal=principal, reached=audiences, page=page, unread_only=unread
    )
    return {"items": items, "next_cursor": next_cursor, "unread": unread_count}


@inbox_router.post("/inbox/read-all", response_model=ReadAllReceipt, responses=LIST)
async def mark_inbox_read(session: SessionDep, principal: InboxReader, audiences: Reached) -> Any:
    """Mark every notification in the caller's inbox read, for the caller only (any person)."""
    await inbox.mark_all_read(session, principal=principal, reached=audiences)
    return {"unread": 0}


@inbox_router.post("/inbox/{entry_id}/read", response_model=InboxEntryRead, responses=READ)
async def mark_inbox_entry_read(
    session: SessionDep, principal: InboxReader, audiences: Reached, entry_id: EntryIdPath
) -> Any:
    """Mark one of the caller's notifications read (any person)."""
    return await inbox.mark_read(session, principal=principal, reached=audiences, entry_id=entry_id)


routers = [internal, webhooks, inbox_router, hotline_routes.router]
