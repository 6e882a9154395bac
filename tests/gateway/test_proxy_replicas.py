"""The gateway's upstream over several replicas, against real local servers: balancing, a
refused replica marked down and probed until it is ready, and which failed requests are sent
again (services.replicas)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

from aiohttp import web

from gateway.proxy import AiohttpUpstream
from tests.replica_servers import answering_replica, closed_port_url, dropping_replica
from tests.support import free_port


@asynccontextmanager
async def proxy_to(urls: Sequence[str]) -> AsyncIterator[AiohttpUpstream]:
    upstream = AiohttpUpstream("tickets", urls, timeout=5, pool_size=8, down_seconds=30)
    await upstream.start()
    try:
        yield upstream
    finally:
        await upstream.close()


async def _call(
    proxy: AiohttpUpstream, method: str, path: str, *, body: bytes = b"", headers: Sequence[tuple[bytes, bytes]] = ()
) -> tuple[int, dict[str, Any]]:
    all_headers = [*headers, (b"content-length", str(len(body)).encode())] if method != "GET" else list(headers)
    scope = {
        "type": "http",
        "method": method,
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": all_headers,
    }
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await proxy(scope, receive, send)
    answer = b"".join(message.get("body", b"") for message in sent[1:])
    return sent[0]["status"], json.loads(answer)


async def test_requests_are_spread_over_every_replica() -> None:
    async with answering_replica("a") as a, answering_replica("b") as b, proxy_to([a.url, b.url]) as proxy:
        answers = [await _call(proxy, "GET", f"/api/v1/tickets/{n}") for n in range(10)]
    assert {status for status, _ in answers} == {200}
    assert len(a.seen) == len(b.seen) == 5


async def test_a_refused_replica_is_marked_down_and_every_request_still_succeeds() -> None:
    dead = closed_port_url()
    async with answering_replica("a") as alive, proxy_to([dead, alive.url]) as proxy:
        # Writes without a key too: a refused connection never delivered the request.
        answers = [await _call(proxy, "POST", "/api/v1/tickets", body=b"{}") for _ in range(6)]
        down = [replica.base_url for replica in proxy.replicas.replicas if proxy.replicas.is_down(replica)]
    assert [status for status, _ in answers] == [200] * 6
    assert [body["replica"] for _, body in answers] == ["a"] * 6
    assert len(alive.seen) == 6
    assert down == [dead]


async def test_every_replica_refusing_is_a_502_problem() -> None:
    async with proxy_to([closed_port_url(), closed_port_url()]) as proxy:
        status, problem = await _call(proxy, "GET", "/api/v1/tickets")
    assert status == 502
    assert problem["code"] == "bad_gateway"


async def test_a_read_that_a_replica_dropped_is_sent_once_more_to_another() -> None:
    async with (
        dropping_replica("dying") as dying,
        answering_replica("a") as alive,
        proxy_to([dying.url, alive.url]) as proxy,
    ):
        status, body = await _call(proxy, "GET", "/api/v1/tickets/1")
    assert (status, body) == (200, {"replica": "a"})
    assert dying.seen == alive.seen == ["GET /api/v1/tickets/1"]


async def test_a_write_with_an_idempotency_key_is_sent_once_more_to_another() -> None:
    async with (
        dropping_replica("dying") as dying,
        answering_replica("a") as alive,
        proxy_to([dying.url, alive.url]) as proxy,
    ):
        status, _ = await _call(
            proxy, "POST", "/api/v1/tickets", body=b"{}", headers=[(b"idempotency-key", b"order-7")]
        )
    assert status == 200
    assert dying.seen == alive.seen == ["POST /api/v1/tickets"]


async def test_a_write_without_a_key_that_may_have_arrived_is_a_502_and_never_sent_twice() -> None:
    async with (
        dropping_replica("dying") as dying,
        answering_replica("a") as alive,
        proxy_to([dying.url, alive.url]) as proxy,
    ):
        status, problem = await _call(proxy, "POST", "/api/v1/tickets", body=b'{"title": "x"}')
    assert status == 502
    assert problem["code"] == "bad_gateway"
    assert "Idempotency-Key" in problem["detail"]
    assert dying.seen == ["POST /api/v1/tickets"]
    assert alive.seen == []


async def test_a_read_is_repeated_only_once() -> None:
    async with (
        dropping_replica("one") as one,
        dropping_replica("two") as two,
        dropping_replica("three") as three,
        proxy_to([one.url, two.url, three.url]) as proxy,
    ):
        status, problem = await _call(proxy, "GET", "/api/v1/tickets")
    assert status == 502
    assert problem["code"] == "bad_gateway"
    assert len(one.seen) + len(two.seen) + len(three.seen) == 2


async def _until(predicate: Callable[[], bool], *, within_seconds: float = 5.0) -> bool:
    deadline = asyncio.get_running_loop().time() + within_seconds
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            return False
        await asyncio.sleep(0.01)
    return True


async def test_a_replica_marked_down_is_probed_and_back_as_soon_as_it_is_ready() -> None:
    port = free_port()
    ready = False
    probes: list[str] = []

    async def health(_request: web.Request) -> web.Response:
        probes.append("ready" if ready else "not ready")
        return web.json_response({"status": "ok" if ready else "degraded"}, status=200 if ready else 503)

    async def handle(_request: web.Request) -> web.Response:
        return web.json_response({"replica": "back"})

    app = web.Application()
    app.router.add_get("/health/ready", health)
    app.router.add_route("*", "/{tail:.*}", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    async with answering_replica("a") as alive:
        upstream = AiohttpUpstream(
            "tickets",
            [f"http://127.0.0.1:{port}", alive.url],
            timeout=5,
            pool_size=8,
            down_seconds=30,
            probe_seconds=0.05,
        )
        await upstream.start()
        replica = upstream.replicas.replicas[0]
        try:
            status, body = await _call(upstream, "GET", "/api/v1/tickets")
            assert (status, body["replica"]) == (200, "a")
            assert upstream.replicas.is_down(replica)
            await web.TCPSite(runner, "127.0.0.1", port).start()
            # Listening but not ready (its database down): it stays out of rotation.
            assert await _until(lambda: probes.count("not ready") >= 3)
            assert upstream.replicas.is_down(replica)
            ready = True
            # Back at its first ready answer, not after the 30 s it was marked down for.
            assert await _until(lambda: not upstream.replicas.is_down(replica))
            assert probes[-1] == "ready" and await _until(lambda: not upstream._probes)
            answers = [await _call(upstream, "GET", f"/api/v1/tickets/{n}") for n in range(4)]
            assert sorted(body["replica"] for _, body in answers) == ["a", "a", "back", "back"]
            assert probes.count("ready") == 1  # no probe once it is up
        finally:
            await upstream.close()
            await runner.cleanup()
    assert not upstream._probes
