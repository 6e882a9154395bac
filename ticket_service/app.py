"""The ticket service's ASGI application (cases, calendar, statistics)."""

from __future__ import annotations

from contextlib import AsyncExitStack

from fastapi import FastAPI

from services.app import State, create_service_app
from ticket_service.calendar_service import CalendarCache
from ticket_service.routes import router
from ticket_service.settings import TicketSettings

TAGS = [{"name": "calendar", "description": "Working days (工作日), official holidays and make-up days; deadlines."}]


def create_app(settings: TicketSettings | None = None) -> FastAPI:
    settings = settings or TicketSettings()

    async def extra(state: State, _stack: AsyncExitStack) -> None:
        state["calendar_cache"] = CalendarCache(day_end=settings.workday_end, tz=settings.timezone)

    return create_service_app(
        title="965808 ticket service",
        description="Enterprises, orders and tickets under the 1-3-5 rule; the working-day calendar.",
        settings=settings,
        routers=[router],
        tags=TAGS,
        extra_lifespan=extra,
    )
