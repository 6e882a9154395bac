"""Structured logging and the request id / trace context that travel between processes."""

from __future__ import annotations

import logging
import os
import re
import sys
import time
from contextvars import ContextVar

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

REQUEST_ID_HEADER = "x-request-id"
TRACEPARENT_HEADER = "traceparent"

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)
traceparent_var: ContextVar[str | None] = ContextVar("traceparent", default=None)

_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_TRACEPARENT_RE = re.compile(r"^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$")


def logging_enabled_for(configured_level: str, level: int) -> bool:
    """Whether lines at `level` pass the configured level's name (an unknown name passes all)."""
    configured = logging.getLevelName(configured_level.upper())
    return not isinstance(configured, int) or level >= configured


def configure_logging(*, level: str = "INFO", json: bool = True, service: str = "platform") -> None:
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer(ensure_ascii=False) if json else structlog.dev.ConsoleRenderer()
    )

    def add_service(_logger: object, _method: str, event: structlog.types.EventDict) -> structlog.types.EventDict:
        event.setdefault("service", service)
        return event

    processors: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        add_service,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
        renderer,
    ]
    structlog.configure(
        processors=processors,
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        cache_logger_on_first_use=False,
    )
    logging.basicConfig(level=level.upper(), stream=sys.stderr, format="%(levelname)s %(name)s %(message)s")
    # One access line per request is ours; httpx's line per outgoing call repeats it.
    logging.getLogger("httpx").setLevel(logging.WARNING)


def outgoing_trace_headers() -> dict[str, str]:
    headers: dict[str, str] = {}
    request_id = request_id_var.get()
    if request_id:
        headers[REQUEST_ID_HEADER] = request_id
    traceparent = traceparent_var.get()
    if traceparent:
        headers[TRACEPARENT_HEADER] = traceparent
    return headers


class _RandomBytes:
    """The operating system's random bytes, read a few kilobytes at a time: a request's ids
    take 40 of them, and a system call each (secrets.token_hex) was three per request."""

    def __init__(self, chunk: int = 4096) -> None:
        self._chunk = chunk
        self._buffer = b""
        self._offset = 0
        # A forked child must not hand out its parent's next ids.
        os.register_at_fork(after_in_child=self._forget)

    def _forget(self) -> None:
        self._buffer, self._offset = b"", 0

    def hex(self, size: int) -> str:
        if self._offset + size > len(self._buffer):
            self._buffer, self._offset = os.urandom(self._chunk), 0
        start, self._offset = self._offset, self._offset + size
        return self._buffer[start : self._offset].hex()


_random = _RandomBytes()


def new_request_id() -> str:
    return _random.hex(16)


def _new_traceparent() -> str:
    return f"00-{_random.hex(16)}-{_random.hex(8)}-01"


class RequestContextMiddleware:
    """Pure ASGI: adopt or mint the request id and traceparent, echo them, log one line."""

    def __init__(self, app: ASGIApp, *, access_log: bool = True) -> None:
        self.app = app
        self.access_log = access_log
        self.logger = structlog.get_logger("access")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id: str | None = None
        traceparent: str | None = None
        for name, value in scope.get("headers", ()):
            if name == b"x-request-id":
                candidate = value.decode("latin-1")
                if _REQUEST_ID_RE.match(candidate):
                    request_id = candidate
            elif name == b"traceparent":
                candidate = value.decode("latin-1")
                if _TRACEPARENT_RE.match(candidate):
                    traceparent = candidate
        request_id = request_id or new_request_id()
        traceparent = traceparent or _new_traceparent()
        rid_token = request_id_var.set(request_id)
        tp_token = traceparent_var.set(traceparent)
        structlog.contextvars.bind_contextvars(request_id=request_id)
        status_code = 500
        started = time.perf_counter()

        async def send_with_headers(message: Message) -> None:
            nonlocal status_code
            if message["type"] == "http.response.start":
                status_code = message["status"]
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"x-request-id"]
                headers.append((b"x-request-id", request_id.encode("latin-1")))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        finally:
            if self.access_log:
                self.logger.info(
                    "request",
                    method=scope.get("method"),
                    path=scope.get("path"),
                    status=status_code,
                    duration_ms=round((time.perf_counter() - started) * 1000, 2),
                )
            structlog.contextvars.unbind_contextvars("request_id")
            request_id_var.reset(rid_token)
            traceparent_var.reset(tp_token)
