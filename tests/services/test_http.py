"""Clients from `create_http_client` carry the current request id and traceparent onwards."""

from __future__ import annotations

import httpx
import pytest

from services.http import ReplicaTransport, create_http_client
from services.observability import request_id_var, traceparent_var
from tests.replica_servers import answering_replica, closed_port_url, dropping_replica


async def test_outgoing_calls_carry_the_request_context() -> None:
    seen: list[httpx.Headers] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers)
        return httpx.Response(200)

    async with create_http_client(base_url="http://peer", transport=httpx.MockTransport(handler)) as client:
        await client.get("/without-context")
        request_token = request_id_var.set("req-123")
        trace_token = traceparent_var.set("00-0123456789abcdef0123456789abcdef-0123456789abcdef-01")
        try:
            await client.get("/with-context")
        finally:
            request_id_var.reset(request_token)
            traceparent_var.reset(trace_token)
    assert "x-request-id" not in seen[0]
    assert seen[1]["x-request-id"] == "req-123"
    assert seen[1]["traceparent"].startswith("00-0123456789abcdef")


async def test_a_client_given_several_replicas_spreads_its_calls_over_them() -> None:
    async with (
        answering_replica("a") as a,
        answering_replica("b") as b,
        create_http_client(replicas=[a.url, b.url]) as client,
    ):
        answers = [(await client.get(f"/api/v1/items/{n}")).json()["replica"] for n in range(6)]
    assert sorted(answers) == ["a"] * 3 + ["b"] * 3
    assert len(a.seen) == len(b.seen) == 3


async def test_a_refused_replica_is_passed_over_for_any_call() -> None:
    dead = closed_port_url()
    async with answering_replica("a") as alive, create_http_client(replicas=[dead, alive.url]) as client:
        answers = [await client.post("/internal/events", json={"n": n}) for n in range(4)]
        assert isinstance(client._transport, ReplicaTransport)
        down = [r.base_url for r in client._transport.replicas.replicas if client._transport.replicas.is_down(r)]
    assert [answer.json()["replica"] for answer in answers] == ["a"] * 4
    assert down == [dead]


async def test_a_dropped_read_is_repeated_on_another_replica_and_a_dropped_write_is_not() -> None:
    async with (
        dropping_replica("dying") as dying,
        answering_replica("a") as alive,
        create_http_client(replicas=[dying.url, alive.url]) as client,
    ):
        read = await client.get("/api/v1/items/KJ-1")
        keyed = await client.post("/api/v1/orders", json={}, headers={"Idempotency-Key": "k-1"})
        assert (read.status_code, keyed.status_code) == (200, 200)
        with pytest.raises(httpx.RemoteProtocolError):
            # Both replicas have had a turn: the dying one is next for the unkeyed write.
            await client.post("/internal/hotline-calls", json={})
    assert dying.seen == ["GET /api/v1/items/KJ-1", "POST /api/v1/orders", "POST /internal/hotline-calls"]
    assert alive.seen == ["GET /api/v1/items/KJ-1", "POST /api/v1/orders"]


async def test_every_replica_refusing_is_the_connect_error_callers_already_handle() -> None:
    async with create_http_client(replicas=[closed_port_url(), closed_port_url()]) as client:
        with pytest.raises(httpx.ConnectError):
            await client.get("/api/v1/items")
