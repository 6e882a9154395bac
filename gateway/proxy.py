"""The gateway's proxy path: pure ASGI, one pooled aiohttp session per upstream.

httpx's pool collapses at 64 concurrent requests on this hardware (DESIGN §6), so the hot
path uses aiohttp; an upstream here is any ASGI callable, which lets tests put a service's
app in-process where the real gateway puts an `AiohttpUpstream`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping

import aiohttp
from starlette.types import ASGIApp, Receive, Scope, Send
from yarl import URL

from services.auth import TokenVerifier
from services.errors import BadGateway, GatewayTimeout, ProblemError, send_problem
from services.observability import outgoing_trace_headers

HOP_BY_HOP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-authenticate",
        b"proxy-authorization",
        b"te",
        b"trailer",
        b"trailers",
        b"transfer-encoding",
        b"upgrade",
        b"host",
        b"content-length",
        b"x-request-id",
        b"traceparent",
        b"x-forwarded-for",
        b"x-forwarded-proto",
        b"x-forwarded-host",
    }
)
# `server` and `date` too: the gateway's own server adds its own, and each header appears once.
RESPONSE_DROP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"transfer-encoding",
        b"upgrade",
        b"trailer",
        b"proxy-authenticate",
        b"server",
        b"date",
    }
)
STREAM_THRESHOLD = 64 * 1024


class AiohttpUpstream:
    """An ASGI app that forwards each request to one upstream base URL over aiohttp."""

    def __init__(self, name: str, base_url: str, *, timeout: float, pool_size: int) -> None:
        self.name = name
        self.base_url = base_url.rstrip("/")
        self.timeout = aiohttp.ClientTimeout(total=None, connect=2.0, sock_connect=2.0, sock_read=timeout)
        self.pool_size = pool_size
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        connector = aiohttp.TCPConnector(limit=self.pool_size, ttl_dns_cache=300, enable_cleanup_closed=True)
        self._session = aiohttp.ClientSession(
            connector=connector, timeout=self.timeout, auto_decompress=False, skip_auto_headers=("User-Agent",)
        )

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert self._session is not None, "upstream used before start()"
        path = scope.get("raw_path") or scope["path"].encode()
        url = self.base_url + path.decode("latin-1")
        if scope.get("query_string"):
            url += "?" + scope["query_string"].decode("latin-1")
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"] if k != b"content-length"]
        body = await _read_small_body(receive, scope)
        data: bytes | AsyncIterator[bytes] | None = body if body is not None else _stream_body(receive)
        started = False
        try:
            # Sent as it came (encoded=True): parsed, `/api/v1/items/../../../metrics` would
            # lose its dot segments and reach the service's `/metrics`, out of the routed prefix.
            async with self._session.request(
                scope["method"], URL(url, encoded=True), headers=headers, data=data, allow_redirects=False
            ) as response:
                response_headers = [(k.lower(), v) for k, v in response.raw_headers if k.lower() not in RESPONSE_DROP]
                await send({"type": "http.response.start", "status": response.status, "headers": response_headers})
                started = True
                length = response.content_length
                if length is not None and length <= STREAM_THRESHOLD:
                    # The common small answer in one message: one write to the client.
                    await send({"type": "http.response.body", "body": await response.read()})
                    return
                async for chunk in response.content.iter_chunked(STREAM_THRESHOLD):
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
                await send({"type": "http.response.body", "body": b""})
        except (TimeoutError, aiohttp.ServerTimeoutError):
            if started:
                raise
            await send_problem(send, GatewayTimeout(f"The {self.name} service did not answer in time."), scope["path"])
        except aiohttp.ClientError:
            # Also when the body limit stopped the upload: the client already has its 413, and
            # the limit drops this answer.
            if started:
                raise
            await send_problem(send, BadGateway(f"The {self.name} service is unreachable."), scope["path"])


async def _read_small_body(receive: Receive, scope: Scope) -> bytes | None:
    """Whole body when it is declared small (the common case); None means stream it."""
    length = None
    for key, value in scope["headers"]:
        if key == b"content-length":
            length = int(value)
    if length is None and scope["method"] in {"GET", "HEAD", "DELETE", "OPTIONS"}:
        length = 0
    if length is None or length > STREAM_THRESHOLD:
        return None
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            break
    return b"".join(chunks)


async def _stream_body(receive: Receive) -> AsyncIterator[bytes]:
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return
        chunk = message.get("body", b"")
        if chunk:
            yield chunk
        if not message.get("more_body"):
            return


class ProxyMiddleware:
    """Pure ASGI: requests under a routed prefix go to their upstream, the rest to the app.

    The body limit (services.body_limit) sits outside it: the upstream reads a counted body."""

    def __init__(self, app: ASGIApp, *, routes: Mapping[str, str]) -> None:
        self.app = app
        self.routes = sorted(((prefix.rstrip("/"), name) for prefix, name in routes.items()), key=lambda r: -len(r[0]))

    def upstream_for(self, path: str) -> str | None:
        for prefix, name in self.routes:
            if path == prefix or path.startswith(prefix + "/"):
                return name
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        name = self.upstream_for(scope["path"])
        if name is None:
            await self.app(scope, receive, send)
            return
        state = scope.get("state") or {}
        upstream: ASGIApp = state["upstreams"][name]
        verifier: TokenVerifier = state["token_verifier"]
        try:
            headers = self._forward_headers(scope, verifier)
        except ProblemError as rejected:
            await send_problem(send, rejected, scope["path"])
            return
        forwarded = dict(scope)
        forwarded["headers"] = headers
        await upstream(forwarded, receive, send)

    def _forward_headers(self, scope: Scope, verifier: TokenVerifier) -> list[tuple[bytes, bytes]]:
        headers: list[tuple[bytes, bytes]] = []
        for key, value in scope["headers"]:
            if key == b"authorization" and value[:7].lower() == b"bearer ":
                # The gateway rejects a bad token itself; the service checks it again.
                verifier.verify(value[7:].decode("latin-1").strip())
            if key == b"content-length" or key not in HOP_BY_HOP:
                headers.append((key, value))
        for name, value in outgoing_trace_headers().items():
            headers.append((name.encode(), value.encode("latin-1")))
        client = scope.get("client")
        if client:
            headers.append((b"x-forwarded-for", str(client[0]).encode()))
        headers.append((b"x-forwarded-proto", str(scope.get("scheme", "http")).encode()))
        return headers
