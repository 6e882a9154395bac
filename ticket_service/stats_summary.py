"""The statistics' summary tables: what each ticket, step and rating adds to them, and writing it.

A ticket's *standing* (`add_ticket`) is a function of its row (and its joint contributions): a
change takes its old standing away and adds the new one, so the tables always hold the sum of
every ticket's standing as it is now. A *step* (`add_step`: returned, escalated, resolved) and a
*rating* (`add_rating`) add what happened when it happened. `rebuild` computes the same sums from
the tickets, their audit trails and their ratings, so maintained and rebuilt tables agree. A
transaction's additions are summed as it goes and written just before it commits (`pending`).

A transaction never updates a summary row: it appends its additions to the delta tables (plain
inserts, which no concurrent creation or change waits for), and `fold` moves committed deltas
into the summary rows (periodically, in the ticket service's lifespan; before a rebuild; in tests
before comparing tables). Reads sum the summary and the delta rows (`department_days`,
`handling_days`, `hot_spot_days`), so they see every committed change whether folded or not: a
fold deletes the deltas and adds them to the summary in one transaction, so any snapshot counts
each delta exactly once. Upserting the summary in every change's transaction made concurrent
creations of one department and day wait for each other's commit (a row lock held across the
WAL flush); the fold is the only writer of summary rows, so they need no shards either.

Which day a counter is filed under: a ticket's standing under the day it was received (the
completion figures under the day it is due, handling time under the day it was resolved); a
step or a rating under its own day. Days are local (the calendar's zone).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, Subquery, Table, delete, event, exists, func, insert, or_, select, union_all
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.orm import Session, SessionTransaction

from services.db import Database, add_selected_to_rows, add_to_rows, counter_columns
from services.workdays import WorkCalendar
from ticket_service.lifecycle import OPEN_STATUSES
from ticket_service.models import (
    Feedback,
    JointContribution,
    StatsDepartmentDay,
    StatsDepartmentDelta,
    StatsHandlingDay,
    StatsHandlingDelta,
    StatsHotSpotDay,
    StatsHotSpotDelta,
    Ticket,
    TicketEvent,
)

DEPARTMENT_COUNTERS = (
    "received",
    "orders",
    "accepted_on_time",
    "resolved_on_time",
    "due",
    "completed",
    "joint_led",
    "joint_joined",
    "joint_late",
    "overdue_open",
    "returned",
    "escalations",
    "resolutions",
    "rated",
    "satisfied",
    "ruled_out",
    "redo",
)
SATISFIED_RATINGS = frozenset({"satisfied", "basically_satisfied"})
HOT_SPOT_DIMENSIONS = ("category", "item", "industry", "park")
MAX_TENTHS = 9999
_OPEN = frozenset(status.value for status in OPEN_STATUSES)
_RESOLVED = frozenset({"resolved", "explained", "closed"})

DepartmentKey = tuple[str, date, str, str]  # department, day, size, channel
HandlingKey = tuple[str, date, int]  # department, day, tenths of working days
HotSpotKey = tuple[date, str, str]  # day, dimension, key
Contributions = Mapping[str, datetime]  # co-department -> its first contribution
Values = Mapping[Any, Any]  # a row's column values (a Core read's RowMapping is one)


def _counters() -> defaultdict[str, int]:
    return defaultdict(int)


@dataclass
class Tally:
    """Additions to the summary tables, summed per row before they are written."""

    departments: defaultdict[DepartmentKey, defaultdict[str, int]] = field(
        default_factory=lambda: defaultdict(_counters)
    )
    handling: defaultdict[HandlingKey, int] = field(default_factory=lambda: defaultdict(int))
    hot_spots: defaultdict[HotSpotKey, int] = field(default_factory=lambda: defaultdict(int))

    def count(self, key: DepartmentKey, counter: str, sign: int) -> None:
        self.departments[key][counter] += sign

    def rows(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
        """The non-zero additions as rows of the three tables (without a delta's id), in key order."""
        departments = [
            {
                "department_code": key[0],
                "day": key[1],
                "size": key[2],
                "channel": key[3],
                **dict.fromkeys(DEPARTMENT_COUNTERS, 0),
                **counters,
            }
            for key, counters in sorted(self.departments.items())
            if any(counters.values())
        ]
        handling = [
            {"department_code": key[0], "day": key[1], "tenths": key[2], "resolutions": n}
            for key, n in sorted(self.handling.items())
            if n
        ]
        hot_spots = [
            {"day": key[0], "dimension": key[1], "key": key[2], "received": n}
            for key, n in sorted(self.hot_spots.items())
            if n
        ]
        return departments, handling, hot_spots


def local_day(at: datetime, zone: ZoneInfo) -> date:
    return at.astimezone(zone).date()


def _late_co_departments(values: Values, contributions: Contributions) -> list[str]:
    """Co-departments whose contribution came after resolve_due, or never on a ticket resolved late."""
    due = values["resolve_due"]
    resolved_at = values.get("resolved_at")
    late = []
    for code in values["co_department_codes"] or ():
        first = contributions.get(code)
        if (first is not None and first > due) or (first is None and resolved_at is not None and resolved_at > due):
            late.append(code)
    return late


def handling_tenths(values: Values, calendar: WorkCalendar) -> int:
    """Working time from the clock's start (receipt, or the last reopen) to resolution, in tenths
    of a working day, paused time left out."""
    spent = calendar.working_time_between(values["clock_started_at"], values["resolved_at"])
    spent_us = spent.total_seconds() * 1_000_000 - (values["paused_working_us"] or 0)
    day_us = calendar.working_day_length.total_seconds() * 1_000_000
    return min(MAX_TENTHS, max(0, int(spent_us * 10 // day_us)))


def add_ticket(tally: Tally, values: Values, contributions: Contributions, calendar: WorkCalendar, sign: int) -> None:
    """Add (`sign` 1) or take away (-1) a ticket's standing."""
    zone = ZoneInfo(calendar.tz)
    lead = values["department_code"] or ""
    size, channel = values["enterprise_size"] or "", values["channel"]
    key = (lead, local_day(values["received_at"], zone), size, channel)
    status = values["status"]
    tally.count(key, "received", sign)
    if values["kind"] == "order":
        tally.count(key, "orders", sign)
    accepted_at = values.get("accepted_at")
    if accepted_at is not None and accepted_at <= values["accept_due"]:
        tally.count(key, "accepted_on_time", sign)
    late_co = _late_co_departments(values, contributions)
    resolved_at = values.get("resolved_at")
    if resolved_at is not None and (resolved_at <= values["resolve_due"] or late_co):
        tally.count(key, "resolved_on_time", sign)
    if status != "withdrawn":
        due_key = (lead, local_day(values["resolve_due"], zone), size, channel)
        tally.count(due_key, "due", sign)
        if resolved_at is not None:
            tally.count(due_key, "completed", sign)
    co_departments = values["co_department_codes"] or ()
    if co_departments:
        tally.count(key, "joint_led", sign)
        for code in co_departments:
            tally.count((code, key[1], size, channel), "joint_joined", sign)
        for code in late_co:
            tally.count((code, key[1], size, channel), "joint_late", sign)
    if values["is_overdue"] and status in _OPEN:
        tally.count(key, "overdue_open", sign)
    if resolved_at is not None and status in _RESOLVED:
        handling_key = (lead, local_day(resolved_at, zone), handling_tenths(values, calendar))
        tally.handling[handling_key] += sign


def add_hot_spots(tally: Tally, values: Values, zone: ZoneInfo) -> None:
    """A new ticket's request by category, item, industry and park (those it names)."""
    day = local_day(values["received_at"], zone)
    keys = (
        values["category_code"],
        values["item_code"],
        values["enterprise_industry"],
        values["enterprise_park"],
    )
    for dimension, key in zip(HOT_SPOT_DIMENSIONS, keys, strict=True):
        if key:
            tally.hot_spots[(day, dimension, key)] += 1


def add_step(tally: Tally, before: Values, after: Values, *, at: datetime, zone: ZoneInfo) -> None:
    """What one change did, filed under its day: a return (退单) counts for the department that
    returned it, an escalation and a resolution for the lead of the time."""
    size, channel = after["enterprise_size"] or "", after["channel"]
    day = local_day(at, zone)
    moved = before["status"] != after["status"]
    if moved and after["status"] == "returned":
        tally.count((before["department_code"] or "", day, size, channel), "returned", 1)
    if moved and after["status"] == "escalated":
        tally.count((before["department_code"] or "", day, size, channel), "escalations", 1)
    if after["resolution_round"] > before["resolution_round"]:
        tally.count((after["department_code"] or "", day, size, channel), "resolutions", 1)


def add_rating(tally: Tally, rating: Values, ticket: Values, zone: ZoneInfo, sign: int) -> None:
    """A rating, for the department whose resolution it rates, under the day it was given."""
    key = (
        rating["department_code"] or "",
        local_day(rating["created_at"], zone),
        ticket["enterprise_size"] or "",
        ticket["channel"],
    )
    tally.count(key, "rated", sign)
    if rating["rating"] in SATISFIED_RATINGS:
        tally.count(key, "satisfied", sign)
    if rating["rating"] == "unsatisfied":
        tally.count(key, "redo", sign)
    if rating["ruled_out"]:
        tally.count(key, "ruled_out", sign)


def _table(entity: type[Any]) -> Table:
    table = entity.__table__
    assert isinstance(table, Table)
    return table


_PENDING = "stats_pending"
_HOOKED = "stats_hooked"
SUMMARIES = (StatsDepartmentDay, StatsHandlingDay, StatsHotSpotDay)
DELTAS = (StatsDepartmentDelta, StatsHandlingDelta, StatsHotSpotDelta)
# Rows per upsert statement: a statement's bound parameters are limited (32,767 on asyncpg).
_UPSERT_ROWS = 500
# The fold's advisory lock on PostgreSQL (any constant of this service's own).
_FOLD_LOCK = 965_808_13

log = logging.getLogger(__name__)


def pending(session: AsyncSession) -> Tally:
    """The transaction's additions, appended to the delta tables just before it commits (one
    insert per table). A rollback forgets them."""
    sync = session.sync_session
    tally: Tally | None = sync.info.get(_PENDING)
    if tally is None:
        tally = sync.info[_PENDING] = Tally()
        if not sync.info.get(_HOOKED):
            event.listen(sync, "before_commit", _write_pending)
            event.listen(sync, "after_soft_rollback", _forget_pending)
            sync.info[_HOOKED] = True
    return tally


def _write_pending(sync: Session) -> None:
    tally: Tally | None = sync.info.pop(_PENDING, None)
    if tally is None:
        return
    for entity, rows in zip(DELTAS, tally.rows(), strict=True):
        if rows:
            sync.execute(insert(_table(entity)), rows)


def _forget_pending(sync: Session, previous_transaction: SessionTransaction) -> None:
    if previous_transaction.parent is None:
        sync.info.pop(_PENDING, None)


def _dialect(db: AsyncSession | AsyncConnection) -> str:
    return db.dialect.name if isinstance(db, AsyncConnection) else db.get_bind().dialect.name


async def _add_to_summary(db: AsyncSession | AsyncConnection, entity: type[Any], rows: Sequence[Values]) -> None:
    dialect = _dialect(db)
    for start in range(0, len(rows), _UPSERT_ROWS):
        await db.execute(add_to_rows(dialect, _table(entity), rows[start : start + _UPSERT_ROWS]))


async def write(db: AsyncSession | AsyncConnection, tally: Tally) -> None:
    """Add the tally to the summary tables themselves, in the caller's transaction (the rebuild)."""
    for entity, rows in zip(SUMMARIES, tally.rows(), strict=True):
        if rows:
            await _add_to_summary(db, entity, rows)


def _summed(summary: Table, deltas: Sequence[Values]) -> list[dict[str, Any]]:
    """The deltas summed per summary row, in key order (concurrent upserts lock rows in one order)."""
    keys, counters = counter_columns(summary)
    sums: dict[tuple[Any, ...], list[int]] = {}
    for delta in deltas:
        key = tuple(delta[name] for name in keys)
        added = sums.get(key)
        if added is None:
            added = sums[key] = [0] * len(counters)
        for n, name in enumerate(counters):
            added[n] += delta[name]
    return [
        {**dict(zip(keys, key, strict=True)), **dict(zip(counters, added, strict=True))}
        for key, added in sorted(sums.items())
        if any(added)
    ]


@functools.lru_cache(maxsize=len(SUMMARIES))
def _fold_statement(summary: Table, deltas: Table) -> Select[int]:
    """PostgreSQL's fold of one table in one statement: the deltas deleted, their sums per
    summary row (those not all zero) added to the rows, the number of deltas folded returned.
    Summing in the database spares the ticket service a Python pass over every delta (the fold
    of a busy second's creations moved thousands of rows through the service)."""
    keys, counters = counter_columns(summary)
    moved = delete(deltas).returning(*(deltas.c[column.key] for column in summary.columns)).cte("moved")
    sums = [func.sum(moved.c[name]) for name in counters]
    summed = (
        select(
            *(moved.c[name] for name in keys), *(total.label(name) for total, name in zip(sums, counters, strict=True))
        )
        .group_by(*(moved.c[name] for name in keys))
        .having(or_(*(total != 0 for total in sums)))
        # The rows are locked in key order, as every other writer of them does.
        .order_by(*(moved.c[name] for name in keys))
    )
    added = add_selected_to_rows(summary, summed).returning(summary.c[keys[0]]).cte("added")
    return select(func.count()).select_from(moved).add_cte(added)


async def fold(db: AsyncSession | AsyncConnection) -> int:
    """Move every delta this transaction sees into the summary rows, in the caller's transaction;
    the number of deltas folded. The deltas are deleted and their sums taken from what the
    delete returned, so a delta committed meanwhile stays for the next fold."""
    folded = 0
    dialect = _dialect(db)
    for summary_entity, delta_entity in zip(SUMMARIES, DELTAS, strict=True):
        summary, deltas = _table(summary_entity), _table(delta_entity)
        if dialect == "postgresql":
            folded += (await db.execute(_fold_statement(summary, deltas))).scalar_one()
            continue
        columns = [deltas.c[column.key] for column in summary.columns]
        moved = (await db.execute(delete(deltas).returning(*columns))).mappings().all()
        if moved:
            await _add_to_summary(db, summary_entity, _summed(summary, moved))
            folded += len(moved)
    return folded


async def fold_committed(database: Database) -> int:
    """`fold` in a transaction of its own, skipped when there is nothing to fold (no write, so on
    SQLite no wait for the write lock) or, on PostgreSQL, when another process is folding."""
    async with database.autocommit() as connection:
        anything = or_(*(exists().select_from(_table(entity)) for entity in DELTAS))
        if not (await connection.execute(select(anything))).scalar():
            return 0
    async with database.sessionmaker() as session, session.begin():
        if (
            database.writes_in_one_statement
            and not (await session.execute(select(func.pg_try_advisory_xact_lock(_FOLD_LOCK)))).scalar()
        ):
            return 0
        return await fold(session)


async def fold_until_stopped(database: Database, *, interval_seconds: float, stop: asyncio.Event) -> None:
    """Fold every `interval_seconds` until `stop`, and once more then. A failed fold (the
    database away for a moment) leaves its deltas for the next."""
    while True:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval_seconds)
        try:
            await fold_committed(database)
        except Exception:
            log.exception("stats fold failed; the deltas wait for the next")
        if stop.is_set():
            return


def _with_deltas(summary_entity: type[Any], delta_entity: type[Any], name: str) -> Subquery:
    summary, deltas = _table(summary_entity), _table(delta_entity)
    names = [column.key for column in summary.columns]
    return union_all(
        select(*(summary.c[column] for column in names)), select(*(deltas.c[column] for column in names))
    ).subquery(name)


def department_days() -> Subquery:
    """The department rows to read: summary and deltas not folded yet (sum them)."""
    return _with_deltas(StatsDepartmentDay, StatsDepartmentDelta, "department_days")


def handling_days() -> Subquery:
    return _with_deltas(StatsHandlingDay, StatsHandlingDelta, "handling_days")


def hot_spot_days() -> Subquery:
    return _with_deltas(StatsHotSpotDay, StatsHotSpotDelta, "hot_spot_days")


async def contributions_of(db: AsyncSession | AsyncConnection, ticket_id: str) -> dict[str, datetime]:
    table = _table(JointContribution)
    rows = await db.execute(select(table.c.department_code, table.c.first_at).where(table.c.ticket_id == ticket_id))
    return {code: first_at for code, first_at in rows.all()}


async def record_change(
    session: AsyncSession,
    *,
    before: Values,
    after: Values,
    contributor: str | None,
    at: datetime,
    calendar: WorkCalendar,
) -> None:
    """Move the tables with one audited change of a ticket: its standing before and after, and the
    step. `contributor`: the co-department contributing to the joint review in this change."""
    tally = pending(session)
    joint = bool(before["co_department_codes"] or after["co_department_codes"])
    earlier = await contributions_of(session, after["id"]) if joint else {}
    now = dict(earlier)
    if contributor is not None and contributor in (after["co_department_codes"] or ()) and contributor not in earlier:
        session.add(JointContribution(ticket_id=after["id"], department_code=contributor, first_at=at))
        now[contributor] = at
    add_ticket(tally, before, earlier, calendar, -1)
    add_ticket(tally, after, now, calendar, 1)
    add_step(tally, before, after, at=at, zone=ZoneInfo(calendar.tz))


def creation_tally(tickets: Iterable[Values], calendar: WorkCalendar) -> Tally:
    """What new tickets add (appended to the deltas with them, in their one statement)."""
    tally = Tally()
    zone = ZoneInfo(calendar.tz)
    for values in tickets:
        add_ticket(tally, values, {}, calendar, 1)
        add_hot_spots(tally, values, zone)
    return tally


_REPLAYED = ("status", "department_code", "resolution_round")
REBUILD_BATCH = 2000


async def rebuild(session: AsyncSession, *, calendar: WorkCalendar) -> int:
    """Recompute the summary tables from the tickets, their audit trails and their ratings, in the
    caller's transaction; the number of tickets read."""
    zone = ZoneInfo(calendar.tz)
    for entity in (*SUMMARIES, *DELTAS):
        await session.execute(delete(_table(entity)))
    tickets = _table(Ticket)
    events = _table(TicketEvent)
    ratings = _table(Feedback)
    contributions = _table(JointContribution)
    count = 0
    last_id = ""
    while True:
        batch = (
            (
                await session.execute(
                    select(tickets).where(tickets.c.id > last_id).order_by(tickets.c.id).limit(REBUILD_BATCH)
                )
            )
            .mappings()
            .all()
        )
        if not batch:
            return count
        last_id = batch[-1]["id"]
        ids = [row["id"] for row in batch]
        joined: defaultdict[str, dict[str, datetime]] = defaultdict(dict)
        for ticket_id, code, first_at in await session.execute(
            select(contributions.c.ticket_id, contributions.c.department_code, contributions.c.first_at).where(
                contributions.c.ticket_id.in_(ids)
            )
        ):
            joined[ticket_id][code] = first_at
        trails: defaultdict[str, list[Values]] = defaultdict(list)
        for link in (
            await session.execute(
                select(events.c.ticket_id, events.c.at, events.c.from_status, events.c.to_status, events.c.changes)
                .where(events.c.ticket_id.in_(ids))
                .order_by(events.c.ticket_id, events.c.seq)
            )
        ).mappings():
            trails[link["ticket_id"]].append(link)
        by_id = {row["id"]: row for row in batch}
        tally = Tally()
        for row in batch:
            add_ticket(tally, row, joined[row["id"]], calendar, 1)
            add_hot_spots(tally, row, zone)
            _replay(tally, row, trails[row["id"]], zone)
        for rating in (await session.execute(select(ratings).where(ratings.c.ticket_id.in_(ids)))).mappings():
            add_rating(tally, rating, by_id[rating["ticket_id"]], zone, 1)
        await write(session, tally)
        count += len(batch)


def _replay(tally: Tally, ticket: Values, trail: list[Values], zone: ZoneInfo) -> None:
    """The steps of a ticket's audit trail, each from the replayed status, lead and round."""
    state: dict[str, Any] = {
        "id": ticket["id"],
        "status": None,
        "department_code": None,
        "resolution_round": 0,
        "enterprise_size": ticket["enterprise_size"],
        "channel": ticket["channel"],
    }
    for link in trail:
        after = dict(state)
        after["status"] = link["to_status"]
        for name in _REPLAYED[1:]:
            if name in link["changes"]:
                after[name] = link["changes"][name][1]
        if link["from_status"] is not None:
            add_step(tally, state, after, at=link["at"], zone=zone)
        state = after
