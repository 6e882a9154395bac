"""Real local HTTP servers for the balancing tests: replicas that answer with their own name,
replicas that take a request and drop the connection without answering, and closed ports."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from aiohttp import web

from tests.support import free_port


@dataclass
class Replica:
    name: str
    url: str
    seen: list[str] = field(default_factory=list)


@asynccontextmanager
async def answering_replica(name: str) -> AsyncIterator[Replica]:
    """Answers every request 200 with its name, and records `METHOD path` of each."""
    replica = Replica(name, "")

    async def handle(request: web.Request) -> web.Response:
        await request.read()
        replica.seen.append(f"{request.method} {request.path}")
        return web.json_response({"replica": name})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    replica.url = f"http://127.0.0.1:{port}"
    try:
        yield replica
    finally:
        await runner.cleanup()


@asynccontextmanager
async def dropping_replica(name: str) -> AsyncIterator[Replica]:
    """Reads each request whole, records it, and closes the connection without an answer: a
    replica that died while handling it (the request may have taken effect)."""
    replica = Replica(name, "")

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        request_line = head.split(b"\r\n", 1)[0].decode()
        method, path, _version = request_line.split(" ")
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                await reader.readexactly(int(line.split(b":")[1]))
        replica.seen.append(f"{method} {path}")
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    replica.url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    try:
        yield replica
    finally:
        server.close()
        await server.wait_closed()


def closed_port_url() -> str:
    """A port nothing listens on: connections to it are refused."""
    return f"http://127.0.0.1:{free_port()}"
