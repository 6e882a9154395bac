"""The ticket service's outbox: the kernel's outbox (`services.outbox`) on the `outbox` table."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from services import outbox as kernel
from services.db import Database
from services.events import Envelope
from services.outbox import RelayFailed, event_values
from ticket_service.models import OutboxEvent

__all__ = ["RelayFailed", "add_event", "event_values", "relay_batch"]


async def add_event(session: AsyncSession, **event: Any) -> None:
    """The event exists if and only if the caller's transaction commits (`services.outbox.add_event`)."""
    kernel.add_event(session, OutboxEvent, **event)


async def relay_batch(
    database: Database, *, http: httpx.AsyncClient, url: str, token: str, batch_size: int = 500
) -> list[Envelope]:
    """Publish the oldest unpublished ticket events (see `services.outbox.relay_batch`)."""
    return await kernel.relay_batch(database, OutboxEvent, http=http, url=url, token=token, batch_size=batch_size)
