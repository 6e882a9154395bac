"""The aiohttp upstream against a real HTTP server: small answers whole, large ones streamed."""

from __future__ import annotations

import json
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


async def _framing(request: web.Request) -> web.Response:
    """The request's framing and type headers as the replica saw them, and its body."""
    seen = {name: request.headers.get(name) for name in ("Content-Length", "Content-Type", "Transfer-Encoding")}
    return web.json_response({"headers": seen, "body": (await request.read()).decode()})


@pytest.fixture
async def upstream() -> AsyncIterator[AiohttpUpstream]:
    app = web.Application()
    app.router.add_get("/small", _small)
    app.router.add_get("/large", _large)
    app.router.add_get("/chunked", _chunked)
    app.router.add_route("*", "/framing", _framing)
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


async def _get(
    proxy: AiohttpUpstream,
    path: str,
    *,
    method: str = "GET",
    headers: list[tuple[bytes, bytes]] | None = None,
    body: bytes = b"",
) -> list[dict[str, Any]]:
    scope = {"type": "http", "method": method, "path": path, "raw_path": path.encode(), "query_string": b""}
    scope["headers"] = headers or []
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

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


@pytest.mark.parametrize(
    ("method", "headers", "body", "expected"),
    [
        # A body-less read goes out with no body at all: no Content-Length, no invented type.
        ("GET", [], b"", {"Content-Length": None, "Content-Type": None, "Transfer-Encoding": None}),
        # aiohttp frames a DELETE's absent body as `Content-Length: 0`, as RFC 9110 allows.
        ("DELETE", [], b"", {"Content-Length": "0", "Content-Type": None, "Transfer-Encoding": None}),
        # An empty write says it is empty, and still has no type its client did not give it.
        (
            "POST",
            [(b"content-length", b"0")],
            b"",
            {"Content-Length": "0", "Content-Type": None, "Transfer-Encoding": None},
        ),
        (
            "POST",
            [(b"content-type", b"application/json"), (b"content-length", b"2")],
            b"{}",
            {"Content-Length": "2", "Content-Type": "application/json", "Transfer-Encoding": None},
        ),
        (
            "PUT",
            [(b"content-length", b"1")],
            b"x",
            {"Content-Length": "1", "Content-Type": None, "Transfer-Encoding": None},
        ),
    ],
)
async def test_a_request_reaches_the_replica_framed_as_it_came(
    upstream: AiohttpUpstream,
    method: str,
    headers: list[tuple[bytes, bytes]],
    body: bytes,
    expected: dict[str, str | None],
) -> None:
    start, answer = await _get(upstream, "/framing", method=method, headers=headers, body=body)
    assert start["status"] == 200
    assert json.loads(answer["body"]) == {"headers": expected, "body": body.decode()}
