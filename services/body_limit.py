"""The request body limit: pure ASGI, counting the body as it streams in.

A declared `Content-Length` over the limit is refused before a byte is read. A body without
one (chunked) is counted as it arrives: the moment the count passes the limit the client gets
the 413 and whatever the application was doing with the body stops, since reading further
raises `BodyTooLarge`. Anything the application sends after that is dropped, so a body cut
short never reaches a handler as if it were whole, and no second answer follows the 413.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.errors import PayloadTooLarge, send_problem


class BodyTooLarge(Exception):
    """Raised to whoever reads the body past the limit; the client already has its 413."""


def _framing(scope: Scope) -> tuple[int | None, bool]:
    """The declared Content-Length, if any, and whether a Transfer-Encoding is declared."""
    length: int | None = None
    encoded = False
    for key, value in scope["headers"]:
        if key == b"content-length":
            length = int(value) if value.isdigit() else None
        elif key == b"transfer-encoding":
            encoded = True
    return length, encoded


def _needs_counting(scope: Scope, length: int | None, encoded: bool) -> bool:
    """Whether a body past the limit could still arrive. The server reads no more than a
    declared Content-Length, and an HTTP/1.1 request declaring neither has no body at all
    (RFC 9112 §6.3): the hot path of reads passes through untouched."""
    if length is not None and not encoded:
        return False
    return encoded or not str(scope.get("http_version", "1.1")).startswith("1")


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, *, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    def _too_large(self) -> PayloadTooLarge:
        # No `Connection: close`: closing while the client still sends resets the connection,
        # which can lose the 413 before the client reads it; the server drains the rest instead.
        return PayloadTooLarge(f"The request body exceeds {self.max_body_bytes} bytes.")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared, encoded = _framing(scope)
        if declared is not None and declared > self.max_body_bytes:
            await send_problem(send, self._too_large(), scope["path"])
        elif _needs_counting(scope, declared, encoded):
            await self._counted(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    async def _counted(self, scope: Scope, receive: Receive, send: Send) -> None:
        received = 0
        response_started = False
        refused = False

        async def counting_receive() -> Message:
            nonlocal received, refused
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    if not response_started and not refused:
                        refused = True
                        await send_problem(send, self._too_large(), scope["path"])
                    raise BodyTooLarge()
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal response_started
            if refused:
                return
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except BodyTooLarge:
            if not refused:
                raise
