"""Plain helpers for the notification tests: subscriptions through the API, events as the
relay posts them, and the relay itself run by hand over the in-process platform."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.settings import SharedSettings
from tests.conftest import Platform
from ticket_service.models import OutboxEvent

API = "/api/v1"


def internal_headers() -> dict[str, str]:
    return {"X-Internal-Token": SharedSettings().internal_token.get_secret_value()}


def ticket_event(
    event_type: str,
    *,
    ticket_id: str | None = None,
    version: int = 1,
    event_id: str | None = None,
    **data: Any,
) -> dict[str, Any]:
    """An envelope as the relay posts it; `data` is the ticket (the fields the tests need)."""
    ticket = {
        "id": ticket_id or str(uuid.uuid4()),
        "number": "T20261201000001",
        "status": "submitted",
        "enterprise_id": None,
        "department_code": "jxw",
        "co_department_codes": [],
        "title": "节能改造补贴申报进度",
        "description": "请问进度",
        "result": None,
        "explanation": None,
        "version": version,
        **data,
    }
    return {
        "id": event_id or str(uuid.uuid4()),
        "type": event_type,
        "occurred_at": datetime.now(UTC).isoformat(),
        "data": ticket,
    }


def notifications_client(platform: Platform) -> httpx.AsyncClient:
    """The notification service directly (the gateway does not route /internal)."""
    transport = httpx.ASGITransport(app=platform.upstreams["notifications"])
    return httpx.AsyncClient(transport=transport, base_url="http://notifications")


async def post_events(platform: Platform, *events: dict[str, Any]) -> dict[str, Any]:
    async with notifications_client(platform) as client:
        response = await client.post("/internal/events", json={"events": list(events)}, headers=internal_headers())
    assert response.status_code == 200, response.text
    return dict(response.json())


async def relay(platform: Platform, session: AsyncSession) -> int:
    """What the SLA worker's relay does: the unpublished outbox events to /internal/events."""
    rows = list(
        (await session.execute(select(OutboxEvent).where(OutboxEvent.published_at.is_(None)).order_by(OutboxEvent.seq)))
        .scalars()
        .all()
    )
    if not rows:
        return 0
    await post_events(platform, *(row.envelope for row in rows))
    for row in rows:
        row.published_at = datetime.now(UTC)
    await session.flush()
    return len(rows)


async def subscribe(
    platform: Platform, *, url: str = "https://erp.example.com/hooks", event_types: list[str] | None = None
) -> dict[str, Any]:
    body = {"url": url, "event_types": event_types or ["ticket.*"], "description": "ERP"}
    response = await platform.client.post(
        f"{API}/webhook-subscriptions", json=body, headers=await platform.auth("admin")
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


async def deliveries(platform: Platform, subscription_id: str, **params: Any) -> list[dict[str, Any]]:
    response = await platform.client.get(
        f"{API}/webhook-deliveries",
        params={"subscription_id": subscription_id, "limit": 100, **params},
        headers=await platform.auth("admin"),
    )
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


async def inbox(platform: Platform, username: str, **params: Any) -> dict[str, Any]:
    response = await platform.client.get(f"{API}/inbox", params=params, headers=await platform.auth(username))
    assert response.status_code == 200, response.text
    return dict(response.json())
