"""Writing events to the outbox, in the caller's transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.db import utcnow
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
    sessionmaker: async_sessionmaker[AsyncSession],
    *,
    http: httpx.AsyncClient,
    url: str,
    token: str,
    batch_size: int = 500,
) -> list[Envelope]:
    """Publish the oldest unpublished events (at least once, in order per aggregate).

    PostgreSQL: rows are taken FOR UPDATE SKIP LOCKED, with an advisory lock per aggregate, and
    held while the batch is posted, so several relays share the work and one ticket's events
    stay with one relay, in `seq` order. SQLite has one writer for the whole file (the
    consumer included), so there the batch is read, posted with no transaction open, and
    marked published in a second short transaction."""
    async with sessionmaker() as session:
        postgres = session.get_bind().dialect.name == "postgresql"
        statement = select(OutboxEvent).where(OutboxEvent.published_at.is_(None))
        if postgres:
            aggregate = OutboxEvent.aggregate_type + ":" + OutboxEvent.aggregate_id
            statement = statement.where(func.pg_try_advisory_xact_lock(func.hashtext(aggregate)))
        statement = statement.order_by(OutboxEvent.seq).limit(batch_size).with_for_update(skip_locked=True)
        rows = list((await session.execute(statement)).scalars().all())
        if not rows:
            await session.rollback()
            return []
        envelopes = [Envelope(**row.envelope) for row in rows]  # type: ignore[typeddict-item]
        if postgres:
            failure = await _post(http, url, token, envelopes)
            _settle(rows, failure)
            await session.commit()
        else:
            seqs = [row.seq for row in rows]
            await session.rollback()
    if not postgres:
        failure = await _post(http, url, token, envelopes)
        async with sessionmaker() as session:
            rows = list((await session.execute(select(OutboxEvent).where(OutboxEvent.seq.in_(seqs)))).scalars())
            _settle(rows, failure)
            await session.commit()
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
