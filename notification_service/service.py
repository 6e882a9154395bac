"""Storing relayed events, idempotently by event id."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from notification_service.models import ReceivedEvent
from notification_service.schemas import Envelope


async def store_events(session: AsyncSession, *, events: list[Envelope]) -> tuple[int, int]:
    ids = [event.id for event in events]
    known = set(
        (await session.execute(select(ReceivedEvent.event_id).where(ReceivedEvent.event_id.in_(ids)))).scalars()
    )
    fresh: dict[str, Envelope] = {}
    for event in events:
        if event.id not in known and event.id not in fresh:
            fresh[event.id] = event
    session.add_all(
        ReceivedEvent(
            event_id=event.id,
            event_type=event.type,
            occurred_at=event.occurred_at,
            envelope=event.model_dump(mode="json"),
        )
        for event in fresh.values()
    )
    await session.flush()
    return len(fresh), len(events) - len(fresh)
