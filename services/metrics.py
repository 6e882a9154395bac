"""Prometheus metrics of one process: HTTP requests by route template, the database pool, and
whatever a worker adds; served at `/metrics` by pure ASGI middleware (an HTTP service) or by a
small server on a port of its own (a worker).

Every process keeps its own registry, made by its app factory or its worker's start-up (never
prometheus-client's module-global one), and serves only its own figures. Labels are bounded: a
route is its template (`/api/v1/tickets/{number}`), never the raw path, an unknown method is
`OTHER` and a path no route matched is `unmatched`.

Who may read `/metrics` (README, "Metrics"): a caller connecting from a loopback address
directly (no `X-Forwarded-For` or `Forwarded` header, so nothing relayed by the gateway or
another proxy), or any caller that shows `Authorization: Bearer <METRICS_TOKEN>` when that
setting is set. Everyone else gets a 401 problem.
"""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import time
from bisect import bisect_left
from collections.abc import Awaitable, Callable, Iterable, Sequence
from itertools import accumulate
from typing import Any

import structlog
from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Gauge
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import QueuePool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.db import utcnow
from services.errors import MetricsTokenRequired, NotAuthenticated, send_problem
from services.outbox import OutboxColumns, unpublished_backlog

METRICS_PATH = "/metrics"
UNMATCHED_ROUTE = "unmatched"
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# Seconds; a fast read is about a millisecond here, a sweep or a slow upstream several seconds.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# A figure read from the database at scrape time waits at most this long; the previous value stays.
REFRESH_TIMEOUT_SECONDS = 2.0
_FORWARDING_HEADERS = frozenset({b"x-forwarded-for", b"forwarded", b"x-real-ip"})

Refresher = Callable[[], Awaitable[None]]
RouteOf = Callable[[Scope], str | None]
logger = structlog.get_logger(__name__)


class PoolCollector(Collector):
    """The database pool's use, read from the engine at scrape time (nothing on the request path)."""

    def __init__(self) -> None:
        self.engine: AsyncEngine | None = None

    def collect(self) -> Iterable[Metric]:
        pool = self.engine.pool if self.engine is not None else None
        if not isinstance(pool, QueuePool):
            return []
        size = GaugeMetricFamily("db_pool_size", "Connections the pool keeps open at most (overflow aside).")
        size.add_metric([], pool.size())
        connections = GaugeMetricFamily("db_pool_connections", "Connections of the pool by state.", labels=["state"])
        connections.add_metric(["checked_out"], pool.checkedout())
        connections.add_metric(["idle"], pool.checkedin())
        overflow = GaugeMetricFamily(
            "db_pool_overflow", "Connections opened beyond the pool's size (negative: unopened)."
        )
        overflow.add_metric([], pool.overflow())
        return [size, connections, overflow]


class RequestCollector(Collector):
    """Request counts and latency histograms, kept as plain numbers and turned into metric
    families only when scraped. The event loop's one thread both observes and scrapes, so no
    lock is taken: the per-request cost is a dictionary lookup, a bisection and three additions
    (prometheus-client's labelled Counter and Histogram take a lock for each of those)."""

    def __init__(self, buckets: Sequence[float] = LATENCY_BUCKETS) -> None:
        self.bounds = tuple(sorted(buckets))
        # (route, method, status) -> [count, sum of seconds, one count per bucket and +Inf]
        self.series: dict[tuple[str, str, int], list[float]] = {}

    def observe(self, route: str, method: str, status: int, seconds: float) -> None:
        key = (route, method, status)
        series = self.series.get(key)
        if series is None:
            series = self.series[key] = [0.0] * (len(self.bounds) + 3)
        series[0] += 1
        series[1] += seconds
        series[2 + bisect_left(self.bounds, seconds)] += 1

    def collect(self) -> Iterable[Metric]:
        labels = ["route", "method", "status"]
        requests = CounterMetricFamily(
            "http_requests", "HTTP requests answered, by route template, method and status.", labels=labels
        )
        latency = HistogramMetricFamily(
            "http_request_duration_seconds",
            "Time from a request's arrival to its answer's end, by route template, method and status.",
            labels=labels,
        )
        names = [repr(float(bound)) for bound in self.bounds] + ["+Inf"]
        for (route, method, status), series in list(self.series.items()):
            values = [route, method, str(status)]
            requests.add_metric(values, series[0])
            cumulative = list(accumulate(series[2:]))
            latency.add_metric(values, list(zip(names, cumulative, strict=True)), sum_value=series[1])
        return [requests, latency]


