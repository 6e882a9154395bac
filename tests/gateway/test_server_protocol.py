"""The gateway's uvicorn protocol (gateway.server): a response's writes of one loop turn leave as one."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import uvicorn

from gateway.server import CoalescingHttpToolsProtocol, _CoalescingTransport
from tests.support import free_port


class RecordingTransport:
    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        self.writes.append(data)

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def get_extra_info(self, name: str) -> Any:
        return f"extra:{name}"


async def test_head_and_body_of_one_turn_are_one_write() -> None:
    real = RecordingTransport()
    transport = _CoalescingTransport(real, asyncio.get_running_loop())  # type: ignore[arg-type]
    transport.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n")
    transport.write(b"{}")
    assert real.writes == [b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}"]
    await asyncio.sleep(0)
    assert len(real.writes) == 1


async def test_a_lone_write_leaves_at_the_end_of_the_turn() -> None:
    real = RecordingTransport()
    transport = _CoalescingTransport(real, asyncio.get_running_loop())  # type: ignore[arg-type]
    transport.write(b"head")
    assert real.writes == []
    await asyncio.sleep(0)
    assert real.writes == [b"head"]
    transport.write(b"chunk")
    transport.close()
    assert real.writes == [b"head", b"chunk"]
    assert real.closed
    await asyncio.sleep(0)
    assert real.writes == [b"head", b"chunk"]
    assert transport.get_extra_info("peername") == "extra:peername"


async def test_nothing_is_written_to_a_closing_transport() -> None:
    real = RecordingTransport()
    transport = _CoalescingTransport(real, asyncio.get_running_loop())  # type: ignore[arg-type]
    transport.write(b"head")
    real.closed = True
    await asyncio.sleep(0)
    assert real.writes == []


async def _app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    await receive()
    if scope["path"] == "/stream":
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
        for index in range(3):
            await send({"type": "http.response.body", "body": b"part%d " % index, "more_body": True})
            await asyncio.sleep(0.01)
        await send({"type": "http.response.body", "body": b""})
        return
    body = scope["path"].encode()
    headers = [(b"content-length", str(len(body)).encode()), (b"X-Answer", b"plain")]
    headers += _HEADS.get(scope["path"], [])
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


# The heads the app sends by path: the fields of each checked in one pass (gateway.server).
_HEADS: dict[str, list[tuple[bytes, bytes]]] = {
    "/injected-value": [(b"x-note", b"fine\r\nset-cookie: session=stolen")],
    "/nul-in-value": [(b"x-note", b"a\x00b")],
    "/bad-name": [(b"x note", b"fine")],
    "/closing": [(b"Connection", b"keep-alive, Close")],
}


async def _serving(port: int) -> tuple[uvicorn.Server, asyncio.Task[None]]:
    # As the gateway runs (no uvicorn access log); an idle connection kept far longer than the
    # tests wait, so a closed one was closed by the answer.
    config = uvicorn.Config(
        _app,
        host="127.0.0.1",
        port=port,
        http=CoalescingHttpToolsProtocol,
        log_level="critical",
        access_log=False,
        timeout_keep_alive=60,
    )
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve())
    for _ in range(1000):  # bounded: ten seconds at most
        if server.started:
            break
        await asyncio.sleep(0.01)
    assert server.started
    return server, serving


async def test_a_server_with_it_answers_kept_alive_and_streamed_requests() -> None:
    path = "/plain"
    port = free_port()
    config = uvicorn.Config(_app, host="127.0.0.1", port=port, http=CoalescingHttpToolsProtocol, log_level="critical")
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve())
    try:
        for _ in range(1000):  # bounded: ten seconds at most
            if server.started:
                break
            await asyncio.sleep(0.01)
        assert server.started
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            for _ in range(3):
                response = await client.get(path)
                assert (response.status_code, response.text) == (200, path)
            streamed = await client.get("/stream")
            assert (streamed.headers["transfer-encoding"], streamed.text) == ("chunked", "part0 part1 part2 ")
    finally:
        server.should_exit = True
        await serving


async def _raw_answer(port: int, path: str) -> bytes:
    """All the server sends for one GET of `path`, until it closes the connection (bounded)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET %s HTTP/1.1\r\nhost: test\r\n\r\n" % path.encode())
    await writer.drain()
    try:
        return await asyncio.wait_for(reader.read(), timeout=10)
    finally:
        writer.close()


async def test_a_head_with_a_forbidden_byte_is_never_sent() -> None:
    port = free_port()
    server, serving = await _serving(port)
    try:
        for path in ("/injected-value", "/nul-in-value", "/bad-name"):
            # The connection closes with nothing sent: the head was refused, as uvicorn refuses it.
            assert await _raw_answer(port, path) == b"", path
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            fine = await client.get("/plain")
        assert (fine.status_code, fine.headers["x-answer"], "set-cookie" in fine.headers) == (200, "plain", False)
    finally:
        server.should_exit = True
        await serving


async def test_a_connection_close_field_closes_the_connection() -> None:
    port = free_port()
    server, serving = await _serving(port)
    try:
        # Everything up to the end of the stream: the server closes it.
        answer = await _raw_answer(port, "/closing")
        head, _, body = answer.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        assert lines[0] == b"HTTP/1.1 200 OK"
        # Field names go out in lower case, as uvicorn sends them.
        assert b"connection: keep-alive, Close" in lines and b"x-answer: plain" in lines
        assert body == b"/closing"
    finally:
        server.should_exit = True
        await serving
