"""The access log: one line per request where the configured level shows info lines, and no
line built at all where it does not."""

from __future__ import annotations

import logging

import httpx
import pytest
from fastapi import FastAPI
from starlette.middleware import Middleware
from structlog.testing import capture_logs

from services.app import install_edge_middleware
from services.metrics import Metrics
from services.observability import RequestContextMiddleware, logging_enabled_for
from services.settings import ServiceSettings


@pytest.mark.parametrize(
    ("configured", "level", "enabled"),
    [
        ("DEBUG", logging.INFO, True),
        ("info", logging.INFO, True),
        ("INFO", logging.DEBUG, False),
        ("WARNING", logging.INFO, False),
        ("WARNING", logging.WARNING, True),
        ("ERROR", logging.WARNING, False),
        ("no-such-level", logging.DEBUG, True),
    ],
)
def test_logging_enabled_for_compares_a_levels_name_with_a_level(configured: str, level: int, enabled: bool) -> None:
    assert logging_enabled_for(configured, level) is enabled


def _app(log_level: str) -> FastAPI:
    app = FastAPI()

    @app.get("/ping")
    async def ping() -> dict[str, str]:
        return {"pong": "yes"}

    install_edge_middleware(app, ServiceSettings(log_level=log_level), metrics=Metrics("test"))
    return app


def _request_context(app: FastAPI) -> Middleware:
    return next(middleware for middleware in app.user_middleware if middleware.cls is RequestContextMiddleware)


@pytest.mark.parametrize(
    ("log_level", "logged"), [("DEBUG", True), ("INFO", True), ("WARNING", False), ("ERROR", False)]
)
async def test_an_access_line_per_request_at_info_and_below_and_none_built_above(log_level: str, logged: bool) -> None:
    app = _app(log_level)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        with capture_logs() as logs:
            response = await client.get("/ping")
    access = [(line["path"], line["status"]) for line in logs if line["event"] == "request"]
    assert response.status_code == 200
    assert response.headers["x-request-id"]
    assert access == ([("/ping", 200)] if logged else [])
    assert _request_context(app).kwargs["access_log"] is logged
