"""The ticket service's ASGI application (cases, calendar, statistics)."""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack

import httpx
from fastapi import FastAPI

from services.app import State, create_service_app
from services.http import create_http_client
from services.queue import LazyQueue
from ticket_service import (
    adjudication_routes,
    calendar_routes,
    documentation,
    enterprise_routes,
    internal_routes,
    sla_routes,
    stats_routes,
    stats_summary,
    ticket_routes,
)
from ticket_service.calendar_service import CalendarCache
from ticket_service.catalog_client import CatalogClient
from ticket_service.context import TicketContext
from ticket_service.numbers import TicketNumbers
from ticket_service.settings import TicketSettings


def create_app(
    settings: TicketSettings | None = None, *, catalog_transport: httpx.AsyncBaseTransport | None = None
) -> FastAPI:
    """`catalog_transport` replaces the network for the catalogue client (in-process tests)."""
    settings = settings or TicketSettings()

    async def extra(state: State, stack: AsyncExitStack) -> None:
        calendar_cache = CalendarCache(day_end=settings.workday_end, tz=settings.timezone)
        catalog_http = create_http_client(
            replicas=settings.catalog_replicas, timeout=settings.catalog_timeout_seconds, transport=catalog_transport
        )
        stack.push_async_callback(catalog_http.aclose)
        state["ticket_context"] = TicketContext(
            catalog=CatalogClient(catalog_http, internal_token=settings.internal_token.get_secret_value()),
            calendar_cache=calendar_cache,
            numbers=TicketNumbers(reserve_ahead=state["database"].reserves_numbers_ahead),
            policy=settings.sla_policy(),
        )
        queue = LazyQueue(settings.effective_redis_url)
        stack.push_async_callback(queue.close)
        state["queue"] = queue
        fold_summaries(state, stack)
        # The gateway merges every service's document on its first docs request, within 5 s;
        # this one takes over a second to build, so it is built (and kept) before serving.
        app.openapi()

    def fold_summaries(state: State, stack: AsyncExitStack) -> None:
        """The statistics' deltas reach their summary rows every few seconds, and at the end (reads
        sum both, so this only keeps the deltas few)."""
        if not settings.stats_fold_seconds:
            return
        stop = asyncio.Event()
        task = asyncio.create_task(
            stats_summary.fold_until_stopped(state["database"], interval_seconds=settings.stats_fold_seconds, stop=stop)
        )

        async def finish() -> None:
            stop.set()
            await asyncio.wait_for(task, timeout=10)

        stack.push_async_callback(finish)

    app = create_service_app(
        title="965808 ticket service",
        description="Enterprises, orders and tickets under the 1-3-5 rule; the working-day calendar.",
        settings=settings,
        routers=[
            ticket_routes.router,
            calendar_routes.router,
            enterprise_routes.router,
            sla_routes.router,
            stats_routes.router,
            adjudication_routes.router,
            internal_routes.router,
        ],
        tags=documentation.tags(),
        extra_lifespan=extra,
    )
    return app
