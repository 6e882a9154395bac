"""The ticket service's ASGI application (cases, calendar, statistics)."""

from __future__ import annotations

from fastapi import FastAPI

from services.app import create_service_app
from ticket_service.settings import TicketSettings


def create_app(settings: TicketSettings | None = None) -> FastAPI:
    return create_service_app(
        title="965808 ticket service",
        description="Enterprises, orders and tickets under the 1-3-5 rule; the working-day calendar.",
        settings=settings or TicketSettings(),
        routers=[],
    )
