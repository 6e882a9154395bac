"""The factory for httpx clients used between services (never on the gateway's proxy path)."""

from __future__ import annotations

from collections.abc import Sequence

import httpx

from services.observability import outgoing_trace_headers
from services.replicas import DEFAULT_DOWN_SECONDS, Replica, ReplicaSet, may_repeat

LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=50)


async def _propagate_trace(request: httpx.Request) -> None:
    for name, value in outgoing_trace_headers().items():
        request.headers.setdefault(name, value)


class ReplicaTransport(httpx.AsyncBaseTransport):
    """Sends each request to one of a service's replicas, by the gateway's rules: a refused
    connection marks the replica down and the request moves on (it never left); a request
    that failed after it may have arrived is repeated once elsewhere only if it may be
    (services.replicas.may_repeat), else the caller sees the error."""

    def __init__(
        self,
        urls: Sequence[str],
        *,
        inner: httpx.AsyncBaseTransport | None = None,
        down_seconds: float = DEFAULT_DOWN_SECONDS,
    ) -> None:
        self.replicas = ReplicaSet(urls, down_seconds=down_seconds)
        self._inner = inner or httpx.AsyncHTTPTransport(limits=LIMITS)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        repeatable = may_repeat(request.method, request.headers.multi_items())
        tried: list[Replica] = []
        repeated = False
        while True:
            replica = self.replicas.acquire(avoid=tried)
            assert replica is not None, "a replica set is never empty"
            tried.append(replica)
            target = httpx.URL(replica.base_url)
            request.url = request.url.copy_with(scheme=target.scheme, host=target.host, port=target.port)
            request.headers["Host"] = target.netloc.decode("ascii")
            try:
                return await self._inner.handle_async_request(request)
            except (httpx.ConnectError, httpx.ConnectTimeout):
                self.replicas.mark_down(replica)
                if len(tried) == len(self.replicas):
                    raise
            except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError):
                if not repeatable or repeated or len(tried) == len(self.replicas):
                    raise
                repeated = True
            finally:
                self.replicas.release(replica)

    async def aclose(self) -> None:
        await self._inner.aclose()


def create_http_client(
    *,
    base_url: str = "",
    replicas: Sequence[str] = (),
    timeout: float = 5.0,
    transport: httpx.AsyncBaseTransport | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.AsyncClient:
    """One pooled client per process; short timeouts so a dead peer is a quick 503.

    `replicas` (a service's base URLs) balances between them through a `ReplicaTransport`
    unless `transport` replaces the network (in-process tests)."""
    if replicas:
        base_url = base_url or replicas[0]
        if transport is None and len(replicas) > 1:
            transport = ReplicaTransport(replicas)
    return httpx.AsyncClient(
        base_url=base_url,
        timeout=httpx.Timeout(timeout, connect=min(timeout, 2.0)),
        limits=LIMITS,
        transport=transport,
        headers=headers,
        event_hooks={"request": [_propagate_trace]},
    )
