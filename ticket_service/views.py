"""How a ticket is shown and who may see it.

A ticket has one read model, `TicketValues` (its column values, as a mapping: what a Core
read returns and what a creation builds), and one model for changing it, the locked ORM
`Ticket`. `values_of` is the one place the second becomes the first.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy import ColumnElement, and_, false, func, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from services.db import Reader
from services.errors import BadRequest, Forbidden
from services.masking import mask_phone
from services.pagination import PageParams, decode_cursor, encode_cursor
from services.principals import Principal, Role
from ticket_service import lifecycle
from ticket_service.errors import TicketNotFound
from ticket_service.models import Ticket
from ticket_service.schemas import TicketRead

# Column name to value; a Core read's RowMapping is one as it is (keys typed Any).
TicketValues = Mapping[Any, Any]
FULL_VIEW_ROLES = frozenset({Role.DISPATCHER, Role.SUPERVISOR, Role.ADMIN})
TICKET_COLUMNS = tuple(attribute.key for attribute in Ticket.__mapper__.column_attrs)
_TICKET_ADAPTER: TypeAdapter[TicketRead] = TypeAdapter(TicketRead)


def values_of(ticket: Ticket) -> dict[str, Any]:
    """The read model of a ticket being changed."""
    return {key: getattr(ticket, key) for key in TICKET_COLUMNS}


def facts_of(values: TicketValues) -> lifecycle.TicketFacts:
    return lifecycle.TicketFacts(
        status=lifecycle.Status(values["status"]),
        department_code=values["department_code"],
        co_department_codes=tuple(values["co_department_codes"] or ()),
        enterprise_id=values["enterprise_id"],
        # A new ticket's values leave out what is still null.
        paused_from=lifecycle.Status(values["paused_from"]) if values.get("paused_from") else None,
    )


def facts_of_ticket(ticket: Ticket) -> lifecycle.TicketFacts:
    """The state machine's facts of a ticket being changed (five fields, not a full read)."""
    return lifecycle.TicketFacts(
        status=lifecycle.Status(ticket.status),
        department_code=ticket.department_code,
        co_department_codes=tuple(ticket.co_department_codes or ()),
        enterprise_id=ticket.enterprise_id,
        paused_from=lifecycle.Status(ticket.paused_from) if ticket.paused_from else None,
    )


def allowed_action_names(values: TicketValues, principal: Principal | None) -> list[str]:
    """What `principal` may do to the ticket now (nothing for an event's reader)."""
    if principal is None:
        return []
    return list(_allowed_names(facts_of(values), lifecycle.Actor.from_principal(principal)))


@functools.lru_cache(maxsize=4096)
def _allowed_names(facts: lifecycle.TicketFacts, actor: lifecycle.Actor) -> tuple[str, ...]:
    # The state machine is pure, and a caller asks about the same few (ticket, caller) shapes
    # again and again: every response carries its allowed actions.
    return tuple(action.value for action in lifecycle.allowed_actions(facts, actor))


def calls_back(values: TicketValues, principal: Principal | None) -> bool:
    """Whether `principal` must call the enterprise back: the dispatcher, and the handling staff."""
    if principal is None:
        return False
    if principal.role == Role.DISPATCHER:
        return True
    return principal.role == Role.STAFF and principal.department_code == values["department_code"]


def ticket_read(values: TicketValues, principal: Principal | None) -> dict[str, Any]:
    """The ticket as the API shows it; `allowed_actions` are the caller's (none for an event), and
    the caller's phone number is masked for everyone who need not call back."""
    data = {key: values.get(key) for key in TICKET_COLUMNS}
    data["item"] = data["item_snapshot"]
    if data["caller_phone"] and not calls_back(values, principal):
        data["caller_phone"] = mask_phone(data["caller_phone"])
    data["allowed_actions"] = allowed_action_names(values, principal)
    return data


def ticket_json(values: TicketValues, principal: Principal | None) -> dict[str, Any]:
    """`ticket_read` validated against `TicketRead` and in JSON form: responses and event payloads."""
    data: dict[str, Any] = _TICKET_ADAPTER.dump_python(
        _TICKET_ADAPTER.validate_python(ticket_read(values, principal)), mode="json"
    )
    return data


@dataclass(frozen=True, slots=True)
class NewTicket:
    """A ticket just created: its stored values, and its JSON as its events show it."""

    values: dict[str, Any]
    data: dict[str, Any]

    def shown_to(self, principal: Principal) -> dict[str, Any]:
        """The JSON as `principal` sees it, without validating and serialising it again."""
        shown = {**self.data, "allowed_actions": allowed_action_names(self.values, principal)}
        if self.values.get("caller_phone") and calls_back(self.values, principal):
            shown["caller_phone"] = self.values["caller_phone"]
        return shown


