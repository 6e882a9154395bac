"""The catalogue service's ASGI application."""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack

from fastapi import FastAPI
from starlette.middleware import Middleware

from catalog_service.internal_routes import router as internal_router
from catalog_service.models import CatalogOutboxEvent
from catalog_service.routes import routers
from catalog_service.settings import CatalogSettings
from catalog_service.visits import VisitCounter, VisitCounterMiddleware, flush_until_stopped
from services.app import State, create_service_app
from services.http import create_http_client
from services.metrics import watch_outbox
from services.outbox import relay_until_stopped
from services.read_cache import ReadCache, ReadCacheMiddleware

TAGS = [
    {"name": "departments", "description": "The municipal departments that handle requests (部门)."},
    {"name": "categories", "description": "Groups of service items (类别)."},
    {"name": "items", "description": "Service items on the menu (服务项目)."},
    {"name": "policies", "description": "Enterprise policies that items are based on (涉企政策)."},
    {"name": "menus", "description": "Published menu editions (服务菜单)."},
]


def create_app(settings: CatalogSettings | None = None) -> FastAPI:
    settings = settings or CatalogSettings()
    # The menu changes rarely and everyone reads it: anonymous reads come from memory for a
    # moment (writes through this process clear it at once). Tests reach it on app.state.
    read_cache = ReadCache(ttl_seconds=settings.read_cache_seconds)

    visits = VisitCounter()

    async def background(state: State, stack: AsyncExitStack) -> None:
        await count_visits(state, stack)
        await relay(state, stack)

    async def count_visits(state: State, stack: AsyncExitStack) -> None:
        """The visits counted in memory reach the database every few seconds, and at the end."""
        state["visits"] = visits
        stop = asyncio.Event()
        task = (
            asyncio.create_task(
                flush_until_stopped(visits, state["database"], interval_seconds=settings.visit_flush_seconds, stop=stop)
            )
            if settings.visit_flush_seconds
            else None
        )

        async def finish() -> None:
            stop.set()
            if task is not None:
                await asyncio.wait_for(task, timeout=10)
            await visits.flush(state["database"])

        stack.push_async_callback(finish)

    async def relay(state: State, stack: AsyncExitStack) -> None:
        """Announcements leave through the outbox, relayed to the notification service."""
        watch_outbox(state["metrics"], state["engine"], CatalogOutboxEvent, outbox="catalog")
        if not settings.relay_interval_seconds:
            return
        http = create_http_client(replicas=settings.notification_replicas, timeout=settings.upstream_timeout_seconds)
        stack.push_async_callback(http.aclose)
        stop = asyncio.Event()
        task = asyncio.create_task(
            relay_until_stopped(
                state["database"],
                CatalogOutboxEvent,
                http=http,
                token=settings.internal_token.get_secret_value(),
                interval_seconds=settings.relay_interval_seconds,
                stop=stop,
            )
        )
        stack.push_async_callback(lambda: asyncio.wait_for(task, timeout=10))
        stack.callback(stop.set)

    app = create_service_app(
        title="965808 catalogue service",
        description="The service menu: departments, categories, items, policies and menu editions.",
        settings=settings,
        routers=[*routers, internal_router],
        tags=TAGS,
        middleware=[
            Middleware(VisitCounterMiddleware, counter=visits),
            Middleware(ReadCacheMiddleware, cache=read_cache),
        ],
        extra_lifespan=background,
    )
    app.state.read_cache = read_cache
    app.state.visits = visits
    return app
