"""Nothing is lost and nothing is doubled: idempotent orders, a dead catalogue, a failure halfway."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession

from services.db import utcnow
from tests.conftest import Platform
from tests.ticket_service.helpers import count
from ticket_service import outbox
from ticket_service.catalog_client import CatalogClient
from ticket_service.context import TicketContext
from ticket_service.dependencies import get_ticket_context
from ticket_service.errors import CatalogUnavailable
from ticket_service.models import IdempotencyKey, Order, OutboxEvent, Ticket, TicketEvent

ORDER = {"items": [{"item_code": "LS-001", "note": "节能改造"}, {"item_code": "KJ-001", "note": ""}]}


async def _order(
    platform: Platform, body: dict[str, object], key: str | None, user: str = "enterprise-1"
) -> httpx.Response:
    headers = await platform.auth(user)
    if key is not None:
        headers["Idempotency-Key"] = key
    return await platform.client.post("/api/v1/orders", json=body, headers=headers)


async def test_a_replayed_order_returns_the_same_result_and_creates_nothing(
    platform: Platform, session: AsyncSession
) -> None:
    first = await _order(platform, ORDER, "order-abc")
    assert first.status_code == 201
    tickets_after_first = await count(session, Ticket)
    again = await _order(platform, ORDER, "order-abc")
    assert again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    assert await count(session, Ticket) == tickets_after_first
    assert await count(session, Order) == 1


async def test_the_same_key_with_another_payload_is_422(platform: Platform, session: AsyncSession) -> None:
    assert (await _order(platform, ORDER, "order-xyz")).status_code == 201
    other = {"items": [{"item_code": "LS-001", "note": "another note"}]}
    response = await _order(platform, other, "order-xyz")
    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_reused"
    assert await count(session, Order) == 1


async def test_a_key_in_flight_is_409_until_its_lease_expires(platform: Platform, session: AsyncSession) -> None:
    from ticket_service.idempotency import fingerprint

    request_hash = fingerprint(
        "POST",
        "/api/v1/orders",
        {"items": [{"item_code": "LS-001", "note": "节能改造"}, {"item_code": "KJ-001", "note": ""}]},
    )
    now = utcnow()
    row = IdempotencyKey(
        principal="enterprise-1",
        key="busy-key",
        request_hash=request_hash,
        state="in_flight",
        created_at=now,
        expires_at=now + timedelta(hours=24),
    )
    session.add(row)
    await session.flush()
    busy = await _order(platform, ORDER, "busy-key")
    assert busy.status_code == 409
    assert busy.json()["code"] == "request_in_flight"
    assert await count(session, Order) == 0
    row.created_at = now - timedelta(minutes=5)  # its request died: the lease has run out
    await session.flush()
    taken_over = await _order(platform, ORDER, "busy-key")
    assert taken_over.status_code == 201


async def test_keys_belong_to_their_caller(platform: Platform, session: AsyncSession) -> None:
    assert (await _order(platform, ORDER, "shared-key")).status_code == 201
    other = await _order(platform, {"items": [{"item_code": "LS-001", "note": ""}]}, "shared-key", "enterprise-2")
    assert other.status_code == 201
    assert "idempotent-replayed" not in other.headers
    assert await count(session, Order) == 2


async def test_a_failed_request_releases_its_key(platform: Platform, session: AsyncSession) -> None:
    bad = {"items": [{"item_code": "NOPE-1", "note": ""}]}
    first = await _order(platform, bad, "retry-key")
    assert first.status_code == 422
    again = await _order(platform, bad, "retry-key")
    assert again.status_code == 422  # evaluated again, not "in flight"
    assert again.json()["code"] == "item_unavailable"
    fixed = await _order(platform, ORDER, "retry-key")
    assert fixed.status_code == 201
    assert (await session.get(IdempotencyKey, ("enterprise-1", "retry-key"))).state == "done"  # type: ignore[union-attr]


async def test_an_expired_key_is_a_new_request(platform: Platform, session: AsyncSession) -> None:
    assert (await _order(platform, ORDER, "old-key")).status_code == 201
    row = await session.get(IdempotencyKey, ("enterprise-1", "old-key"))
    assert row is not None
    row.expires_at = utcnow() - timedelta(seconds=1)
    await session.flush()
    again = await _order(platform, ORDER, "old-key")
    assert again.status_code == 201
    assert "idempotent-replayed" not in again.headers
    assert await count(session, Order) == 2


async def test_request_tickets_honour_the_key_too(platform: Platform, session: AsyncSession) -> None:
    headers = {**await platform.auth("enterprise-1"), "Idempotency-Key": "ticket-key"}
    body = {"title": "用电增容咨询", "description": "工厂扩产需要增容，请问流程"}
    first = await platform.client.post("/api/v1/tickets", json=body, headers=headers)
    second = await platform.client.post("/api/v1/tickets", json=body, headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.json()["id"] == second.json()["id"]
    assert await count(session, Ticket) == 1


def _dead_catalog(error: Exception) -> CatalogClient:
    def handler(request: httpx.Request) -> httpx.Response:
        raise error

    return CatalogClient(httpx.AsyncClient(transport=httpx.MockTransport(handler), base_url="http://catalog"))


@pytest.fixture
def catalog_down(platform: Platform) -> Iterator[None]:
    app = platform.services["tickets"]
    dead = _dead_catalog(httpx.ConnectError("connection refused"))

    async def with_dead_catalogue(request: Request) -> TicketContext:
        return dataclasses.replace(request.state.ticket_context, catalog=dead)

    app.dependency_overrides[get_ticket_context] = with_dead_catalogue
    try:
        yield
    finally:
        del app.dependency_overrides[get_ticket_context]


async def test_catalogue_down_is_503_and_nothing_is_written(
    platform: Platform, session: AsyncSession, catalog_down: None
) -> None:
    outbox_before = await count(session, OutboxEvent)
    response = await _order(platform, ORDER, "while-down")
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "catalog_unavailable"
    assert int(response.headers["retry-after"]) > 0
    assert await count(session, Order) == 0
    assert await count(session, Ticket) == 0
    assert await count(session, OutboxEvent) == outbox_before
    assert await session.get(IdempotencyKey, ("enterprise-1", "while-down")) is None


@pytest.mark.parametrize(
    ("responder", "reason"),
    [
        (lambda request: (_ for _ in ()).throw(httpx.ConnectError("refused")), "ConnectError"),
        (lambda request: (_ for _ in ()).throw(httpx.ReadTimeout("slow")), "timed out"),
        (lambda request: httpx.Response(500, json={"code": "internal_error"}), "status 500"),
        (lambda request: httpx.Response(200, content=b"<html>"), "unreadable answer"),
    ],
)
async def test_catalog_client_turns_every_failure_into_catalog_unavailable(responder: object, reason: str) -> None:
    client = CatalogClient(httpx.AsyncClient(transport=httpx.MockTransport(responder), base_url="http://c"))  # type: ignore[arg-type]
    with pytest.raises(CatalogUnavailable, match=reason):
        await client.get_item("LS-001")
    await client.http.aclose()


async def test_an_action_that_fails_halfway_leaves_no_trace(
    platform: Platform, session: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    order = await _order(platform, ORDER, None)
    ticket = order.json()["tickets"][0]
    events_before = await count(session, TicketEvent)
    outbox_before = await count(session, OutboxEvent)

    async def broken_outbox(*args: object, **kwargs: object) -> None:
        raise RuntimeError("outbox write failed")

    # The ticket row and its audit event are already flushed when the outbox write fails.
    monkeypatch.setattr(outbox, "add_event", broken_outbox)
    staff = await platform.auth("staff-jxw")
    response = await platform.client.post(
        f"/api/v1/tickets/{ticket['id']}/accept", json={"note": "受理"}, headers=staff
    )
    assert response.status_code == 500
    assert response.json()["code"] == "internal_error"
    assert "outbox write failed" not in response.text
    monkeypatch.undo()
    session.expire_all()
    stored = await session.get(Ticket, ticket["id"])
    assert stored is not None
    assert (stored.status, stored.version, stored.accepted_at) == ("submitted", 1, None)
    assert await count(session, TicketEvent) == events_before
    assert await count(session, OutboxEvent) == outbox_before
    retry = await platform.client.post(f"/api/v1/tickets/{ticket['id']}/accept", json={"note": "受理"}, headers=staff)
    assert retry.status_code == 200
    assert retry.json()["version"] == 2
