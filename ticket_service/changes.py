"""The one audited-change path: every change to a ticket, a person's action or a worker step.

`TicketChange(ticket)` takes the ticket's snapshot before anything is changed; the caller then
changes the locked ORM ticket as it must; `record` moves the version, reschedules the SLA
check, and writes in the same transaction one audit link, whose `changes` list every audited
field that differs from the snapshot with its old and new value, and the outbox events, each
carrying the ticket as the API shows it. Replaying the `changes` of a ticket's links from its
creation gives its audited fields.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.principals import Principal
from services.workdays import SlaProfile, WorkCalendar
from ticket_service import audit, outbox, sla_rules, stats_summary
from ticket_service.models import Ticket, TicketEvent
from ticket_service.sla_rules import SlaPolicy
from ticket_service.views import TICKET_COLUMNS, TicketValues, ticket_json, values_of

# Bookkeeping, not facts of the case: the version and update time move with every link, two
# index columns mirror `co_department_codes` and `overdue`, and the SLA fields are the
# worker's schedule.
UNAUDITED = frozenset({"updated_at", "version", "co_departments_text", "is_overdue", "sla_next_at", "sla_fired"})
AUDITED_FIELDS = tuple(key for key in TICKET_COLUMNS if key not in UNAUDITED)
CONTRIBUTE = "contribute"


def audited_changes(before: TicketValues, after: TicketValues) -> dict[str, tuple[Any, Any]]:
    return {key: (before[key], after[key]) for key in AUDITED_FIELDS if before[key] != after[key]}


def sla_clock(ticket: Ticket) -> sla_rules.Clock:
    return sla_rules.Clock(
        status=ticket.status,
        fired=ticket.sla_fired or 0,
        accept_due=ticket.accept_due,
        resolve_due=ticket.resolve_due,
        final_due=ticket.final_due,
        resolved_at=ticket.resolved_at,
    )


def schedule_sla(ticket: Ticket, calendar: WorkCalendar, policy: SlaPolicy) -> None:
    """Keep `sla_next_at` true after every change, so a sweep finds exactly the due tickets."""
    ticket.sla_next_at = sla_rules.next_check(sla_clock(ticket), calendar, policy)


def recompute_deadlines(ticket: Ticket, calendar: WorkCalendar) -> None:
    """Deadlines from the clock's start under `calendar`, moved by the working time spent paused
    (the same as shifting at each resume): used on reopen and when a year's calendar changes."""
    base = calendar.deadlines(ticket.clock_started_at, SlaProfile.parse(ticket.sla_profile))
    paused = ticket.paused_working_us
    for field, due in (
        ("accept_due", base.accept_due),
        ("resolve_due", base.resolve_due),
        ("final_due", base.final_due),
    ):
        setattr(ticket, field, calendar.instant_at_us(calendar.working_us(due) + paused) if paused else due)
    ticket.provisional = base.provisional


def set_co_departments(ticket: Ticket, codes: Sequence[str]) -> None:
    ticket.co_department_codes = list(codes)
    ticket.co_departments_text = "," + ",".join(codes) + ("," if codes else "")


def flag_overdue(ticket: Ticket, deadline: str) -> None:
    """Mark `deadline` (accept, resolve, final) missed."""
    if deadline not in ticket.overdue:
        ticket.overdue = [*ticket.overdue, deadline]
    ticket.is_overdue = True


async def emit(session: AsyncSession, *, values: TicketValues, event_types: Sequence[str], at: datetime) -> None:
    """One outbox row per event type, each carrying the ticket as the API shows it."""
    if not event_types:
        return
    data = ticket_json(values, None)
    for event_type in event_types:
        await outbox.add_event(
            session,
            event_type=event_type,
            aggregate_type="ticket",
            aggregate_id=str(values["id"]),
            data=data,
            occurred_at=at,
        )


class TicketChange:
    """One audited change of a locked ticket, from its snapshot to its audit link."""

    __slots__ = ("before", "ticket")

    def __init__(self, ticket: Ticket) -> None:
        self.ticket = ticket
        self.before = values_of(ticket)

    async def record(
        self,
        session: AsyncSession,
        *,
        action: str,
        principal: Principal,
        note: str,
        now: datetime,
        calendar: WorkCalendar,
        policy: SlaPolicy,
        event_types: Sequence[str],
    ) -> TicketEvent:
        """Write the change: version, SLA schedule, audit link and outbox rows."""
        ticket = self.ticket
        ticket.version += 1
        ticket.updated_at = now
        schedule_sla(ticket, calendar, policy)
        after = values_of(ticket)
        link = audit.Link(
            action=action,
            principal=principal,
            at=now,
            from_status=self.before["status"],
            to_status=ticket.status,
            note=note,
            changes=audited_changes(self.before, after),
        )
        event = await audit.append_event(session, ticket_id=ticket.id, link=link)
        await emit(session, values=after, event_types=event_types, at=now)
        await stats_summary.record_change(
            session,
            before=self.before,
            after=after,
            contributor=principal.department_code if action == CONTRIBUTE else None,
            at=now,
            calendar=calendar,
        )
        return event
