"""Clients from `create_http_client` carry the current request id and traceparent onwards."""

from __future__ import annotations

import httpx

from services.http import create_http_client
from services.observability import request_id_var, traceparent_var


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
