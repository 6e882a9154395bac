"""`insert_together`: several rows in one atomic write, under a condition; the session dependency."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import bindparam, func, literal, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from services.db import insert_together, writes_in_one_statement
from ticket_service.models import OutboxEvent, TicketNumber

AT = datetime(2026, 11, 28, 8, 0, tzinfo=UTC)


def _outbox_row(event_id: str) -> dict[str, Any]:
    return {
        "event_id": event_id,
        "event_type": "test.happened",
        "aggregate_type": "test",
        "aggregate_id": event_id,
        "occurred_at": AT,
        "envelope": {"id": event_id, "data": {"名称": "测试"}},
    }


async def _outbox_ids(connection: AsyncConnection, *event_ids: str) -> list[str]:
    rows = await connection.execute(select(OutboxEvent.event_id).where(OutboxEvent.event_id.in_(event_ids)))
    return sorted(rows.scalars())


@pytest.fixture
async def own_connection(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A connection outside any test transaction, as the autocommit dependency gives routes (the
    writes tried on it fail, so nothing is left behind)."""
    async with engine.connect() as connection:
        await connection.execution_options(isolation_level="AUTOCOMMIT")
        yield connection


async def test_every_row_is_written_with_its_columns_defaults(connection: AsyncConnection) -> None:
    first, second = uuid.uuid4().hex, uuid.uuid4().hex
    numbers_before = (await connection.execute(select(func.count()).select_from(TicketNumber))).scalar_one()
    written = await insert_together(
        connection,
        [(TicketNumber, {"issued_at": AT}), (OutboxEvent, _outbox_row(first)), (OutboxEvent, _outbox_row(second))],
    )
    assert written is True
    assert await _outbox_ids(connection, first, second) == sorted([first, second])
    row = (await connection.execute(select(OutboxEvent).where(OutboxEvent.event_id == first))).one()
    assert (row.attempts, row.published_at, row.envelope["data"]) == (0, None, {"名称": "测试"})
    numbers_after = (await connection.execute(select(func.count()).select_from(TicketNumber))).scalar_one()
    assert numbers_after == numbers_before + 1


async def test_nothing_is_written_unless_the_condition_holds(connection: AsyncConnection) -> None:
    event_id = uuid.uuid4().hex
    condition = literal(1) == bindparam("expected")
    refused = await insert_together(
        connection, [(OutboxEvent, _outbox_row(event_id))], only_if=condition, parameters={"expected": 2}
    )
    assert refused is False
    assert await _outbox_ids(connection, event_id) == []
    accepted = await insert_together(
        connection, [(OutboxEvent, _outbox_row(event_id))], only_if=condition, parameters={"expected": 1}
    )
    assert accepted is True
    assert await _outbox_ids(connection, event_id) == [event_id]


async def test_a_failing_row_leaves_none_of_the_others(own_connection: AsyncConnection) -> None:
    """On PostgreSQL the write is atomic on its own, with no transaction; on SQLite it must be
    given one (the caller's), and refuses to run without it."""
    kept, duplicated = uuid.uuid4().hex, uuid.uuid4().hex
    rows = [(OutboxEvent, _outbox_row(kept)), (OutboxEvent, _outbox_row(duplicated))]
    rows.append((OutboxEvent, _outbox_row(duplicated)))
    if writes_in_one_statement(own_connection):
        with pytest.raises(IntegrityError):
            await insert_together(own_connection, rows)
    else:
        with pytest.raises(RuntimeError, match="needs the caller's transaction"):
            await insert_together(own_connection, rows)
        with pytest.raises(IntegrityError):
            async with own_connection.begin():
                await insert_together(own_connection, rows)
    assert await _outbox_ids(own_connection, kept, duplicated) == []