class Metrics:
    """One process's registry and its request metrics."""

    def __init__(self, service: str) -> None:
        self.service = service
        self.registry = CollectorRegistry(auto_describe=False)
        self.http = RequestCollector()
        self.registry.register(self.http)
        self.refresh_failures = Counter(
            "metrics_refresh_failures",
            "Scrape-time figures that could not be read (their previous value was served).",
            ["figure"],
            registry=self.registry,
        )
        self.pool = PoolCollector()
        self.registry.register(self.pool)
        self._refreshers: dict[str, Refresher] = {}
        self._gauges: dict[str, Gauge] = {}
        self.observe = self.http.observe

    def watch_pool(self, engine: AsyncEngine) -> None:
        self.pool.engine = engine

    def add_refresher(self, figure: str, refresh: Refresher) -> None:
        """`refresh` updates gauges from the database or Redis just before each scrape; a
        lifespan started again replaces its own."""
        self._refreshers[figure] = refresh

    def gauge(self, name: str, documentation: str, labels: Sequence[str] = ()) -> Gauge:
        """The gauge `name` of this registry, made on first use (a lifespan may start twice)."""
        if name not in self._gauges:
            self._gauges[name] = Gauge(name, documentation, labels, registry=self.registry)
        return self._gauges[name]

    async def render(self) -> bytes:
        for figure, refresh in self._refreshers.items():
            try:
                await asyncio.wait_for(refresh(), timeout=REFRESH_TIMEOUT_SECONDS)
            except Exception as exc:  # a scrape serves what it has; the failure is counted and logged
                self.refresh_failures.labels(figure).inc()
                logger.warning("metrics figure not refreshed", figure=figure, error=type(exc).__name__)
        return generate_latest(self.registry)


def watch_outbox(metrics: Metrics, engine: AsyncEngine, table: type[OutboxColumns], *, outbox: str) -> None:
    """Gauges of `table`'s unrelayed events (how many, the oldest one's age), read at each scrape."""
    labels = ["outbox"]
    age = metrics.gauge("outbox_oldest_unrelayed_age_seconds", "Age of the oldest event not yet relayed.", labels)
    waiting = metrics.gauge("outbox_unrelayed_events", "Committed events the relay has not published yet.", labels)

    async def refresh() -> None:
        count, oldest_age = await unpublished_backlog(engine, table, now=utcnow())
        waiting.labels(outbox).set(count)
        age.labels(outbox).set(oldest_age)

    metrics.add_refresher(f"outbox:{outbox}", refresh)


def may_read_metrics(*, client_host: str | None, headers: Iterable[tuple[bytes, bytes]], token: str) -> bool:
    """A loopback caller connecting directly, or one showing the metrics token (see the module)."""
    authorization: bytes | None = None
    forwarded = False
    for key, value in headers:
        key = key.lower()
        if key == b"authorization":
            authorization = value
        elif key in _FORWARDING_HEADERS:
            forwarded = True
    if token and authorization is not None and hmac.compare_digest(authorization, b"Bearer " + token.encode()):
        return True
    if forwarded or client_host is None:
        return False
    try:
        return ipaddress.ip_address(client_host).is_loopback
    except ValueError:
        return False


def metrics_refused() -> NotAuthenticated:
    return MetricsTokenRequired()


def matched_route(scope: Scope) -> str | None:
    """The template of the route that served the request: FastAPI's API routes leave themselves
    in the scope; the plain routes it adds (`/openapi.json`, `/docs`) only their endpoint, and
    have no parameters, so their path is their template."""
    path = getattr(scope.get("route"), "path", None)
    if isinstance(path, str):
        return path
    if "endpoint" in scope:
        return str(scope["path"])
    return None


