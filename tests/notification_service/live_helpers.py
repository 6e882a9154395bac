"""Helpers for the tests against the live platform: subscribe through the gateway, post events
as the relay does, drive the worker's batches with a bounded number of rounds."""

from __future__ import annotations

from collections import Counter
from typing import Any

import httpx

from notification_service.worker import run_batch
from tests.live_platform import LivePlatform
from tests.notification_service.helpers import API, internal_headers


async def live_subscribe(gateway: httpx.AsyncClient, url: str, event_types: list[str] | None = None) -> dict[str, Any]:
    body = {"url": url, "event_types": event_types or ["ticket.*"], "description": "receiver"}
    response = await gateway.post(f"{API}/webhook-subscriptions", json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def live_post_events(live: LivePlatform, *events: dict[str, Any]) -> None:
    async with httpx.AsyncClient(base_url=live.notification_url, timeout=30) as client:
        response = await client.post("/internal/events", json={"events": list(events)}, headers=internal_headers())
    assert response.status_code == 200, response.text


async def live_deliveries(gateway: httpx.AsyncClient, subscription_id: str) -> list[dict[str, Any]]:
    response = await gateway.get(f"{API}/webhook-deliveries", params={"subscription_id": subscription_id, "limit": 100})
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


async def only_delivery(gateway: httpx.AsyncClient, subscription_id: str) -> dict[str, Any]:
    (delivery,) = await live_deliveries(gateway, subscription_id)
    response = await gateway.get(f"{API}/webhook-deliveries/{delivery['id']}")
    assert response.status_code == 200, response.text
    return dict(response.json())


async def live_subscription(gateway: httpx.AsyncClient, subscription_id: str) -> dict[str, Any]:
    response = await gateway.get(f"{API}/webhook-subscriptions/{subscription_id}")
    assert response.status_code == 200, response.text
    return dict(response.json())


async def batch(ctx: dict[str, Any]) -> Counter[str]:
    return await run_batch(ctx)
