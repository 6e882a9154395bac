"""Ticket numbers: the human-readable `T<yyyymmdd><seq>` read to callers."""

from __future__ import annotations

import asyncio

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from services.db import utcnow
from ticket_service.models import TicketNumber

_TAKE_NUMBERS = insert(TicketNumber).returning(TicketNumber.seq, sort_by_parameter_order=True)


class TicketNumbers:
    """Sequence values, one `ticket_numbers` row each. Where the database never issues a value
    twice (`Database.reserves_numbers_ahead`), they are taken `batch` at a time ahead of need,
    so most creations spend no round trip on their number; they still grow in each process.
    Elsewhere each creation takes its own in its own transaction."""

    def __init__(self, *, reserve_ahead: bool, batch: int = 50) -> None:
        self.reserve_ahead = reserve_ahead
        self.batch = batch
        self._spare: list[int] = []
        self._lock = asyncio.Lock()

    async def take(self, db: AsyncConnection, count: int) -> list[int]:
        if not self.reserve_ahead:
            return await self._reserve(db, count)
        async with self._lock:
            if len(self._spare) < count:
                self._spare += await self._reserve(db, max(count - len(self._spare), self.batch))
            taken, self._spare = self._spare[:count], self._spare[count:]
        return taken

    @staticmethod
    async def _reserve(db: AsyncConnection, count: int) -> list[int]:
        now = utcnow()
        return sorted((await db.execute(_TAKE_NUMBERS, [{"issued_at": now}] * count)).scalars())
