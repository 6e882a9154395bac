"""A real HTTP receiver for webhook tests: a uvicorn server in the test's event loop on a free
port, recording every request and answering as the test says."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import uvicorn

from tests.support import free_port


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: str

    @property
    def envelope(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.body)
        return data


Answer = tuple[int, dict[str, str], str]
Behaviour = Callable[[Received], Awaitable[Answer]]


async def answer_ok(_: Received) -> Answer:
    return 200, {}, "ok"


@dataclass
class Receiver:
    port: int = field(default_factory=free_port)
    behaviour: Behaviour = answer_ok
    requests: list[Received] = field(default_factory=list)
    _server: uvicorn.Server | None = None
    _task: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    def for_event(self, event_id: str) -> list[Received]:
        return [request for request in self.requests if request.headers.get("webhook-id") == event_id]

    async def _app(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        headers = {key.decode().lower(): value.decode() for key, value in scope["headers"]}
        request = Received(scope["path"], headers, b"".join(chunks).decode())
        self.requests.append(request)
        status, extra, text = await self.behaviour(request)
        raw = [(b"content-type", b"text/plain; charset=utf-8"), *((k.encode(), v.encode()) for k, v in extra.items())]
        await send({"type": "http.response.start", "status": status, "headers": raw})
        await send({"type": "http.response.body", "body": text.encode()})

    async def start(self) -> Receiver:
        config = uvicorn.Config(
            self._app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="off", interface="asgi3"
        )
        self._server = uvicorn.Server(config)
        self._task = asyncio.create_task(self._server.serve())
        deadline = time.monotonic() + 10
        while not self._server.started:
            if self._task.done() or time.monotonic() > deadline:
                raise RuntimeError("the receiver did not start")
            await asyncio.sleep(0.01)  # poll interval of a bounded wait
        return self

    async def stop(self) -> None:
        if self._server is not None and self._task is not None:
            self._server.should_exit = True
            await asyncio.wait_for(self._task, 10)
            self._server = self._task = None
