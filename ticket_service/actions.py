"""Life-cycle actions: the state machine decides, `EFFECTS` says what each action does.

`lifecycle.RULES` says who may take an action from where to where and what it does to the SLA
clock; `EFFECTS`, keyed by the same actions, says which fields the action sets and which
events it announces. `apply_action` is the one transition function, for people and the SLA
worker alike, and it writes through the one audited-change path (`changes.TicketChange`).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.db import utcnow
from services.principals import Principal
from services.workdays import WorkCalendar
from ticket_service import calendar_service, lifecycle
from ticket_service.catalog_client import CatalogClient
from ticket_service.changes import TicketChange, recompute_deadlines, set_co_departments
from ticket_service.context import TicketContext
from ticket_service.errors import (
    ActionForbiddenProblem,
    InvalidField,
    InvalidTransition,
    UnknownCode,
    VersionMismatch,
)
from ticket_service.models import Ticket
from ticket_service.sla_rules import SlaPolicy
from ticket_service.views import facts_of_ticket, get_ticket, values_of

Action = lifecycle.Action
DEFAULT_POLICY = SlaPolicy()


@dataclass(frozen=True, slots=True)
class ActionInput:
    note: str = ""
    result: str | None = None
    explanation: str | None = None
    department_code: str | None = None
    co_department_codes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class EffectContext:
    now: datetime
    catalog: CatalogClient | None


SetFields = Callable[[Ticket, ActionInput, EffectContext], Awaitable[None]]


async def _sets_nothing(ticket: Ticket, data: ActionInput, context: EffectContext) -> None:
    return None


async def _accept(ticket: Ticket, data: ActionInput, context: EffectContext) -> None:
    ticket.accepted_at, ticket.reply = context.now, data.note


async def _resolve(ticket: Ticket, data: ActionInput, context: EffectContext) -> None:
    ticket.result, ticket.resolved_at = data.result, context.now
    ticket.resolution_round += 1


async def _explain(ticket: Ticket, data: ActionInput, context: EffectContext) -> None:
    ticket.explanation, ticket.resolved_at = data.explanation, context.now
    ticket.resolution_round += 1


async def _known_department(context: EffectContext, field: str, code: str) -> None:
    # The worker's steps pass no catalogue: their codes come from the catalogue already.
    if context.catalog is not None and not await context.catalog.department_exists(code):
        raise UnknownCode(field, code)


async def _add_co_departments(ticket: Ticket, data: ActionInput, context: EffectContext) -> None:
    codes = [code for code in data.co_department_codes if code != ticket.department_code]
    if not codes:
        raise InvalidField("co_department_codes", "Name at least one department other than the lead.")
    for code in codes:
        await _known_department(context, "co_department_codes", code)
    set_co_departments(ticket, list(dict.fromkeys([*ticket.co_department_codes, *codes])))


async def _unassign(ticket: Ticket, data: ActionInput, context: EffectContext) -> None:
    ticket.department_code = None


async def _transfer(ticket: Ticket, data: ActionInput, context: EffectContext) -> None:
    if data.department_code is None:
        raise InvalidField("department_code", "Name the department to transfer to.")
    if data.department_code == ticket.department_code:
        raise InvalidField("department_code", "The ticket is already with that department.")
    await _known_department(context, "department_code", data.department_code)
    ticket.department_code = data.department_code


async def _close(ticket: Ticket, data: ActionInput, context: EffectContext) -> None:
    ticket.closed_at = context.now


async def _reopen(ticket: Ticket, data: ActionInput, context: EffectContext) -> None:
    ticket.accepted_at = ticket.resolved_at = ticket.closed_at = None
    ticket.overdue, ticket.is_overdue = [], False


def _the_note(data: ActionInput) -> str:
    return data.note


@dataclass(frozen=True, slots=True)
class Effect:
    """What an action does besides its move: the fields it sets, the events it announces of its
    own (after `ticket.status_changed`, which every change announces, and the event of the
    status it entered, `ENTERED`) and what its audit note is."""

    sets: SetFields = _sets_nothing
    events: tuple[str, ...] = ()
    note: Callable[[ActionInput], str] = _the_note


EFFECTS: Mapping[Action, Effect] = {
    Action.ACCEPT: Effect(_accept),
    Action.START: Effect(),
    Action.REQUEST_INFO: Effect(),
    Action.RESUME: Effect(),
    Action.RESOLVE: Effect(_resolve, ("ticket.feedback_requested",), lambda data: data.result or ""),
    Action.EXPLAIN: Effect(_explain, ("ticket.feedback_requested",), lambda data: data.explanation or ""),
    Action.REQUEST_JOINT_REVIEW: Effect(_add_co_departments),
    Action.CONTRIBUTE: Effect(),
    Action.ESCALATE: Effect(),
    Action.RETURN: Effect(_unassign),
    Action.TRANSFER: Effect(_transfer, ("ticket.transferred",)),
    Action.WITHDRAW: Effect(),
    Action.CLOSE: Effect(_close),
    Action.REOPEN: Effect(_reopen, ("ticket.reopened",)),
}

# The event a ticket announces when it enters a status (DESIGN §4), whichever action took it
# there: `resume` returns to the status the ticket was paused from.
ENTERED: Mapping[lifecycle.Status, str] = {
    lifecycle.Status.ACCEPTED: "ticket.accepted",
    lifecycle.Status.RESOLVED: "ticket.resolved",
    lifecycle.Status.EXPLAINED: "ticket.explained",
    lifecycle.Status.CLOSED: "ticket.closed",
    lifecycle.Status.ESCALATED: "ticket.escalated",
    lifecycle.Status.JOINT_REVIEW: "ticket.joint_review_started",
}


def announced(transition: lifecycle.Transition, effect: Effect) -> tuple[str, ...]:
    """Every change's event, the entered status's (if the status changed), then the action's own."""
    moved = transition.to_status != transition.from_status
    entered = (ENTERED[transition.to_status],) if moved and transition.to_status in ENTERED else ()
    return ("ticket.status_changed", *entered, *effect.events)


