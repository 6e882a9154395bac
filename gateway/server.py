"""The gateway's HTTP protocol for uvicorn: httptools', with a response's writes of one turn of
the event loop sent as one.

uvicorn writes a response's head as soon as the app sends `http.response.start`, and its body
apart: two system calls (and two segments to the client) for the proxy's common small answer,
whose body follows its head in the same turn of the loop. Here the first write of a turn waits
until the turn ends (or the next write joins it), so head and body leave together; a body that
takes longer (a stream) gets its head at the end of the turn, as good as at once.

    uvicorn gateway.app:create_app --factory --http gateway.server:CoalescingHttpToolsProtocol
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol


class _CoalescingTransport:
    """The connection's transport as uvicorn's response cycle sees it (see the module)."""

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._held: bytes | None = None
        self._flush: asyncio.Handle | None = None

    def write(self, data: bytes) -> None:
        if self._held is None:
            self._held = data
            self._flush = self._loop.call_soon(self.flush)
            return
        held, self._held = self._held, None
        if self._flush is not None:
            self._flush.cancel()
            self._flush = None
        self._transport.write(held + data)

    def flush(self) -> None:
        held, self._held, self._flush = self._held, None, None
        if held is not None and not self._transport.is_closing():
            self._transport.write(held)

    def close(self) -> None:
        if self._flush is not None:
            self._flush.cancel()
        self.flush()
        self._transport.close()

    def is_closing(self) -> bool:
        return self._transport.is_closing()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class CoalescingHttpToolsProtocol(HttpToolsProtocol):
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        # The flow control keeps the real transport: it pauses and resumes reading only.
        self.transport = _CoalescingTransport(transport, self.loop)  # type: ignore[assignment]
