"""The gateway's proxy path: pure ASGI, one pooled aiohttp session per upstream.

httpx's pool collapses at 64 concurrent requests on this hardware (DESIGN §6), so the hot
path uses aiohttp; an upstream here is any ASGI callable, which lets tests put a service's
app in-process where the real gateway puts an `AiohttpUpstream`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Mapping, Sequence

import aiohttp
from starlette.types import ASGIApp, Receive, Scope, Send
from yarl import URL

from services.auth import TokenVerifier
from services.errors import BadGateway, GatewayTimeout, ProblemError, send_problem
from services.observability import outgoing_trace_headers
from services.replicas import DEFAULT_DOWN_SECONDS, Replica, ReplicaSet, may_repeat

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
KEEPALIVE_SECONDS = 4.0
READY_PATH = "/health/ready"
DEFAULT_PROBE_SECONDS = 1.0


class AiohttpUpstream:
    """An ASGI app that forwards each request to one of a service's replicas over aiohttp.

    A replica that refuses the connection is marked down and the request goes to another one
    (it never reached the first). A request that failed after it may have reached a replica is
    sent once more elsewhere only if it may be repeated (services.replicas.may_repeat); any
    other is a 502, never sent twice.

    A replica marked down is probed: its `/health/ready` asked every `probe_seconds` (each
    probe waiting as long at most), and it is up again as soon as that answers 200, however
    long `down_seconds` is; while it answers otherwise or not at all it stays down. One probe
    per replica at a time, and none once it is up or the upstream is closed."""

    def __init__(
        self,
        name: str,
        urls: str | Sequence[str],
        *,
        timeout: float,
        pool_size: int,
        down_seconds: float = DEFAULT_DOWN_SECONDS,
        probe_seconds: float = DEFAULT_PROBE_SECONDS,
    ) -> None:
        self.name = name
        self.replicas = ReplicaSet([urls] if isinstance(urls, str) else urls, down_seconds=down_seconds)
        self.timeout = aiohttp.ClientTimeout(total=None, connect=2.0, sock_connect=2.0, sock_read=timeout)
        self.pool_size = pool_size
        self.probe_seconds = probe_seconds
        self._probe_timeout = aiohttp.ClientTimeout(total=probe_seconds)
        self._probes: dict[Replica, asyncio.Task[None]] = {}
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        # Idle connections close before uvicorn's own 5 s keep-alive ends them: a request is
        # then never written on a connection the replica is closing (a write that would be lost).
        connector = aiohttp.TCPConnector(
            limit=self.pool_size, ttl_dns_cache=300, enable_cleanup_closed=True, keepalive_timeout=KEEPALIVE_SECONDS
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            timeout=self.timeout,
            auto_decompress=False,
            # A proxied request carries the client's own headers, none that aiohttp would invent
            # (a Content-Type of application/octet-stream on a POST without one).
            skip_auto_headers=("User-Agent", "Content-Type"),
        )
        # aiohttp would resend a PUT or DELETE on its own after a dropped connection, to the
        # same replica; which requests are sent again, and where, is decided in __call__.
        self._session._retry_connection = False

    async def close(self) -> None:
        probes = list(self._probes.values())
        self._probes.clear()
        for probe in probes:
            probe.cancel()
        for probe in probes:
            with contextlib.suppress(asyncio.CancelledError):
                await probe
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert self._session is not None, "upstream used before start()"
        path = scope.get("raw_path") or scope["path"].encode()
        target = path.decode("latin-1")
        if scope.get("query_string"):
            target += "?" + scope["query_string"].decode("latin-1")
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"] if k != b"content-length"]
        body = await _read_small_body(receive, scope)
        stream = None if body is not None else _BodyStream(receive)
        repeatable = may_repeat(scope["method"], headers)
        tried: list[Replica] = []
        ambiguous_failures = 0
        while True:
            replica = self.replicas.acquire(avoid=tried)
            if replica is None:
                await send_problem(send, BadGateway(f"The {self.name} service is unreachable."), scope["path"])
                return
            tried.append(replica)
            try:
                await self._forward(replica, scope, target, headers, body, stream, send)
                return
            except _NotSent:
                # Refused or not connected in time: the request never left, any replica may have it.
                self.mark_down(replica)
                if stream is None or not stream.started:
                    continue
                failure: ProblemError = BadGateway(f"The {self.name} service is unreachable.")
            except _MayHaveBeenSent:
                ambiguous_failures += 1
                if repeatable and ambiguous_failures == 1 and (stream is None or not stream.started):
                    continue
                failure = BadGateway(
                    f"The {self.name} service failed while handling the request; it may or may not have"
                    " taken effect. Send it with an Idempotency-Key to retry it safely."
                )
            except _TimedOut:
                failure = GatewayTimeout(f"The {self.name} service did not answer in time.")
            finally:
                self.replicas.release(replica)
            await send_problem(send, failure, scope["path"])
            return

    def mark_down(self, replica: Replica) -> None:
        """Pass `replica` over, and probe it until it is ready again."""
        self.replicas.mark_down(replica)
        if replica not in self._probes and self._session is not None:
            self._probes[replica] = asyncio.get_running_loop().create_task(self._probe(replica))

    async def _probe(self, replica: Replica) -> None:
        try:
            while True:
                await asyncio.sleep(self.probe_seconds)
                if await self._ready(replica):
                    self.replicas.mark_up(replica)
                    return
                # Not ready yet: passed over a while longer, not sent requests on a timer.
                self.replicas.mark_down(replica)
        finally:
            self._probes.pop(replica, None)

    async def _ready(self, replica: Replica) -> bool:
        assert self._session is not None
        try:
            async with self._session.get(
                replica.base_url + READY_PATH, timeout=self._probe_timeout, allow_redirects=False
            ) as response:
                await response.read()
                return response.status == 200
        except (aiohttp.ClientError, TimeoutError):
            return False

    async def _forward(
        self,
        replica: Replica,
        scope: Scope,
        target: str,
        headers: list[tuple[str, str]],
        body: bytes | None,
        stream: _BodyStream | None,
        send: Send,
    ) -> None:
        assert self._session is not None
        # No body, no payload: an empty one would go out with `Content-Length: 0` on a GET (and
        # aiohttp building it costs more than the rest of the request).
        data: bytes | AsyncIterator[bytes] | None = stream if body is None else body or None
        started = False
        try:
            # Sent as it came (encoded=True): parsed, `/api/v1/items/../../../metrics` would
            # lose its dot segments and reach the service's `/metrics`, out of the routed prefix.
            async with self._session.request(
                scope["method"],
                URL(replica.base_url + target, encoded=True),
                headers=headers,
                data=data,
                allow_redirects=False,
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
        except (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError) as exc:
            if started:
                raise
            raise _NotSent from exc
        except (TimeoutError, aiohttp.ServerTimeoutError) as exc:
            if started:
                raise
            raise _TimedOut from exc
        except aiohttp.ClientError as exc:
            # Also when the body limit stopped the upload: the client already has its 413, and
            # the limit drops this answer.
            if started:
                raise
            raise _MayHaveBeenSent from exc


class _NotSent(Exception):
    """The connection was refused or not made in time: the replica never saw the request."""


class _MayHaveBeenSent(Exception):
    """The connection failed after the request may have reached the replica."""


class _TimedOut(Exception):
    """The replica took the request and did not answer in time."""


class _BodyStream:
    """The client's body streamed to the replica; once a byte has left, it cannot be sent again."""

    def __init__(self, receive: Receive) -> None:
        self.started = False
        self._chunks = _stream_body(receive)

    def __aiter__(self) -> _BodyStream:
        return self

    async def __anext__(self) -> bytes:
        self.started = True
        return await self._chunks.__anext__()


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
