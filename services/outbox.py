"""The transactional outbox (DESIGN §4), one implementation for every service that has one.

A service's outbox table mixes in `OutboxColumns`; `add_event` writes a row in the caller's
transaction, so an event exists if and only if the change it reports committed; `relay_batch`
publishes committed rows at least once, in order per aggregate, and consumers de-duplicate by
the envelope's id.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import datetime
from typing import Any, TypeVar

import httpx
import structlog
from sqlalchemy import BigInteger, Integer, String, Text, func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import JSON

from services.db import Database, UtcDateTime, utcnow
from services.events import Envelope, make_envelope

logger = structlog.get_logger(__name__)
# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets a 64-bit identity.
BigIntId = BigInteger().with_variant(Integer, "sqlite")


class OutboxColumns:
    """The columns of an outbox table: `seq` orders it, `published_at` marks what was relayed."""

    seq: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(36), unique=True)
    event_type: Mapped[str] = mapped_column(String(64), index=True)
    aggregate_type: Mapped[str] = mapped_column(String(32))
    aggregate_id: Mapped[str] = mapped_column(String(64), index=True)
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime)
    envelope: Mapped[dict[str, Any]] = mapped_column(JSON)
    published_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)


Row = TypeVar("Row", bound=OutboxColumns)


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


def add_event(
    session: AsyncSession,
    table: type[OutboxColumns],
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
    session.add(table(**values))


class RelayFailed(Exception):
    """The consumer did not take the batch; its rows stay unpublished and are retried."""


async def relay_batch(
    database: Database,
    table: type[OutboxColumns],
    *,
    http: httpx.AsyncClient,
    url: str,
    token: str,
    batch_size: int = 500,
) -> list[Envelope]:
    """Publish the oldest unpublished events of `table` (at least once, in order per aggregate).

    The batch is claimed through the database's one claim (`Database.claim`; on PostgreSQL
    several relays share the work and one aggregate's events stay with one relay), and is
    marked published, or its failure counted, only after the consumer answered."""
    unpublished = select(table).where(table.published_at.is_(None)).order_by(table.seq).limit(batch_size)
    aggregate = table.aggregate_type + ":" + table.aggregate_id
    async with database.claim(unpublished, one_holder_per=aggregate) as claim:
        envelopes = [Envelope(**row.envelope) for row in claim.rows]  # type: ignore[typeddict-item]
        if not envelopes:
            return []
        failure = await _post(http, url, token, envelopes)
        await claim.settle(lambda rows: _settle(rows, failure))
    if failure is not None:
        raise RelayFailed(failure)
    return envelopes


async def unpublished_backlog(engine: AsyncEngine, table: type[OutboxColumns], *, now: datetime) -> tuple[int, float]:
    """How many committed events wait for the relay, and the oldest one's age in seconds (0 when none)."""
    query = select(func.count(), func.min(table.occurred_at)).where(table.published_at.is_(None))
    async with engine.connect() as connection:
        count, oldest = (await connection.execute(query)).one()
    if oldest is None:
        return int(count), 0.0
    if oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=now.tzinfo)
    return int(count), max(0.0, (now - oldest).total_seconds())


async def _post(http: httpx.AsyncClient, url: str, token: str, envelopes: list[Envelope]) -> str | None:
    try:
        response = await http.post(url, json={"events": envelopes}, headers={"X-Internal-Token": token})
    except httpx.HTTPError as exc:
        return type(exc).__name__
    return None if response.status_code < 300 else f"status {response.status_code}"


def _settle(rows: list[Any], failure: str | None) -> None:
    now = utcnow()
    for row in rows:
        if failure is None:
            # Another relay (SQLite: at least once) may have published it first: keep that instant.
            row.published_at = row.published_at or now
        elif row.published_at is None:
            row.attempts += 1
            row.last_error = failure


async def relay_until_stopped(
    database: Database,
    table: type[OutboxColumns],
    *,
    http: httpx.AsyncClient,
    token: str,
    interval_seconds: float,
    stop: asyncio.Event,
    url: str = "/internal/events",
    max_backoff_seconds: float = 60,
) -> None:
    """Relay `table` until `stop` is set: drain what is committed, then wait `interval_seconds`;
    while the consumer is down, wait twice as long after each failure (up to a minute). The
    events wait in the outbox meanwhile, so nothing is lost however long it is down. The first
    pass waits one interval too: processes started together (the consumer among them) are up by then."""
    wait = interval_seconds
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=interval_seconds)
    while not stop.is_set():
        try:
            published = await relay_batch(database, table, http=http, url=url, token=token)
        except (RelayFailed, OSError, SQLAlchemyError) as exc:
            wait = min(max_backoff_seconds, wait * 2)
            logger.warning("outbox relay failed; backing off", table=table.__name__, error=str(exc), wait_s=wait)
            published = []
        else:
            wait = interval_seconds
        if published:
            continue
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=wait)
