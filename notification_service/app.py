"""The notification service's ASGI application."""

from __future__ import annotations

from contextlib import AsyncExitStack

import httpx
from fastapi import FastAPI

from notification_service.routes import routers
from notification_service.settings import NotificationSettings
from notification_service.ticket_client import TicketClient
from services.app import State, create_service_app
from services.http import create_http_client
from services.queue import LazyQueue

TAGS = [
    {"name": "webhooks", "description": "Signed outbound webhooks (Standard Webhooks) and their delivery log."},
    {"name": "inbox", "description": "Each person's notifications."},
    {"name": "hotline", "description": "The 965808 hotline's signed webhooks: calls in, follow-up ratings in."},
]


def create_app(
    settings: NotificationSettings | None = None, *, tickets_transport: httpx.AsyncBaseTransport | None = None
) -> FastAPI:
    """`tickets_transport` replaces the network for the ticket service's client (in-process tests)."""
    settings = settings or NotificationSettings()

    async def extra(state: State, stack: AsyncExitStack) -> None:
        http = create_http_client(
            replicas=settings.ticket_replicas, timeout=settings.tickets_timeout_seconds, transport=tickets_transport
        )
        stack.push_async_callback(http.aclose)
        state["tickets"] = TicketClient(http, token=settings.internal_token.get_secret_value())
        state["enterprise_sizes"] = {}
        queue = LazyQueue(settings.effective_redis_url, queue_name=settings.worker_queue_name)
        stack.push_async_callback(queue.close)
        state["delivery_queue"] = queue

    return create_service_app(
        title="965808 notification service",
        description="Inbound hotline webhooks, outbound signed webhooks and the user inbox.",
        settings=settings,
        routers=routers,
        tags=TAGS,
        extra_lifespan=extra,
    )
