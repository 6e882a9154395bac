"""The gateway's ASGI application: the platform's only public entry."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import httpx
from fastapi import FastAPI
from starlette.types import ASGIApp

from gateway.admission import AdmissionMiddleware
from gateway.board import Board
from gateway.catalog_client import CatalogDepartments
from gateway.client_address import ClientAddressMiddleware
from gateway.limiter_redis import PipelinedRedis
from gateway.proxy import AiohttpUpstream, ProxyMiddleware
from gateway.routes import router
from gateway.settings import GatewaySettings
from gateway.stats_client import StatsClient
from services.app import install_edge_middleware, open_base_state, telemetry_config
from services.errors import install_problem_handlers
from services.http import create_http_client
from services.metrics import Metrics, prefix_route_of
from services.openapi import build_document
from services.rate_limit import RateLimiter
from services.redis import create_redis

ROUTES: dict[str, str] = {
    "/api/v1/departments": "catalog",
    "/api/v1/categories": "catalog",
    "/api/v1/items": "catalog",
    "/api/v1/policies": "catalog",
    "/api/v1/menus": "catalog",
    "/api/v1/enterprises": "tickets",
    "/api/v1/orders": "tickets",
    "/api/v1/tickets": "tickets",
    "/api/v1/calendar": "tickets",
    "/api/v1/stats": "tickets",
    "/api/v1/sla": "tickets",
    "/api/v1/webhook-subscriptions": "notifications",
    "/api/v1/webhook-deliveries": "notifications",
    "/api/v1/hooks": "notifications",
    "/api/v1/inbox": "notifications",
}

DESCRIPTION = """\
The 965808 one-stop service platform for enterprises (就让我帮您办): the service menu (点菜单),
enterprises' requests and complaints as tickets under the 1-3-5 working-day rule, and their
supervision.

* **Anonymous reads.** The service menu (`/api/v1/items`, `/api/v1/menus/current`), the
  departments, categories, policies and the working-day calendar need no token.
* **Roles.** Log in with **Authorize**: people use the OAuth2 password flow (roles `enterprise`,
  `staff`, `dispatcher`, `supervisor`, `admin`, `hotline`), integrations the client-credentials
  flow (role `integration`). Each operation's description says which roles may call it.
* **Errors** are RFC 9457 `application/problem+json` documents with a stable `code` from a closed
  list (the `Problem` schema lists every code and what it means); some carry extra fields
  (`StateProblem`, `VersionMismatchProblem`, …).
* **Conditional requests.** Catalogue and calendar reads send an `ETag`: send it back in
  `If-None-Match` for a 304. Ticket answers' `ETag` is the ticket's version: send it in `If-Match`
  with an action, and a ticket changed meanwhile is a 412 instead of a lost update.
* **Retries.** Creating an order or a ticket takes an `Idempotency-Key` (see the `orders` tag);
  429 and 503 answers say `Retry-After`.
* **Tracing.** Every answer carries `X-Request-ID` (the caller's own, if it sent a valid one);
  quote it when reporting a problem.
* **Life cycle, ratings and the audit chain** are described under the `ticket actions` and
  `tickets` tags.
* **Rate limits.** Requests count against allowances per caller and per client address: past
  one, any operation answers `429` (`rate_limited`) with `Retry-After`; every answer carries the
  `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset` fields.
"""

TAGS = [
    {"name": "auth", "description": "Access tokens for people and integration clients."},
    {"name": "accounts", "description": "Who may log in: people's accounts and their links."},
    {"name": "health", "description": "Platform health."},
]


def upstream_urls(settings: GatewaySettings) -> dict[str, list[str]]:
    """Each service's replicas (`CATALOG_URLS`, else `CATALOG_URL`, and so on)."""
    return {
        "catalog": settings.catalog_replicas,
        "tickets": settings.ticket_replicas,
        "notifications": settings.notification_replicas,
    }


def own_document(app: FastAPI) -> dict[str, Any]:
    """The gateway's own operations' document, into which the services' are merged."""
    return build_document(
        title="965808 gateway", version=app.version, description=DESCRIPTION, routes=app.routes, tags=TAGS
    )


def create_app(settings: GatewaySettings | None = None, *, upstreams: Mapping[str, ASGIApp] | None = None) -> FastAPI:
    """`upstreams` replaces the aiohttp upstreams, e.g. with in-process service apps in tests."""
    settings = settings or GatewaySettings()
    metrics = Metrics(settings.service_name)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, Any]]:
        async with AsyncExitStack() as stack:
            state = open_base_state(settings, stack, metrics=metrics)
            redis = create_redis(settings.effective_redis_url)
            stack.push_async_callback(redis.aclose)
            # Its own client: every request's check pipelined on one connection, waiting for the
            # limiter's Redis a short while at most.
            limiter_redis = PipelinedRedis(
                settings.effective_redis_url, timeout_seconds=settings.rate_limit_redis_timeout_seconds
            )
            stack.push_async_callback(limiter_redis.aclose)
            apps: dict[str, ASGIApp] = dict(upstreams or {})
            if upstreams is None:
                for name, urls in upstream_urls(settings).items():
                    upstream = AiohttpUpstream(
                        name,
                        urls,
                        timeout=settings.upstream_timeout_seconds,
                        pool_size=settings.proxy_pool_size,
                        down_seconds=settings.replica_down_seconds,
                        probe_seconds=settings.replica_probe_seconds,
                    )
                    await upstream.start()
                    stack.push_async_callback(upstream.close)
                    apps[name] = upstream
            clients: dict[str, httpx.AsyncClient] = {}
            for name, upstream_app in apps.items():
                # The request id and traceparent travel on these calls too (health, docs, account checks).
                client = create_http_client(
                    base_url=f"http://{name}",
                    timeout=settings.upstream_timeout_seconds,
                    transport=httpx.ASGITransport(app=upstream_app),
                )
                stack.push_async_callback(client.aclose)
                clients[name] = client
            # What start-up made lives as long as the process: kept out of the collector's
            # full passes, which otherwise walk it again and again under load (about a tenth
            # of a proxied request's CPU, benchmarks/gateway_cost.py).
            gc.freeze()
            stack.callback(gc.unfreeze)
            yield {
                **state,
                "redis": redis,
                "rate_limiter": RateLimiter(
                    limiter_redis,
                    lease_hits=settings.rate_limit_lease_hits,
                    lease_seconds=settings.rate_limit_lease_seconds,
                ),
                "upstreams": apps,
                "upstream_clients": clients,
                "gateway_openapi": own_document(app),
                "openapi_cache": {},
                "board": Board(
                    StatsClient(clients["tickets"], token=settings.internal_token.get_secret_value()),
                    CatalogDepartments(clients["catalog"]),
                    settings.board_cache_seconds,
                ),
            }

    app = FastAPI(
        title="965808 gateway",
        version="1.0.0",
        lifespan=lifespan,
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
        telemetry=telemetry_config(settings),
    )
    install_problem_handlers(app)
    app.include_router(router)
    app.add_middleware(ProxyMiddleware, routes=ROUTES)
    app.add_middleware(AdmissionMiddleware, settings=settings)
    # A proxied request is named by its routed prefix: the upstream knows its own templates.
    install_edge_middleware(app, settings, metrics=metrics, route_of=prefix_route_of(list(ROUTES)))
    app.add_middleware(ClientAddressMiddleware, trusted_proxies=settings.trusted_proxy_networks)
    app.state.metrics = metrics
    return app
