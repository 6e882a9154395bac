"""Writing events to the outbox, in the caller's transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.db import Database, utcnow
from services.events import Envelope, make_envelope
from ticket_service.models import OutboxEvent


def event_values(
    *, event_type: str, aggregate_type: str, aggregate_id: str, data: dict[str, Any], occurred_at: datetime
) -> dict[str, Any]:
    """An outbox row's values, for a write that inserts it with the change it reports."""
    envelope = make_envelope(event_type, data, occurred_at=occurred_at)
    return {
        "event_id": envelope["id"],
        "event_type": event_type,
        "aggregate_type": aggregate_type,
        "aggregate_id": aggregate_id,
        "occurred_at": occurred_at,
        "envelope": dict(envelope),
    }


async def add_event(
    session: AsyncSession,
    *,
    event_type: str,
    aggregate_type: str,
    aggregate_id: str,
    data: dict[str, Any],
    occurred_at: datetime,
) -> None:
    """The event exists if and only if the caller's transaction commits (its flush writes it)."""
    values = event_values(
        event_type=event_type,
        aggregate_type=aggregate_type,
        aggregate_id=aggregate_id,
        data=data,
        occurred_at=occurred_at,
    )
    session.add(OutboxEvent(**values))


class RelayFailed(Exception):
    """The consumer did not take the batch; its rows stay unpublished and are retried."""


async def relay_batch(
    database: Database,
    *,
    http: httpx.AsyncClient,
    url: str,
    token: str,
    batch_size: int = 500,
) -> list[Envelope]:
    """Publish the oldest unpublished events (at least once, in order per aggregate).

    The batch is claimed through the database's one claim (`Database.claim`): several relays
    share the work, one ticket's events stay with one relay, in `seq` order, and a batch is
    marked published (or its failure counted) only after the consumer answered."""
    unpublished = (
        select(OutboxEvent).where(OutboxEvent.published_at.is_(None)).order_by(OutboxEvent.seq).limit(batch_size)
    )
    aggregate = OutboxEvent.aggregate_type + ":" + OutboxEvent.aggregate_id
    async with database.claim(unpublished, one_holder_per=aggregate) as rows:
        envelopes = [Envelope(**row.envelope) for row in rows]  # type: ignore[typeddict-item]
        if not envelopes:
            return []
        failure = await _post(http, url, token, envelopes)
        _settle(rows, failure)
    if failure is not None:
        raise RelayFailed(failure)
    return envelopes


async def _post(http: httpx.AsyncClient, url: str, token: str, envelopes: list[Envelope]) -> str | None:
    try:
        response = await http.post(url, json={"events": envelopes}, headers={"X-Internal-Token": token})
    except httpx.HTTPError as exc:
        return type(exc).__name__
    return None if response.status_code < 300 else f"status {response.status_code}"


def _settle(rows: list[OutboxEvent], failure: str | None) -> None:
    now = utcnow()
    for row in rows:
        if failure is None:
            row.published_at = now
        else:
            row.attempts += 1
            row.last_error = failure
