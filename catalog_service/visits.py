"""Counting the catalogue's visits: every read of the items, categories, menus and policies.

A pure ASGI middleware counts in memory (a read costs a dictionary increment, the read cache
still answers it); the counts are added to `catalog_visit_days` every few seconds and when the
process stops. Replicas add their own counts, so the sums hold however many run. Reads by the
platform's own services (they carry the internal token) are not visits."""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Table, func, select
from starlette.types import ASGIApp, Receive, Scope, Send

from catalog_service.models import CatalogVisitDay, Policy, ServiceItem
from services.db import Database, Reader, add_to_rows, utcnow

CATALOGUE_PREFIXES = ("/api/v1/items", "/api/v1/categories", "/api/v1/menus")
POLICY_PREFIX = "/api/v1/policies"
INTERNAL_HEADER = b"x-internal-token"


def _table(entity: type[Any]) -> Table:
    table = entity.__table__
    assert isinstance(table, Table)
    return table


class VisitCounter:
    """Visits per (local day, kind) not yet written."""

    def __init__(self, tz: str = "Asia/Shanghai") -> None:
        self.zone = ZoneInfo(tz)
        self.pending: Counter[tuple[date, str]] = Counter()
        # One flush at a time: a reader who asks for the figures waits for a flush under way.
        self._flushing = asyncio.Lock()

    def count(self, kind: str, at: datetime | None = None) -> None:
        self.pending[((at or utcnow()).astimezone(self.zone).date(), kind)] += 1

    async def flush(self, database: Database) -> None:
        """Add the pending counts to the table (what fails to be written is counted again later)."""
        async with self._flushing:
            if not self.pending:
                return
            taken, self.pending = self.pending, Counter()
            rows = [{"day": day, "kind": kind, "visits": n} for (day, kind), n in sorted(taken.items())]
            try:
                async with database.sessionmaker() as session, session.begin():
                    dialect = session.get_bind().dialect.name
                    await session.execute(add_to_rows(dialect, _table(CatalogVisitDay), rows))
            except BaseException:
                self.pending.update(taken)
                raise


async def flush_until_stopped(
    counter: VisitCounter, database: Database, *, interval_seconds: float, stop: asyncio.Event
) -> None:
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval_seconds)
        try:
            await counter.flush(database)
        except Exception:
            if stop.is_set():
                return


class VisitCounterMiddleware:
    """Counts each GET of the catalogue and the policies (pure ASGI)."""

    def __init__(self, app: ASGIApp, *, counter: VisitCounter) -> None:
        self.app = app
        self.counter = counter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET":
            kind = _kind(scope["path"])
            if kind is not None and not any(name == INTERNAL_HEADER for name, _ in scope["headers"]):
                self.counter.count(kind)
        await self.app(scope, receive, send)


def _kind(path: str) -> str | None:
    if path == POLICY_PREFIX or path.startswith(POLICY_PREFIX + "/"):
        return "policy"
    for prefix in CATALOGUE_PREFIXES:
        if path == prefix or path.startswith(prefix + "/"):
            return "catalogue"
    return None


async def catalogue_figures(db: Reader, *, start: date, end: date) -> dict[str, int]:
    """Visits in the days from `start` to `end`, and what is published now."""
    visits = _table(CatalogVisitDay)
    rows = await db.execute(
        select(visits.c.kind, func.sum(visits.c.visits))
        .where(visits.c.day >= start, visits.c.day <= end)
        .group_by(visits.c.kind)
    )
    by_kind = {kind: int(n or 0) for kind, n in rows.all()}
    policies = await db.execute(select(func.count()).select_from(_table(Policy)).where(Policy.status == "published"))
    items = await db.execute(
        select(func.count()).select_from(_table(ServiceItem)).where(ServiceItem.status == "published")
    )
    return {
        "catalogue_visits": by_kind.get("catalogue", 0),
        "policy_visits": by_kind.get("policy", 0),
        "visits": sum(by_kind.values()),
        "policies_published": int(policies.scalar() or 0),
        "items_published": int(items.scalar() or 0),
    }
