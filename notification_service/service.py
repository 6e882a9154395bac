"""The intake of relayed events: each is stored once, and in the same transaction gets its
webhook deliveries and its inbox entries, so a duplicate from the relay creates nothing twice."""

from __future__ import annotations

import time
from datetime import datetime

import structlog
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from notification_service import deliveries, inbox
from notification_service.models import ReceivedEvent
from notification_service.schemas import Envelope
from services.errors import UpstreamUnavailable
from services.queue import LazyQueue

logger = structlog.get_logger(__name__)


async def store_events(session: AsyncSession, *, events: list[Envelope], now: datetime) -> tuple[int, int]:
    ids = [event.id for event in events]
    known = set(
        (await session.execute(select(ReceivedEvent.event_id).where(ReceivedEvent.event_id.in_(ids)))).scalars()
    )
    fresh: dict[str, Envelope] = {}
    for event in events:
        if event.id not in known and event.id not in fresh:
            fresh[event.id] = event
    if fresh:
        # The events first, in one bulk INSERT: deliveries refer to them.
        rows = [
            {
                "event_id": event.id,
                "event_type": event.type,
                "occurred_at": event.occurred_at,
                "envelope": event.model_dump(mode="json"),
                "received_at": now,
            }
            for event in fresh.values()
        ]
        await session.execute(insert(ReceivedEvent), rows)
    await deliveries.fan_out(session, events=list(fresh.values()), now=now)
    for event in fresh.values():
        notices = inbox.notices_for(event.type, event.data)
        inbox.add_entries(session, source_id=event.id, notices=notices, data=event.data)
    await session.flush()
    return len(fresh), len(events) - len(fresh)


async def nudge_delivery_worker(queue: LazyQueue) -> None:
    """Ask a delivery worker to send what just came in, rather than at its next tick. At most
    ten nudges a second reach the queue (a job id per tenth of a second); with Redis down the
    worker's own tick sends it a moment later."""
    try:
        await queue.enqueue("deliver_due", job_id=f"deliver:{int(time.time() * 10)}")
    except UpstreamUnavailable:
        logger.info("delivery worker not nudged: the queue is unreachable")