def _keep_clock(ticket: Ticket, transition: lifecycle.Transition, calendar: WorkCalendar, now: datetime) -> None:
    return None


def _pause_clock(ticket: Ticket, transition: lifecycle.Transition, calendar: WorkCalendar, now: datetime) -> None:
    ticket.paused_at, ticket.paused_from = now, transition.from_status.value


def _resume_clock(ticket: Ticket, transition: lifecycle.Transition, calendar: WorkCalendar, now: datetime) -> None:
    paused_at = ticket.paused_at or now
    ticket.paused_working_us += max(0, calendar.working_us(now) - calendar.working_us(paused_at))
    for field in ("accept_due", "resolve_due", "final_due"):
        setattr(ticket, field, calendar.shift_for_pause(getattr(ticket, field), paused_at, now))
    ticket.paused_at = ticket.paused_from = None


def _restart_clock(ticket: Ticket, transition: lifecycle.Transition, calendar: WorkCalendar, now: datetime) -> None:
    ticket.clock_started_at, ticket.paused_working_us, ticket.sla_fired = now, 0, 0
    recompute_deadlines(ticket, calendar)


CLOCK_EFFECTS: Mapping[lifecycle.Clock, Callable[[Ticket, lifecycle.Transition, WorkCalendar, datetime], None]] = {
    lifecycle.Clock.KEEP: _keep_clock,
    lifecycle.Clock.PAUSE: _pause_clock,
    lifecycle.Clock.RESUME: _resume_clock,
    lifecycle.Clock.RESTART: _restart_clock,
}


#: The ETag (`"3"`, weak or strong) or the bare version (`3`); ASCII digits only (`str.isdigit`
#: admits superscripts that `int` refuses).
IF_MATCH_PATTERN = r'^(W/)?"?([0-9]{1,18})"?$'


