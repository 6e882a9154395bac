"""A short-lived, per-process cache of anonymous GET responses, as pure ASGI middleware.

For data that changes rarely and is read by everyone (the service menu). Any write through
the same process clears it at once; other replicas serve what they cached for at most
`ttl_seconds`. Requests that carry credentials, conditional headers aside, are never cached or
served from it, so admins always read the database.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.responses import etag_matches

CACHEABLE_STATUS = 200
MAX_ENTRIES = 2048
MAX_BODY = 256 * 1024


@dataclass
class _Entry:
    expires: float
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes
    etag: bytes | None
    # The route that answered, left in the scope of a replay too, so metrics name its template.
    route: Any = None


@dataclass
class ReadCache:
    ttl_seconds: float = 1.0
    entries: dict[bytes, _Entry] = field(default_factory=dict)

    def clear(self) -> None:
        self.entries.clear()


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope["headers"]:
        if key == name:
            return bytes(value)
    return None


class ReadCacheMiddleware:
    def __init__(self, app: ASGIApp, *, cache: ReadCache, prefix: str = "/api/") -> None:
        self.app = app
        self.cache = cache
        self.prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.cache.ttl_seconds <= 0 or not scope["path"].startswith(self.prefix):
            await self.app(scope, receive, send)
            return
        if scope["method"] not in ("GET", "HEAD"):
            try:
                await self.app(scope, receive, send)
            finally:
                self.cache.clear()
            return
        if _header(scope, b"authorization") is not None:
            await self.app(scope, receive, send)
            return
        key = scope["path"].encode() + b"?" + scope.get("query_string", b"")
        entry = self.cache.entries.get(key)
        if entry is not None and entry.expires > time.monotonic():
            await self._replay(scope, send, entry)
            return
        await self._fill(scope, receive, send, key)

    async def _replay(self, scope: Scope, send: Send, entry: _Entry) -> None:
        if entry.route is not None:
            scope["route"] = entry.route
        if_none_match = _header(scope, b"if-none-match")
        etag = entry.etag
        if (
            etag is not None
            and if_none_match is not None
            and etag_matches(if_none_match.decode("latin-1"), etag.decode("latin-1"))
        ):
            headers = [(k, v) for k, v in entry.headers if k in (b"etag", b"cache-control")]
            await send({"type": "http.response.start", "status": 304, "headers": headers})
            await send({"type": "http.response.body", "body": b""})
            return
        await send({"type": "http.response.start", "status": entry.status, "headers": entry.headers})
        await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else entry.body})

    async def _fill(self, scope: Scope, receive: Receive, send: Send, key: bytes) -> None:
        start: Message | None = None
        chunks: list[bytes] = []
        size = 0
        cacheable = _header(scope, b"if-none-match") is None and scope["method"] == "GET"

        async def capture(message: Message) -> None:
            nonlocal start, cacheable, size
            if message["type"] == "http.response.start":
                # A copy, taken before it is sent: the middlewares outside add their own fields
                # to the message (rate limits, the request id), which belong to this request only.
                start = {**message, "headers": list(message.get("headers", []))}
                cacheable = cacheable and message["status"] == CACHEABLE_STATUS
            elif message["type"] == "http.response.body" and cacheable:
                chunk = message.get("body", b"")
                chunks.append(chunk)
                size += len(chunk)
                if size > MAX_BODY:
                    cacheable = False
            await send(message)

        await self.app(scope, receive, capture)
        if not cacheable or start is None:
            return
        # The request id belongs to the request that filled the entry; the context adds its own.
        headers = [(bytes(k), bytes(v)) for k, v in start.get("headers", []) if k != b"x-request-id"]
        etag = next((v for k, v in headers if k == b"etag"), None)
        if len(self.cache.entries) >= MAX_ENTRIES:
            self.cache.entries.clear()
        self.cache.entries[key] = _Entry(
            expires=time.monotonic() + self.cache.ttl_seconds,
            status=start["status"],
            headers=headers,
            body=b"".join(chunks),
            etag=etag,
            route=scope.get("route"),
        )
