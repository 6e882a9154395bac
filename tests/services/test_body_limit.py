"""Request bodies over the limit are 413 problems, declared or chunked, at the gateway and at
each service reached directly; a chunked body is refused as soon as it passes the limit."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from starlette.types import Message, Receive, Scope, Send

from services.body_limit import BodyLimitMiddleware
from tests.conftest import Platform
from tests.live_platform import LivePlatform
from tests.support import free_port, uvicorn_server

LIMIT = 4096


class BodyReader:
    """An app that reads the whole body and says how long it was; it records what it got."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        self.bodies.append(b"".join(chunks))
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": str(len(self.bodies[-1])).encode()})


async def _chunks(total: int, size: int = 1024) -> AsyncIterator[bytes]:
    sent = 0
    while sent < total:
        yield b"x" * min(size, total - sent)
        sent += size


def _sync_chunks(total: int, size: int = 1024) -> Iterator[bytes]:
    sent = 0
    while sent < total:
        yield b"x" * min(size, total - sent)
        sent += size


def _limited(reader: BodyReader) -> httpx.AsyncClient:
    app = BodyLimitMiddleware(reader, max_body_bytes=LIMIT)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://limited")


async def test_a_declared_length_over_the_limit_is_refused_before_reading() -> None:
    reader = BodyReader()
    async with _limited(reader) as client:
        response = await client.post("/upload", content=b"x" * (LIMIT + 1))
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "payload_too_large"
    assert reader.bodies == []


async def test_a_chunked_body_is_refused_once_it_passes_the_limit_and_never_reaches_the_app_whole() -> None:
    reader = BodyReader()
    async with _limited(reader) as client:
        over = await client.post("/upload", content=_chunks(LIMIT * 3))
        under = await client.post("/upload", content=_chunks(LIMIT))
    assert over.status_code == 413
    assert over.json()["code"] == "payload_too_large"
    assert under.status_code == 200
    assert under.text == str(LIMIT)
    assert reader.bodies == [b"x" * LIMIT], "the app saw only the body within the limit"


@pytest.mark.parametrize(
    ("service", "path"),
    [("catalog", "/api/v1/departments"), ("tickets", "/api/v1/tickets"), ("notifications", "/internal/events")],
)
async def test_each_service_limits_bodies_reached_directly(platform: Platform, service: str, path: str) -> None:
    transport = httpx.ASGITransport(app=platform.upstreams[service])
    headers = {**await platform.auth("admin"), "Content-Type": "application/json"}
    too_large = 1_048_576 + 1
    async with httpx.AsyncClient(transport=transport, base_url=f"http://{service}") as client:
        declared = await client.post(path, content=b" " * too_large, headers=headers)
        chunked = await client.post(path, content=_chunks(too_large, 65536), headers=headers)
    for response in (declared, chunked):
        assert response.status_code == 413
        assert response.json()["code"] == "payload_too_large"


def test_a_real_service_refuses_a_chunked_upload_over_its_own_limit(
    live: LivePlatform, base_env: dict[str, str]
) -> None:
    port = free_port()
    env = {**base_env, "DATABASE_URL": live.database_url, "TICKET_MAX_BODY_BYTES": str(LIMIT)}
    with uvicorn_server("ticket_service.app:create_app", port, env):
        url = f"http://127.0.0.1:{port}/api/v1/tickets"
        headers = {"Authorization": f"Bearer {live.admin_token}", "Content-Type": "application/json"}
        over = httpx.post(url, content=_sync_chunks(LIMIT * 4), headers=headers, timeout=10)
        within = httpx.post(url, content=_sync_chunks(LIMIT), headers=headers, timeout=10)
    assert over.status_code == 413
    assert over.json()["code"] == "payload_too_large"
    # Within the limit the body reaches the handler, which finds it is no JSON.
    assert within.status_code == 400
    assert within.json()["code"] == "malformed_json"


def test_the_gateway_answers_413_not_502_for_a_chunked_upload_over_its_limit(live: LivePlatform) -> None:
    headers = {"Authorization": f"Bearer {live.admin_token}", "Content-Type": "application/json"}
    response = httpx.post(
        live.gateway_url + "/api/v1/tickets", content=_sync_chunks(1_200_000, 65536), headers=headers, timeout=10
    )
    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"


def test_a_chunked_upload_within_the_limit_is_proxied_whole(live: LivePlatform) -> None:
    headers = {"Authorization": f"Bearer {live.admin_token}", "Content-Type": "application/json"}
    body = ('{"code": "big-dept", "name": "' + "长" * 70_000 + '"}').encode()
    pieces = (body[start : start + 10_000] for start in range(0, len(body), 10_000))
    response = httpx.post(live.gateway_url + "/api/v1/departments", content=pieces, headers=headers, timeout=10)
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["body", "name"]


async def test_a_message_after_the_limit_is_not_read_again() -> None:
    """Once refused, a second read raises again and nothing else is sent."""
    sent: list[Message] = []
    messages = iter(
        [{"type": "http.request", "body": b"x" * (LIMIT + 1), "more_body": True}, {"type": "http.request", "body": b""}]
    )

    async def receive() -> Message:
        return next(messages)

    async def send(message: Message) -> None:
        sent.append(message)

    reader = BodyReader()
    scope: Scope = {
        "type": "http",
        "http_version": "2",
        "method": "POST",
        "path": "/upload",
        "headers": [],  # an HTTP/2 body need declare neither length nor encoding
    }
    await BodyLimitMiddleware(reader, max_body_bytes=LIMIT)(scope, receive, send)
    assert [message["type"] for message in sent] == ["http.response.start", "http.response.body"]
    assert sent[0]["status"] == 413
    assert reader.bodies == []