def parse_if_match(value: str | None) -> int | None:
    if value is None:
        return None
    found = re.match(IF_MATCH_PATTERN, value.strip())
    if found is None:
        raise InvalidField("If-Match", "If-Match must be the ticket's version number.", code="invalid_if_match")
    return int(found.group(2))


def decide(ticket: Ticket, action: Action, principal: Principal) -> lifecycle.Transition:
    """The state machine's decision, its refusals as problems (403, 409)."""
    try:
        return lifecycle.decide(facts_of_ticket(ticket), action, lifecycle.Actor.from_principal(principal))
    except lifecycle.ActionForbidden as exc:
        raise ActionForbiddenProblem(str(exc), state=ticket.status, action=action.value) from exc
    except lifecycle.ActionNotAllowed as exc:
        raise InvalidTransition(str(exc), state=ticket.status, action=action.value) from exc


def may_take(ticket: Ticket, action: Action, principal: Principal) -> bool:
    """Whether the state machine lets `principal` take `action` on the ticket now."""
    try:
        decide(ticket, action, principal)
    except (ActionForbiddenProblem, InvalidTransition):
        return False
    return True


async def apply_action(
    session: AsyncSession,
    *,
    ticket: Ticket,
    action: Action,
    principal: Principal,
    data: ActionInput,
    calendar: WorkCalendar,
    catalog: CatalogClient | None = None,
    expected_version: int | None = None,
    now: datetime | None = None,
    policy: SlaPolicy = DEFAULT_POLICY,
    event_action: str | None = None,
    change: TicketChange | None = None,
    also_announce: tuple[str, ...] = (),
) -> Ticket:
    """The one transition function: decide, apply the action's effect and clock effect, and
    record the change.

    The SLA worker passes the `change` it began before its own step's changes (a flag), so
    the audit link lists those too, names the link after its step (`event_action`) and adds
    the events its step announces (`also_announce`: the overdue notice of a missed deadline)."""
    if expected_version is not None and expected_version != ticket.version:
        raise VersionMismatch(expected_version, ticket.version)
    transition = decide(ticket, action, principal)
    now = now or utcnow()
    change = change or TicketChange(ticket)
    effect = EFFECTS[action]
    await effect.sets(ticket, data, EffectContext(now=now, catalog=catalog))
    ticket.status = transition.to_status.value
    CLOCK_EFFECTS[transition.clock](ticket, transition, calendar, now)
    await change.record(
        session,
        action=event_action or action.value,
        principal=principal,
        note=effect.note(data),
        now=now,
        calendar=calendar,
        policy=policy,
        event_types=(*announced(transition, effect), *also_announce),
    )
    await session.flush()
    return ticket


async def lock_for_change(
    session: AsyncSession, *, context: TicketContext, ticket_id: str, principal: Principal
) -> tuple[Ticket, WorkCalendar]:
    """The ticket locked for a change by a caller who may see it, and the calendar to change it by."""
    ticket = await get_ticket(session, ticket_id=ticket_id, principal=principal, for_update=True)
    return ticket, await calendar_service.load_calendar(session, cache=context.calendar_cache)


async def take_action(
    session: AsyncSession,
    *,
    context: TicketContext,
    ticket_id: str,
    action: Action,
    principal: Principal,
    data: ActionInput,
    if_match: str | None,
) -> dict[str, object]:
    """A caller's action on a ticket it may see, guarded by `If-Match`; the ticket after it."""
    expected = parse_if_match(if_match)
    ticket, calendar = await lock_for_change(session, context=context, ticket_id=ticket_id, principal=principal)
    await apply_action(
        session,
        ticket=ticket,
        action=action,
        principal=principal,
        data=data,
        calendar=calendar,
        catalog=context.catalog,
        expected_version=expected,
        policy=context.policy,
    )
    return values_of(ticket)
