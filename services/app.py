"""The common shape of every HTTP service: lifespan state, problem errors, request context."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from fastapi.telemetry import TelemetryConfig
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.middleware import Middleware

from services.auth import TokenVerifier
from services.body_limit import BodyLimitMiddleware
from services.db import create_engine, create_sessionmaker, database_for
from services.docs import docs_router
from services.errors import install_problem_handlers
from services.http import create_http_client
from services.metrics import Metrics, MetricsMiddleware, RouteOf
from services.observability import RequestContextMiddleware, configure_logging, logging_enabled_for
from services.openapi import install_problem_openapi
from services.security_headers import SecurityHeadersMiddleware
from services.settings import ServiceSettings

State = dict[str, Any]
ExtraLifespan = Callable[[State, AsyncExitStack], Awaitable[None]]


async def database_check(engine: AsyncEngine) -> str:
    try:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except Exception as exc:  # the health endpoint reports any failure, never raises
        return f"error: {type(exc).__name__}"
    return "ok"


def health_router(service_name: str) -> APIRouter:
    router = APIRouter(tags=["health"])

    @router.get("/health", summary="Liveness and readiness of this service")
    async def health(request: Request) -> JSONResponse:
        """Reports the database check; anyone may call it."""
        return health_response(service_name, {"database": await database_check(request.state.engine)})

    @router.get("/health/live", summary="Liveness: the process answers")
    async def live() -> JSONResponse:
        """200 while the process serves requests; checks nothing else (anyone)."""
        return health_response(service_name, {})

    @router.get("/health/ready", summary="Readiness: the service's database answers")
    async def ready(request: Request) -> JSONResponse:
        """200 when the database answers, else 503: take it out of rotation, do not restart it (anyone)."""
        return health_response(service_name, {"database": await database_check(request.state.engine)})

    return router


def install_edge_middleware(
    app: FastAPI, settings: ServiceSettings, *, metrics: Metrics, route_of: RouteOf | None = None
) -> None:
    """What every HTTP process puts around its app, outermost last: the body limit, the
    security headers, the metrics (`/metrics`, and every answer timed, a 413 too), then the
    request context (request id, access log). `route_of` names routes FastAPI does not serve."""
    app.add_middleware(BodyLimitMiddleware, max_body_bytes=settings.max_body_bytes)
    app.add_middleware(SecurityHeadersMiddleware, hsts_max_age_seconds=settings.hsts_max_age_seconds)
    if settings.metrics_enabled:
        app.add_middleware(
            MetricsMiddleware, metrics=metrics, token=settings.metrics_token.get_secret_value(), route_of=route_of
        )
    # Its lines are info: below that level the middleware does not build one only to drop it
    # (the lazy logger's bind and the level check were about a tenth of the gateway app's CPU).
    app.add_middleware(RequestContextMiddleware, access_log=logging_enabled_for(settings.log_level, logging.INFO))


def health_response(service_name: str, checks: dict[str, str]) -> JSONResponse:
    """200 when every check says "ok", else 503 with the failing ones named."""
    healthy = all(value == "ok" for value in checks.values())
    return JSONResponse(
        {"status": "ok" if healthy else "degraded", "service": service_name, "checks": checks},
        status_code=200 if healthy else 503,
    )


# What an APIRoute keeps of its declaration, to declare it again on the app.
_ROUTE_DECLARATION = (
    "response_model",
    "status_code",
    "tags",
    "dependencies",
    "summary",
    "description",
    "response_description",
    "responses",
    "deprecated",
    "methods",
    "operation_id",
    "response_model_include",
    "response_model_exclude",
    "response_model_by_alias",
    "response_model_exclude_unset",
    "response_model_exclude_defaults",
    "response_model_exclude_none",
    "include_in_schema",
    "response_class",
    "name",
    "callbacks",
    "openapi_extra",
    "generate_unique_id_function",
)


def add_routes(app: FastAPI, router: APIRouter) -> None:
    """Declare `router`'s routes on the app itself instead of including the router: FastAPI
    (0.16x) matches an included router's routes twice per request and rebuilds their context,
    a tenth of a millisecond per request here. The routers are flat (full prefixes, no
    sub-routers), so each route already carries its full path, tags and dependencies."""
    for route in router.routes:
        if not isinstance(route, APIRoute):
            raise TypeError(f"{route!r}: only API routes are declared again on the app")
        declaration = {name: getattr(route, name) for name in _ROUTE_DECLARATION}
        app.router.add_api_route(route.path, route.endpoint, **declaration)


def telemetry_config(settings: ServiceSettings) -> TelemetryConfig:
    """FastAPI's OpenTelemetry hooks, as `OTEL_ENABLED` says."""
    enabled = settings.otel_enabled
    return {"tracing": enabled, "metrics": enabled, "logs": enabled}


def open_base_state(settings: ServiceSettings, stack: AsyncExitStack, *, metrics: Metrics) -> State:
    """What every app's lifespan starts with (the gateway's too): its logging, its database
    engine and sessions (whose pool `metrics` reports), and its token checks; the engine
    closes with `stack`."""
    configure_logging(level=settings.log_level, json=settings.log_json, service=settings.service_name)
    engine = create_engine(settings.effective_database_url)
    stack.push_async_callback(engine.dispose)
    metrics.watch_pool(engine)
    sessionmaker = create_sessionmaker(engine)
    return {
        "settings": settings,
        "token_verifier": TokenVerifier(settings),
        "engine": engine,
        "sessionmaker": sessionmaker,
        "database": database_for(engine, sessionmaker),
        "metrics": metrics,
    }


def create_service_app(
    *,
    title: str,
    description: str,
    settings: ServiceSettings,
    routers: Sequence[APIRouter],
    tags: list[dict[str, Any]] | None = None,
    extra_lifespan: ExtraLifespan | None = None,
    middleware: Sequence[Middleware] = (),
) -> FastAPI:
    """`middleware` runs inside the request context (request id, access log), outermost first.
    The app's metrics are on `app.state.metrics` and in the lifespan state."""
    metrics = Metrics(settings.service_name)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[State]:
        async with AsyncExitStack() as stack:
            state = open_base_state(settings, stack, metrics=metrics)
            http = create_http_client(timeout=settings.upstream_timeout_seconds)
            stack.push_async_callback(http.aclose)
            state["http"] = http
            if extra_lifespan is not None:
                await extra_lifespan(state, stack)
            yield state

    app = FastAPI(
        title=title,
        description=description,
        version="1.0.0",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        telemetry=telemetry_config(settings),
    )
    install_problem_handlers(app)
    install_problem_openapi(app, tags=tags)
    for router in (health_router(settings.service_name), docs_router(title=title), *routers):
        add_routes(app, router)
    for extra in reversed(middleware):
        app.add_middleware(extra.cls, *extra.args, **extra.kwargs)
    install_edge_middleware(app, settings, metrics=metrics)
    app.state.metrics = metrics
    return app