def visibility(principal: Principal) -> ColumnElement[bool]:
    """The tickets `principal` may see, as a condition."""
    if principal.role in FULL_VIEW_ROLES:
        return true()
    if principal.role == Role.ENTERPRISE and principal.enterprise_id:
        return Ticket.enterprise_id == principal.enterprise_id
    if principal.role == Role.STAFF and principal.department_code:
        code = principal.department_code
        return or_(Ticket.department_code == code, Ticket.co_departments_text.contains(f",{code},", autoescape=True))
    return false()


def require_ticket_reader(principal: Principal) -> None:
    if principal.role not in FULL_VIEW_ROLES | {Role.ENTERPRISE, Role.STAFF}:
        raise Forbidden(f"Role {principal.role.value!r} may not read tickets.", code="role_not_allowed")


async def read_ticket(db: Reader, *, ticket_id: str, principal: Principal) -> dict[str, Any]:
    """The ticket if the caller may see it, for reading (no ORM entity, no transaction)."""
    require_ticket_reader(principal)
    table = Ticket.__table__
    row = (await db.execute(select(table).where(table.c.id == ticket_id, visibility(principal)))).mappings().first()
    if row is None:
        raise TicketNotFound(ticket_id)
    return dict(row)


async def get_ticket(
    session: AsyncSession, *, ticket_id: str, principal: Principal, for_update: bool = False
) -> Ticket:
    """The ticket as the model for changing it, if the caller may see it."""
    require_ticket_reader(principal)
    statement = select(Ticket).where(Ticket.id == ticket_id, visibility(principal))
    if for_update:
        statement = statement.with_for_update()
    ticket = (await session.execute(statement)).scalar_one_or_none()
    if ticket is None:
        raise TicketNotFound(ticket_id)
    return ticket


@dataclass(frozen=True, slots=True)
class TicketFilters:
    status: str | None = None
    department_code: str | None = None
    enterprise_id: str | None = None
    channel: str | None = None
    kind: str | None = None
    overdue: bool | None = None
    due_before: datetime | None = None
    received_from: datetime | None = None
    received_to: datetime | None = None
    q: str | None = None

    def conditions(self) -> list[ColumnElement[bool]]:
        equal_to = {
            Ticket.status: self.status,
            Ticket.department_code: self.department_code,
            Ticket.enterprise_id: self.enterprise_id,
            Ticket.channel: self.channel,
            Ticket.kind: self.kind,
        }
        conditions = [column == value for column, value in equal_to.items() if value]
        if self.overdue is not None:
            conditions.append(Ticket.is_overdue.is_(self.overdue))
        if self.due_before:
            conditions.append(Ticket.resolve_due < self.due_before)
        if self.received_from:
            conditions.append(Ticket.received_at >= self.received_from)
        if self.received_to:
            conditions.append(Ticket.received_at < self.received_to)
        if self.q:
            needle = self.q.strip().lower()
            conditions.append(
                or_(
                    func.lower(Ticket.title).contains(needle, autoescape=True),
                    func.lower(Ticket.description).contains(needle, autoescape=True),
                    Ticket.number == self.q.strip(),
                )
            )
        return conditions


def _after_cursor(cursor: str) -> ColumnElement[bool]:
    received, ticket_id = decode_cursor(cursor, arity=2)
    try:
        after = datetime.fromisoformat(str(received))
    except ValueError as exc:
        raise BadRequest("The cursor is not one this API issued.", code="invalid_cursor") from exc
    if after.tzinfo is None:
        raise BadRequest("The cursor is not one this API issued.", code="invalid_cursor")
    return or_(Ticket.received_at < after, and_(Ticket.received_at == after, Ticket.id < str(ticket_id)))


async def list_tickets(
    db: Reader, *, principal: Principal, filters: TicketFilters, page: PageParams
) -> tuple[list[dict[str, Any]], str | None]:
    """The tickets the caller may see, newest first, a page at a time."""
    require_ticket_reader(principal)
    conditions = [visibility(principal), *filters.conditions()]
    if page.cursor:
        conditions.append(_after_cursor(page.cursor))
    statement = (
        select(Ticket.__table__)
        .where(and_(*conditions))
        .order_by(Ticket.received_at.desc(), Ticket.id.desc())
        .limit(page.limit + 1)
    )
    tickets = list((await db.execute(statement)).mappings().all())
    next_cursor = None
    if len(tickets) > page.limit:
        tickets = tickets[: page.limit]
        last = tickets[-1]
        next_cursor = encode_cursor([last["received_at"].isoformat(), last["id"]])
    return [ticket_read(ticket, principal) for ticket in tickets], next_cursor
