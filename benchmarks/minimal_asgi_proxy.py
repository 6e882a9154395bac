"""The limit of a Python proxy under uvicorn, for benchmarks/gateway_cost.py: a bare ASGI app
that forwards every request to one upstream with aiohttp's client, as the gateway's proxy does,
and nothing else (no middleware, auth, request id, limits or metrics). Beside the minimal
aiohttp proxy (benchmarks/minimal_proxy.py) it tells the server's share of the gateway's cost
from its app's.

    MINIMAL_PROXY_UPSTREAM=http://127.0.0.1:8001 uvicorn benchmarks.minimal_asgi_proxy:create_app --factory
"""

from __future__ import annotations

import os
from typing import Any

import aiohttp
from yarl import URL

DROPPED = frozenset({b"connection", b"keep-alive", b"transfer-encoding", b"host", b"content-length"})
ANSWER_DROPPED = frozenset({"connection", "keep-alive", "transfer-encoding", "date", "server"})


def create_app() -> Any:
    upstream = os.environ["MINIMAL_PROXY_UPSTREAM"].rstrip("/")
    session: aiohttp.ClientSession | None = None

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        nonlocal session
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    session = aiohttp.ClientSession(
                        connector=aiohttp.TCPConnector(limit=200),
                        auto_decompress=False,
                        skip_auto_headers=("User-Agent",),
                    )
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    if session is not None:
                        await session.close()
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        assert session is not None
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"] if k not in DROPPED]
        target = scope["raw_path"].decode("latin-1") + (
            "?" + scope["query_string"].decode() if scope["query_string"] else ""
        )
        async with session.request(
            scope["method"],
            URL(upstream + target, encoded=True),
            headers=headers,
            data=body or None,
            allow_redirects=False,
        ) as response:
            payload = await response.read()
            answer = [
                (k.lower(), v) for k, v in response.raw_headers if k.decode("latin-1").lower() not in ANSWER_DROPPED
            ]
            await send({"type": "http.response.start", "status": response.status, "headers": answer})
            await send({"type": "http.response.body", "body": payload})

    return app