def prefix_route_of(prefixes: Sequence[str]) -> RouteOf:
    """A route label for paths served under fixed prefixes (the gateway's proxied paths):
    the prefix itself, or `<prefix>/*` below it. One split and one set lookup per prefix depth."""
    by_depth: dict[int, set[str]] = {}
    for prefix in prefixes:
        trimmed = prefix.rstrip("/")
        by_depth.setdefault(trimmed.count("/"), set()).add(trimmed)
    depths = sorted(by_depth, reverse=True)

    def route_of(scope: Scope) -> str | None:
        path: str = scope["path"]
        for depth in depths:
            parts = path.split("/", depth + 1)
            head = "/".join(parts[: depth + 1])
            if len(parts) > depth and head in by_depth[depth]:
                return head if len(parts) == depth + 1 else head + "/*"
        return None

    return route_of


class MetricsMiddleware:
    """Pure ASGI: serves `/metrics`, and times every other request by its route template.

    FastAPI's router leaves the matched route in the scope, which the request shares with
    this middleware; `route_of` names what no FastAPI route serves (the gateway's proxied paths)."""

    def __init__(self, app: ASGIApp, *, metrics: Metrics, token: str = "", route_of: RouteOf | None = None) -> None:
        self.app = app
        self.metrics = metrics
        self.token = token
        self.route_of = route_of

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["path"] == METRICS_PATH:
            await self._serve(scope, send)
            return
        status = 500
        started = time.perf_counter()

        async def send_with_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_with_status)
        finally:
            route = matched_route(scope) or (self.route_of(scope) if self.route_of else None) or UNMATCHED_ROUTE
            method = scope["method"]
            self.metrics.observe(
                route, method if method in KNOWN_METHODS else "OTHER", status, time.perf_counter() - started
            )

    async def _serve(self, scope: Scope, send: Send) -> None:
        client = scope.get("client")
        if not may_read_metrics(client_host=client[0] if client else None, headers=scope["headers"], token=self.token):
            await send_problem(send, metrics_refused(), scope["path"])
            return
        body = await self.metrics.render()
        headers = [
            (b"content-type", CONTENT_TYPE_LATEST.encode()),
            (b"content-length", str(len(body)).encode()),
            (b"cache-control", b"no-store"),
            (b"x-content-type-options", b"nosniff"),
        ]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body})


class MetricsServer:
    """A worker's `/metrics` on a port of its own (aiohttp, on the worker's event loop)."""

    def __init__(self, metrics: Metrics, *, host: str, port: int, token: str) -> None:
        self.metrics = metrics
        self.host = host
        self.port = port
        self.token = token
        self._runner: web.AppRunner | None = None

    async def start(self) -> int:
        """Listen; returns the port (the one the system chose when `port` is 0)."""
        app = web.Application()
        app.router.add_get(METRICS_PATH, self._handle)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        server = site._server
        sockets = getattr(server, "sockets", None) or []
        self.port = int(sockets[0].getsockname()[1]) if sockets else self.port
        logger.info("metrics served", host=self.host, port=self.port)
        return self.port

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _handle(self, request: web.Request) -> web.Response:
        headers = [(key.lower().encode("latin-1"), value.encode("latin-1")) for key, value in request.headers.items()]
        if not may_read_metrics(client_host=request.remote, headers=headers, token=self.token):
            refused = metrics_refused()
            return web.json_response(
                refused.to_body(METRICS_PATH),
                status=refused.status,
                headers=refused.headers,
                content_type="application/problem+json",
            )
        body = await self.metrics.render()
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST, "Cache-Control": "no-store"})


async def serve_worker_metrics(
    ctx: dict[str, Any], metrics: Metrics, *, host: str, port: int | None, token: str
) -> None:
    """Serve a worker's `/metrics` on `port` (none: not at all), closed by `close_worker_metrics`."""
    if port is None:
        return
    server = MetricsServer(metrics, host=host, port=port, token=token)
    ctx["metrics_server"] = server
    await server.start()


async def close_worker_metrics(ctx: dict[str, Any]) -> None:
    if "metrics_server" in ctx:
        await ctx["metrics_server"].close()
