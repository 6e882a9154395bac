"""The aiohttp upstream against a real HTTP server: small answers whole, large ones streamed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web

from gateway.proxy import STREAM_THRESHOLD, AiohttpUpstream

SMALL = "小".encode() * 100
LARGE = bytes(range(256)) * (3 * STREAM_THRESHOLD // 256)


async def _small(_request: web.Request) -> web.Response:
    return web.Response(body=SMALL, content_type="application/json")


async def _large(_request: web.Request) -> web.Response:
    return web.Response(body=LARGE, content_type="application/octet-stream")


async def _chunked(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse()
    response.enable_chunked_encoding()
    await response.prepare(request)
    await response.write(SMALL)
    await response.write(SMALL)
    await response.write_eof()
    return response


@pytest.fixture
async def upstream() -> AsyncIterator[AiohttpUpstream]:
    app = web.Application()
    app.router.add_get("/small", _small)
    app.router.add_get("/large", _large)
    app.router.add_get("/chunked", _chunked)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    proxy = AiohttpUpstream("test", f"http://127.0.0.1:{port}", timeout=5, pool_size=4)
    await proxy.start()
    try:
        yield proxy
    finally:
        await proxy.close()
        await runner.cleanup()


async def _get(proxy: AiohttpUpstream, path: str) -> list[dict[str, Any]]:
    scope = {"type": "http", "method": "GET", "path": path, "raw_path": path.encode(), "query_string": b""}
    scope["headers"] = []
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await proxy(scope, receive, send)
    return sent


async def test_a_small_answer_is_sent_in_one_message(upstream: AiohttpUpstream) -> None:
    start, *bodies = await _get(upstream, "/small")
    assert start["status"] == 200
    assert bodies == [{"type": "http.response.body", "body": SMALL}]


@pytest.mark.parametrize(("path", "expected"), [("/large", LARGE), ("/chunked", SMALL + SMALL)])
async def test_a_large_or_unsized_answer_is_streamed_whole(
    upstream: AiohttpUpstream, path: str, expected: bytes
) -> None:
    start, *bodies = await _get(upstream, path)
    assert start["status"] == 200
    assert b"".join(message["body"] for message in bodies) == expected
    assert [message.get("more_body", False) for message in bodies][-1] is False
    if path == "/large":
        assert len(bodies) > 2  # in pieces, not buffered whole
