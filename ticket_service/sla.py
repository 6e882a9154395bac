"""The SLA sweep: the 1-3-5 clock acting by itself (DESIGN §3).

The worker (`sla_worker`) calls these functions; they use the ticket domain's own transition
function, so the life-cycle rules live in one place. A sweep reads only due tickets (the
indexed `sla_next_at`), takes them in chunks with their rows locked (rows another worker
holds are skipped), and marks each step in `sla_fired` in the transaction that takes it:
however often it runs, however many workers run it, and wherever one crashed, every step
happens once per ticket and deadline.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import structlog
from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.principals import Principal, Role
from services.workdays import WorkCalendar
from ticket_service import lifecycle
from ticket_service.actions import ActionInput, apply_action, may_take
from ticket_service.audit import preload_chain_heads
from ticket_service.calendar_service import CalendarCache, load_calendar
from ticket_service.catalog_client import CatalogClient
from ticket_service.changes import (
    TicketChange,
    audited_changes,
    flag_overdue,
    recompute_deadlines,
    schedule_sla,
    sla_clock,
)
from ticket_service.errors import CatalogUnavailable
from ticket_service.models import OutboxEvent, Ticket
from ticket_service.sla_rules import DEADLINE_OF, SlaPolicy, Step, due_steps
from ticket_service.views import values_of

logger = structlog.get_logger(__name__)
WORKER = Principal(subject="sla-worker", role=Role.SYSTEM)
# Where the worker leaves its last sweep's summary and its heartbeat for GET /sla/status.
LAST_SWEEP_KEY = "sla:last_sweep"
HEARTBEAT_KEY = "sla:heartbeat"
SHANGHAI = ZoneInfo("Asia/Shanghai")
STEP_NAMES = {
    Step.WARN_ACCEPT: "due_soon",
    Step.WARN_RESOLVE: "due_soon",
    Step.WARN_FINAL: "due_soon",
    Step.OVERDUE_ACCEPT: "overdue_accept",
    Step.JOINT_REVIEW: "joint_review",
    Step.ESCALATE: "escalate",
    Step.AUTO_CLOSE: "auto_close",
}


@dataclass
class SweepReport:
    as_of: datetime
    dry_run: bool
    due_tickets: int = 0
    steps: list[dict[str, Any]] = field(default_factory=list)
    # Tickets whose steps failed and were rolled back; they stay due for the next sweep.
    failed: list[dict[str, str]] = field(default_factory=list)
    # A category's default co-handlers, asked of the catalogue once per sweep (while a chunk's
    # rows are locked, a slow catalogue must not be asked again for every ticket).
    category_co_departments: dict[str, list[str]] = field(default_factory=dict, repr=False)

    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for step in self.steps:
            counts[step["step"]] = counts.get(step["step"], 0) + 1
        return counts

    def as_dict(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat(),
            "dry_run": self.dry_run,
            "due_tickets": self.due_tickets,
            "counts": self.counts(),
            "steps": self.steps,
            "failed": self.failed,
        }


def _deadline(ticket: Ticket, step: Step) -> datetime:
    name = DEADLINE_OF[step]
    due: datetime = getattr(ticket, f"{name}_due")
    return due


async def _co_departments(
    ticket: Ticket, catalog: CatalogClient | None, category_cache: dict[str, list[str]] | None
) -> list[str]:
    codes = list((ticket.item_snapshot or {}).get("co_department_codes") or ticket.co_department_codes or [])
    category = ticket.category_code
    if not codes and category and catalog is not None:
        cache = {} if category_cache is None else category_cache
        if category not in cache:
            try:
                cache[category] = await catalog.category_co_departments(category)
            except CatalogUnavailable:
                cache[category] = []
        codes = cache[category]
    return [code for code in codes if code != ticket.department_code]


@dataclass(frozen=True, slots=True)
class StepRun:
    """One due step of one locked ticket, its change begun before anything moved."""

    session: AsyncSession
    ticket: Ticket
    step: Step
    change: TicketChange
    calendar: WorkCalendar
    catalog: CatalogClient | None
    policy: SlaPolicy
    now: datetime
    category_cache: dict[str, list[str]] | None

    async def record(self, *, note: str, event_type: str) -> None:
        """A step that moves no status still leaves its audit link and its event."""
        await self.change.record(
            self.session,
            action=STEP_NAMES[self.step],
            principal=WORKER,
            note=note,
            now=self.now,
            calendar=self.calendar,
            policy=self.policy,
            event_types=[event_type],
        )

    async def act(
        self,
        action: lifecycle.Action,
        *,
        note: str,
        co_department_codes: tuple[str, ...] = (),
        also_announce: tuple[str, ...] = (),
    ) -> None:
        """The step as the life-cycle action it is, in the same audited change."""
        await apply_action(
            self.session,
            ticket=self.ticket,
            action=action,
            principal=WORKER,
            data=ActionInput(note=note, co_department_codes=co_department_codes),
            calendar=self.calendar,
            now=self.now,
            policy=self.policy,
            event_action=STEP_NAMES[self.step],
            change=self.change,
            also_announce=also_announce,
        )


async def _warn(run: StepRun) -> str:
    due = _deadline(run.ticket, run.step)
    if run.now >= due:
        schedule_sla(run.ticket, run.calendar, run.policy)
        return "skipped: already overdue"
    await run.record(note=f"{DEADLINE_OF[run.step]} deadline {due.isoformat()} is near", event_type="ticket.due_soon")
    return "warned"


async def _flag_accept(run: StepRun) -> str:
    flag_overdue(run.ticket, "accept")
    note = "督办: not accepted within its accept deadline; supervisors and the department are notified"
    await run.record(note=note, event_type="ticket.overdue")
    return "flagged"


async def _joint_review(run: StepRun) -> str:
    ticket = run.ticket
    flag_overdue(ticket, "resolve")
    codes = await _co_departments(ticket, run.catalog, run.category_cache)
    if codes and ticket.department_code and may_take(ticket, lifecycle.Action.REQUEST_JOINT_REVIEW, WORKER):
        note = "resolve deadline passed: joint review (会办)"
        await run.act(
            lifecycle.Action.REQUEST_JOINT_REVIEW,
            note=note,
            co_department_codes=tuple(codes),
            also_announce=("ticket.overdue",),
        )
        return "joint_review"
    note = "resolve deadline passed; a dispatcher must route the case and name the co-departments"
    await run.record(note=note, event_type="ticket.overdue")
    return "needs_dispatcher"


async def _escalate(run: StepRun) -> str:
    flag_overdue(run.ticket, "final")
    note = "final deadline passed: referred to leadership (高位批办); explanation required"
    await run.act(lifecycle.Action.ESCALATE, note=note, also_announce=("ticket.overdue",))
    return "escalated"


async def _auto_close(run: StepRun) -> str:
    await run.act(lifecycle.Action.CLOSE, note="not rated within the feedback window; closed")
    return "closed"


STEP_EFFECTS: dict[Step, Callable[[StepRun], Awaitable[str]]] = {
    Step.WARN_ACCEPT: _warn,
    Step.WARN_RESOLVE: _warn,
    Step.WARN_FINAL: _warn,
    Step.OVERDUE_ACCEPT: _flag_accept,
    Step.JOINT_REVIEW: _joint_review,
    Step.ESCALATE: _escalate,
    Step.AUTO_CLOSE: _auto_close,
}


async def take_step(
    session: AsyncSession,
    ticket: Ticket,
    step: Step,
    *,
    calendar: WorkCalendar,
    catalog: CatalogClient | None,
    policy: SlaPolicy,
    now: datetime,
    category_cache: dict[str, list[str]] | None = None,
) -> str:
    """Apply one due step to a locked ticket; returns what was done. The step's change begins
    before its first mutation, so its audit link lists every field it changed. With the
    catalogue down, a free request's co-handlers are unknown and a dispatcher is asked to name
    them."""
    change = TicketChange(ticket)
    ticket.sla_fired = (ticket.sla_fired or 0) | step
    run = StepRun(session, ticket, step, change, calendar, catalog, policy, now, category_cache)
    return await STEP_EFFECTS[step](run)


async def run_sweep(
    sessionmaker: async_sessionmaker[AsyncSession],
    *,
    cache: CalendarCache,
    catalog: CatalogClient | None,
    now: datetime,
    policy: SlaPolicy,
    dry_run: bool = False,
    chunk_size: int = 200,
) -> SweepReport:
    """Take every due step, `chunk_size` due tickets per transaction.

    A chunk's rows are locked (rows another worker holds are skipped) and all of their steps
    commit together, so the sweep's cost follows the due tickets in a few statements per
    chunk. If anything in a chunk fails, the chunk is rolled back and taken again one ticket
    per transaction, so one bad ticket holds up no other."""
    report = SweepReport(as_of=now, dry_run=dry_run)
    after: tuple[datetime, str] | None = None
    while True:
        async with sessionmaker() as session:
            # One calendar per chunk: it only changes when an admin replaces a year's overlay.
            calendar = await load_calendar(session, cache=cache)
            statement = select(Ticket).where(Ticket.sla_next_at <= now)
            if after is not None:
                statement = statement.where(
                    or_(Ticket.sla_next_at > after[0], and_(Ticket.sla_next_at == after[0], Ticket.id > after[1]))
                )
            statement = statement.order_by(Ticket.sla_next_at, Ticket.id).limit(chunk_size)
            if not dry_run:
                statement = statement.with_for_update(skip_locked=True)
            tickets = list((await session.execute(statement)).scalars())
            if not tickets:
                return report
            last = tickets[-1]
            assert last.sla_next_at is not None
            after = (last.sla_next_at, last.id)
            ids = [ticket.id for ticket in tickets]
            try:
                if not dry_run:
                    await preload_chain_heads(session, ticket_ids=ids)
                entries = []
                for ticket in tickets:
                    entries += await _sweep_ticket(
                        session, ticket, report, calendar=calendar, catalog=catalog, policy=policy
                    )
                if dry_run:
                    await session.rollback()
                else:
                    await session.commit()
            except Exception:
                logger.exception("sweep chunk failed; taking its tickets one by one", tickets=len(ids))
                await session.rollback()
            else:
                report.due_tickets += len(tickets)
                report.steps += entries
                continue
        for ticket_id in ids:
            await _sweep_one(sessionmaker, ticket_id, report, calendar=calendar, catalog=catalog, policy=policy)


async def _sweep_ticket(
    session: AsyncSession,
    ticket: Ticket,
    report: SweepReport,
    *,
    calendar: WorkCalendar,
    catalog: CatalogClient | None,
    policy: SlaPolicy,
) -> list[dict[str, Any]]:
    """The due steps of one locked ticket, in order; what was (or would be) done."""
    now = report.as_of
    steps = due_steps(sla_clock(ticket), calendar, policy, now)
    entries = []
    for step in steps:
        entry = {"ticket_id": ticket.id, "number": ticket.number, "step": STEP_NAMES[step]}
        if report.dry_run:
            entry["outcome"] = "would run"
        else:
            entry["outcome"] = await take_step(
                session,
                ticket,
                step,
                calendar=calendar,
                catalog=catalog,
                policy=policy,
                now=now,
                category_cache=report.category_co_departments,
            )
        entries.append(entry)
    if not steps and not report.dry_run:
        # Due by the index but nothing to take (e.g. the state moved on): look again later.
        schedule_sla(ticket, calendar, policy)
    return entries


async def _sweep_one(
    sessionmaker: async_sessionmaker[AsyncSession],
    ticket_id: str,
    report: SweepReport,
    *,
    calendar: WorkCalendar,
    catalog: CatalogClient | None,
    policy: SlaPolicy,
) -> None:
    async with sessionmaker() as session:
        statement = select(Ticket).where(Ticket.id == ticket_id, Ticket.sla_next_at <= report.as_of)
        if not report.dry_run:
            # Another worker holding this ticket is handling it: skip rather than wait.
            statement = statement.with_for_update(skip_locked=True)
        ticket = (await session.execute(statement)).scalar_one_or_none()
        if ticket is None:
            await session.rollback()
            return
        try:
            entries = await _sweep_ticket(session, ticket, report, calendar=calendar, catalog=catalog, policy=policy)
        except Exception as exc:
            # Left due: the next sweep tries again; the report and the log say why it failed.
            logger.exception("sweep step failed", ticket_id=ticket_id)
            await session.rollback()
            report.failed.append({"ticket_id": ticket_id, "error": type(exc).__name__})
            return
        if report.dry_run:
            await session.rollback()
        else:
            await session.commit()
        report.due_tickets += 1
        report.steps += entries


async def outbox_backlog(session: AsyncSession) -> int:
    count = await session.scalar(
        select(func.count()).select_from(OutboxEvent).where(OutboxEvent.published_at.is_(None))
    )
    return int(count or 0)


async def recompute_year(
    sessionmaker: async_sessionmaker[AsyncSession],
    *,
    cache: CalendarCache,
    year: int,
    policy: SlaPolicy,
    now: datetime,
    batch_size: int = 500,
) -> int:
    """After a year's calendar changed: recompute the deadlines of every open ticket whose
    counting span touches that year, each change in its audit trail. Idempotent."""
    start = datetime(year, 1, 1, tzinfo=SHANGHAI)
    end = datetime(year + 1, 1, 1, tzinfo=SHANGHAI)
    changed = 0
    after = ""
    while True:
        async with sessionmaker() as session:
            statement = (
                select(Ticket.id)
                .where(
                    Ticket.status.in_([s.value for s in lifecycle.OPEN_STATUSES]),
                    Ticket.final_due >= start,
                    Ticket.clock_started_at < end,
                    Ticket.id > after,
                )
                .order_by(Ticket.id)
                .limit(batch_size)
            )
            ids = list((await session.execute(statement)).scalars())
            # One calendar per batch, as in the sweep: a later change queues a recompute of its own.
            calendar = await load_calendar(session, cache=cache)
        if not ids:
            return changed
        after = ids[-1]
        for ticket_id in ids:
            changed += await _recompute_one(sessionmaker, ticket_id, calendar=calendar, policy=policy, now=now)


async def _recompute_one(
    sessionmaker: async_sessionmaker[AsyncSession],
    ticket_id: str,
    *,
    calendar: WorkCalendar,
    policy: SlaPolicy,
    now: datetime,
) -> int:
    async with sessionmaker() as session:
        ticket = (
            await session.execute(select(Ticket).where(Ticket.id == ticket_id).with_for_update())
        ).scalar_one_or_none()
        if ticket is None:
            await session.rollback()
            return 0
        change = TicketChange(ticket)
        recompute_deadlines(ticket, calendar)
        if not audited_changes(change.before, values_of(ticket)):
            await session.rollback()
            return 0
        await change.record(
            session,
            action="recompute",
            principal=WORKER,
            note="the working-day calendar changed",
            now=now,
            calendar=calendar,
            policy=policy,
            event_types=["ticket.deadlines_changed"],
        )
        await session.commit()
        return 1
