"""`Database.claim`: rows to work on and then settle, on both databases, committed for real (a
claim's second transaction on SQLite cannot live inside a test's rolled-back one)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import Select, delete, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from services.db import Database, create_sessionmaker, database_for, utcnow
from services.outbox import event_values
from ticket_service.models import OutboxEvent


@pytest.fixture
async def rows(engine: AsyncEngine) -> AsyncIterator[tuple[Database, str, list[int]]]:
    """Three committed outbox rows of an aggregate no other test uses; removed afterwards."""
    database = database_for(engine, create_sessionmaker(engine))
    aggregate = f"claim-{uuid.uuid4().hex}"
    async with database.sessionmaker() as session, session.begin():
        added = [
            OutboxEvent(
                **event_values(
                    event_type="test.claimed",
                    aggregate_type="test",
                    aggregate_id=aggregate,
                    data={"n": n},
                    occurred_at=datetime.now(UTC),
                )
            )
            for n in range(3)
        ]
        session.add_all(added)
        await session.flush()
        seqs = [row.seq for row in added]
    yield database, aggregate, seqs
    async with database.sessionmaker() as session, session.begin():
        await session.execute(delete(OutboxEvent).where(OutboxEvent.aggregate_id == aggregate))


def _mine(aggregate: str) -> Select[tuple[OutboxEvent]]:
    return select(OutboxEvent).where(OutboxEvent.aggregate_id == aggregate).order_by(OutboxEvent.seq)


async def _stored(database: Database, aggregate: str) -> list[tuple[int, datetime | None, int]]:
    async with database.sessionmaker() as session:
        found = await session.execute(_mine(aggregate))
        return [(row.seq, row.published_at, row.attempts) for row in found.scalars()]


async def test_what_is_settled_is_written(rows: tuple[Database, str, list[int]]) -> None:
    database, aggregate, seqs = rows
    now = utcnow()
    async with database.claim(_mine(aggregate)) as claim:
        assert [row.seq for row in claim.rows] == seqs

        def publish(claimed: list[OutboxEvent]) -> None:
            for row in claimed:
                row.published_at = now

        await claim.settle(publish)
    assert [published is not None for _, published, _ in await _stored(database, aggregate)] == [True] * 3


async def test_a_failure_inside_the_block_writes_nothing(rows: tuple[Database, str, list[int]]) -> None:
    database, aggregate, _ = rows
    with pytest.raises(RuntimeError):
        async with database.claim(_mine(aggregate)) as claim:
            raise RuntimeError("the consumer call crashed")
    assert claim.rows and all(published is None for _, published, _ in await _stored(database, aggregate))


async def test_settling_starts_from_the_rows_as_they_are_now(rows: tuple[Database, str, list[int]]) -> None:
    """Another worker published one row and deleted another while this one worked: a failure
    counted now unpublishes nothing and writes no deleted row again (SQLite; on PostgreSQL the
    rows are locked, so the other worker skips them)."""
    database, aggregate, seqs = rows
    async with database.claim(_mine(aggregate)) as claim:
        if not database.writes_in_one_statement:
            async with database.sessionmaker() as other, other.begin():
                await other.execute(update(OutboxEvent).where(OutboxEvent.seq == seqs[0]).values(published_at=utcnow()))
                await other.execute(delete(OutboxEvent).where(OutboxEvent.seq == seqs[1]))

        def count_failure(claimed: list[OutboxEvent]) -> None:
            for row in claimed:
                if row.published_at is None:
                    row.attempts += 1

        await claim.settle(count_failure)
    stored = await _stored(database, aggregate)
    if database.writes_in_one_statement:
        assert [(attempts, published is None) for _, published, attempts in stored] == [(1, True)] * 3
    else:
        assert [(seq, published is None, attempts) for seq, published, attempts in stored] == [
            (seqs[0], False, 0),
            (seqs[2], True, 1),
        ]


async def test_concurrent_claims_take_different_rows_on_postgresql_only(rows: tuple[Database, str, list[int]]) -> None:
    database, aggregate, seqs = rows
    async with database.claim(_mine(aggregate).limit(1)) as first, database.claim(_mine(aggregate)) as second:
        taken = [row.seq for row in second.rows]
    assert [row.seq for row in first.rows] == seqs[:1]
    # PostgreSQL skips the row the first worker holds; SQLite holds no lock and says so.
    assert taken == (seqs[1:] if database.writes_in_one_statement else seqs)
