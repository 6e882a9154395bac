"""The factory for httpx clients used between services (never on the gateway's proxy path)."""

from __future__ import annotations

import httpx

from services.observability import outgoing_trace_headers


async def _propagate_trace(request: httpx.Request) -> None:
    for name, value in outgoing_trace_headers().items():
        request.headers.setdefault(name, value)


def create_http_client(
    *,
    base_url: str = "",
    timeout: float = 5.0,
    transport: httpx.AsyncBaseTransport | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.AsyncClient:
    """One pooled client per process; short timeouts so a dead peer is a quick 503."""
    return httpx.AsyncClient(
        base_url=base_url,
        timeout=httpx.Timeout(timeout, connect=min(timeout, 2.0)),
        limits=httpx.Limits(max_connections=100, max_keepalive_connections=50),
        transport=transport,
        headers=headers,
        event_hooks={"request": [_propagate_trace]},
    )
