"""Helpers for the statistics tests: a history made through the domain's change path at given
instants, and the summary tables read back."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Table, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.principals import Principal, Role
from tests.ticket_service.helpers import E1, E2
from ticket_service import calendar_service, lifecycle, stats_summary
from ticket_service.actions import ActionInput, apply_action
from ticket_service.calendar_service import CalendarCache
from ticket_service.changes import TicketChange, flag_overdue
from ticket_service.context import TicketContext
from ticket_service.creation import TicketDraft, create_tickets
from ticket_service.feedback import rate_locked
from ticket_service.models import StatsDepartmentDay, StatsHandlingDay, StatsHotSpotDay, Ticket
from ticket_service.numbers import TicketNumbers
from ticket_service.sla_rules import SlaPolicy

SHANGHAI = ZoneInfo("Asia/Shanghai")
DISPATCHER = Principal(subject="dispatcher", role=Role.DISPATCHER)
SUPERVISOR = Principal(subject="supervisor", role=Role.SUPERVISOR)
SYSTEM = Principal(subject="sla-worker", role=Role.SYSTEM)
FGW = Principal(subject="staff-fgw", role=Role.STAFF, department_code="fgw")
CZJ = Principal(subject="staff-czj", role=Role.STAFF, department_code="czj")
FIRMS = {
    E1: Principal(subject="enterprise-1", role=Role.ENTERPRISE, enterprise_id=E1),
    E2: Principal(subject="enterprise-2", role=Role.ENTERPRISE, enterprise_id=E2),
}


def at(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=SHANGHAI).astimezone(UTC)


class History:
    """Tickets changed through the domain's one change path, at given instants."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.context = TicketContext(
            catalog=None,  # type: ignore[arg-type]  # none of these steps asks the catalogue
            calendar_cache=CalendarCache(),
            numbers=TicketNumbers(reserve_ahead=False),
            policy=SlaPolicy(),
        )

    async def calendar(self) -> Any:
        return await calendar_service.load_calendar(self.session, cache=self.context.calendar_cache)

    async def new(
        self,
        *,
        enterprise: str = E1,
        channel: str = "web",
        received: datetime | None = None,
        category: str | None = None,
    ) -> str:
        draft = TicketDraft(
            kind="request",
            channel=channel,
            enterprise_id=enterprise,
            title="用电增容审批进度咨询",
            description="",
            received_at=received or at(9, 30, 10),
            department_code="fgw",
            category_code=category,
        )
        (ticket,) = await create_tickets(
            await self.session.connection(), context=self.context, principal=DISPATCHER, drafts=[draft]
        )
        return str(ticket.values["id"])

    async def ticket(self, ticket_id: str) -> Ticket:
        return (await self.session.execute(select(Ticket).where(Ticket.id == ticket_id))).scalar_one()

    async def act(self, ticket_id: str, action: str, who: Principal, when: datetime, **data: Any) -> None:
        await apply_action(
            self.session,
            ticket=await self.ticket(ticket_id),
            action=lifecycle.Action(action),
            principal=who,
            data=ActionInput(**data),
            calendar=await self.calendar(),
            now=when,
            policy=self.context.policy,
        )

    async def rate(self, ticket_id: str, rating: str, when: datetime) -> None:
        ticket = await self.ticket(ticket_id)
        await rate_locked(
            self.session,
            context=self.context,
            ticket=ticket,
            principal=FIRMS[str(ticket.enterprise_id)],
            rating=rating,
            comment="",
            channel="web",
            now=when,
        )

    async def flag_accept_overdue(self, ticket_id: str, when: datetime) -> None:
        ticket = await self.ticket(ticket_id)
        change = TicketChange(ticket)
        flag_overdue(ticket, "accept")
        await change.record(
            self.session,
            action="accept_overdue",
            principal=SYSTEM,
            note="",
            now=when,
            calendar=await self.calendar(),
            policy=self.context.policy,
            event_types=(),
        )


async def summary_rows(session: AsyncSession) -> dict[str, set[tuple[Any, ...]]]:
    """Every non-zero row of the three tables, the deltas folded in first."""
    await stats_summary.fold(session)
    rows: dict[str, set[tuple[Any, ...]]] = {}
    for entity in (StatsDepartmentDay, StatsHandlingDay, StatsHotSpotDay):
        table = entity.__table__
        assert isinstance(table, Table)
        keys = {column.name for column in table.primary_key.columns}
        counters = [column.name for column in table.columns if column.name not in keys]
        found = (await session.execute(select(table))).mappings().all()
        rows[table.name] = {tuple(row.values()) for row in found if any(row[name] for name in counters)}
    return rows


async def counter_totals(session: AsyncSession) -> dict[str, int]:
    await stats_summary.fold(session)
    table = StatsDepartmentDay.__table__
    rows = (await session.execute(select(table))).mappings().all()
    return {name: sum(row[name] for row in rows) for name in stats_summary.DEPARTMENT_COUNTERS}
