"""Writing events to the outbox, in the caller's transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.events import Envelope, make_envelope
from ticket_service.models import OutboxEvent


async def add_event(
    session: AsyncSession,
    *,
    event_type: str,
    aggregate_type: str,
    aggregate_id: str,
    data: dict[str, Any],
    occurred_at: datetime,
) -> Envelope:
    """The event exists if and only if the caller's transaction commits (its flush writes it)."""
    envelope = make_envelope(event_type, data, occurred_at=occurred_at)
    session.add(
        OutboxEvent(
            event_id=envelope["id"],
            event_type=event_type,
            aggregate_type=aggregate_type,
            aggregate_id=aggregate_id,
            occurred_at=occurred_at,
            envelope=dict(envelope),
        )
    )
    return envelope
