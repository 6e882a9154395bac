"""Two actions on one ticket at the same moment, between real servers: exactly one wins."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from tests.live_platform import LivePlatform
from tests.support import bearer, login

pytestmark = pytest.mark.live


async def _token(client: httpx.AsyncClient, username: str) -> dict[str, str]:
    return bearer(await login(client, username))


async def test_concurrent_actions_on_one_ticket_have_one_winner(live: LivePlatform) -> None:
    async with httpx.AsyncClient(base_url=live.gateway_url, timeout=30) as client:
        enterprise = await _token(client, "enterprise-1")
        order = await client.post(
            "/api/v1/orders", json={"items": [{"item_code": "LS-001", "note": "并发"}]}, headers=enterprise
        )
        assert order.status_code == 201, order.text
        ticket = order.json()["tickets"][0]
        staff = await _token(client, "staff-jxw")
        url = f"/api/v1/tickets/{ticket['id']}/accept"
        responses = await asyncio.gather(
            *(client.post(url, json={"note": f"受理 {n}"}, headers=staff) for n in range(6))
        )
        statuses = sorted(response.status_code for response in responses)
        assert statuses.count(200) == 1, [(r.status_code, r.text[:200]) for r in responses]
        assert all(status == 409 for status in statuses if status != 200)
        events = await client.get(f"/api/v1/tickets/{ticket['id']}/events", headers=staff)
        assert [event["action"] for event in events.json()] == ["create", "accept"]
        current = await client.get(f"/api/v1/tickets/{ticket['id']}", headers=staff)
        assert current.json()["version"] == 2


async def test_concurrent_retries_with_one_key_create_one_order(live: LivePlatform) -> None:
    async with httpx.AsyncClient(base_url=live.gateway_url, timeout=30) as client:
        enterprise = {**await _token(client, "enterprise-2"), "Idempotency-Key": "concurrent-key-1"}
        body = {"items": [{"item_code": "LS-001", "note": "重试"}]}
        responses = await asyncio.gather(
            *(client.post("/api/v1/orders", json=body, headers=enterprise) for _ in range(4))
        )
        created = [r for r in responses if r.status_code == 201]
        assert created, [(r.status_code, r.text[:200]) for r in responses]
        assert all(r.status_code in (201, 409) for r in responses)
        assert len({r.json()["id"] for r in created}) == 1
        mine = await client.get("/api/v1/tickets", params={"q": "重试"}, headers=enterprise)
        assert len([t for t in mine.json()["items"] if t["description"] == "重试"]) == 1
