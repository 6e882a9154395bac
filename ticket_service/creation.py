"""Creating tickets: from an order (one per item), a free request, or (later) a hotline call.

Each draft becomes a ticket with its number, its deadlines, its first audit link and its
`ticket.created` outbox row, all written by one `insert_together`, so a ticket, its first
link and its event exist together or not at all. With an `Idempotency-Key` the creation runs
once per caller and key (`idempotency.run_once`).
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, bindparam, exists, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.db import Base, Database, insert_together, utcnow
from services.errors import Forbidden
from services.principals import Principal, Role
from services.workdays import SlaProfile, WorkCalendar
from ticket_service import audit, calendar_service, idempotency, lifecycle, outbox, sla_rules, stats_summary
from ticket_service.catalog_client import CatalogClient, CatalogItem
from ticket_service.context import EnterpriseFacts, TicketContext
from ticket_service.errors import (
    CalendarChanging,
    EnterpriseNotFound,
    InvalidField,
    ItemNotEligible,
    ItemUnavailable,
    UnknownCode,
)
from ticket_service.models import (
    Enterprise,
    Order,
    OutboxEvent,
    StatsDepartmentDelta,
    StatsHotSpotDelta,
    Ticket,
    TicketEvent,
)
from ticket_service.schemas import OrderRead, TicketCreate
from ticket_service.sla_rules import SlaPolicy
from ticket_service.views import NewTicket, ticket_json

SHANGHAI = ZoneInfo("Asia/Shanghai")
MAX_BACKDATE = timedelta(days=30)
# A creation rebuilds its rows when the overlay changed under it; a change per attempt is rare
# (an admin's edit), three in a row is a conflict.
_CREATION_ATTEMPTS = 3
_ENTERPRISE_SIZE = select(Enterprise.size).where(Enterprise.id == bindparam("enterprise_id"))
_ENTERPRISE_FACTS = select(Enterprise.id, Enterprise.size, Enterprise.industry, Enterprise.park).where(
    Enterprise.id.in_(bindparam("enterprise_ids", expanding=True))
)
# A creation for one enterprise writes the facts it remembered, under the condition that the
# enterprise still has them (read in the write's own snapshot): no read before the write.
_FACTS_UNCHANGED = exists().where(
    Enterprise.id == bindparam("facts_enterprise_id"),
    Enterprise.size == bindparam("facts_size"),
    func.coalesce(Enterprise.industry, "") == bindparam("facts_industry"),
    func.coalesce(Enterprise.park, "") == bindparam("facts_park"),
)
_CALENDAR_AND_FACTS_UNCHANGED = and_(calendar_service.OVERLAY_UNCHANGED, _FACTS_UNCHANGED)


@dataclass(frozen=True, slots=True)
class TicketDraft:
    """A new ticket before it has a number and deadlines."""

    kind: str
    channel: str
    enterprise_id: str | None
    title: str
    description: str
    received_at: datetime
    department_code: str | None
    co_department_codes: Sequence[str] = ()
    category_code: str | None = None
    item: dict[str, Any] | None = None
    order_id: str | None = None
    sla_profile: str = "1-3-5"
    note: str = ""
    # A dispatcher's record of a visit, or a hotline call, names when it really came in: kept in
    # the audit trail.
    received_at_given: bool = False
    hotline_call_id: str | None = None
    caller_phone: str | None = None


def _new_ticket(
    draft: TicketDraft,
    *,
    number: str,
    calendar: WorkCalendar,
    policy: SlaPolicy,
    principal: Principal,
    now: datetime,
    enterprise: EnterpriseFacts,
) -> dict[str, Any]:
    """A new ticket's column values (the columns left out take their defaults)."""
    deadlines = calendar.deadlines(draft.received_at, SlaProfile.parse(draft.sla_profile))
    codes = list(draft.co_department_codes)
    status = lifecycle.Status.SUBMITTED.value
    clock = sla_rules.Clock(
        status=status,
        fired=0,
        accept_due=deadlines.accept_due,
        resolve_due=deadlines.resolve_due,
        final_due=deadlines.final_due,
        resolved_at=None,
    )
    return {
        "id": secrets.token_hex(16),
        "number": number,
        "kind": draft.kind,
        "channel": draft.channel,
        "status": status,
        "enterprise_id": draft.enterprise_id,
        "order_id": draft.order_id,
        "item_code": draft.item["code"] if draft.item else None,
        "item_snapshot": draft.item,
        "category_code": draft.category_code,
        "title": draft.title,
        "description": draft.description,
        "department_code": draft.department_code,
        "co_department_codes": codes,
        "co_departments_text": "," + ",".join(codes) + ("," if codes else ""),
        "sla_profile": draft.sla_profile,
        "hotline_call_id": draft.hotline_call_id,
        "caller_phone": draft.caller_phone,
        "enterprise_size": enterprise[0],
        "enterprise_industry": enterprise[1],
        "enterprise_park": enterprise[2],
        "received_at": draft.received_at,
        "clock_started_at": draft.received_at,
        "paused_working_us": 0,
        "sla_next_at": sla_rules.next_check(clock, calendar, policy),
        "sla_fired": 0,
        "accept_due": deadlines.accept_due,
        "resolve_due": deadlines.resolve_due,
        "final_due": deadlines.final_due,
        "provisional": deadlines.provisional,
        "overdue": [],
        "is_overdue": False,
        "resolution_round": 0,
        "version": 1,
        "created_by": principal.subject,
        "created_at": now,
        "updated_at": now,
    }


def _creation_rows(
    drafts: Sequence[TicketDraft],
    *,
    numbers: Sequence[int],
    calendar: WorkCalendar,
    policy: SlaPolicy,
    principal: Principal,
    order: dict[str, Any] | None,
    enterprises: Mapping[str, EnterpriseFacts],
) -> tuple[list[NewTicket], list[tuple[type[Base], dict[str, Any]]]]:
    now = utcnow()
    rows: list[tuple[type[Base], dict[str, Any]]] = [(Order, order)] if order else []
    created = []
    # The local date's digits, not strftime: that costs three times as much, per ticket.
    today = now.astimezone(SHANGHAI)
    prefix = f"T{today.year:04d}{today.month:02d}{today.day:02d}"
    for draft, seq in zip(drafts, numbers, strict=True):
        number = f"{prefix}{seq:06d}"
        ticket = _new_ticket(
            draft,
            number=number,
            calendar=calendar,
            policy=policy,
            principal=principal,
            now=now,
            enterprise=enterprises.get(draft.enterprise_id or "", _NO_ENTERPRISE),
        )
        changes: dict[str, Any] = {"status": (None, ticket["status"]), "department_code": (None, draft.department_code)}
        if draft.received_at_given:
            changes["received_at"] = (None, draft.received_at)
        link = audit.Link(
            action="create",
            principal=principal,
            at=now,
            from_status=None,
            to_status=ticket["status"],
            note=draft.note,
            changes=changes,
        )
        event = audit.event_values(link, ticket_id=ticket["id"], seq=1, prev_hash=audit.GENESIS_HASH)
        data = ticket_json(ticket, None)
        announced = outbox.event_values(
            event_type="ticket.created", aggregate_type="ticket", aggregate_id=ticket["id"], data=data, occurred_at=now
        )
        rows += [(Ticket, ticket), (TicketEvent, event), (OutboxEvent, announced)]
        created.append(NewTicket(ticket, data))
    return created, rows


async def create_tickets(
    db: AsyncConnection,
    *,
    context: TicketContext,
    principal: Principal,
    drafts: Sequence[TicketDraft],
    order: dict[str, Any] | None = None,
) -> list[NewTicket]:
    """Write the drafts (and the `order` row) with one `insert_together`, under the condition
    that the calendar overlay is still the one the deadlines came from (else the calendar is
    reloaded and the rows built again). A failed write leaves only unused numbers behind, as a
    sequence does. The enterprise's facts (size, industry, park: what the statistics count the
    tickets under) come from the context when it has them, under the condition that they still
    hold (else they are read again, like the calendar)."""
    cache = context.calendar_cache
    taken = await context.numbers.take(db, len(drafts))
    ids = sorted({draft.enterprise_id for draft in drafts if draft.enterprise_id})
    remembered = context.enterprise_facts.get(ids[0]) if len(ids) == 1 else None
    enterprises = {ids[0]: remembered} if remembered is not None else await _enterprise_facts(db, context, ids)
    calendar = cache.calendar or await calendar_service.load_calendar(db, cache=cache)
    for _ in range(_CREATION_ATTEMPTS):
        created, rows = _creation_rows(
            drafts,
            numbers=taken,
            calendar=calendar,
            policy=context.policy,
            principal=principal,
            order=order,
            enterprises=enterprises,
        )
        departments, _, hot_spots = stats_summary.creation_tally([ticket.values for ticket in created], calendar).rows()
        parameters = calendar_service.unchanged_parameters(cache)
        only_if = calendar_service.OVERLAY_UNCHANGED
        if len(ids) == 1 and ids[0] in enterprises:
            size, industry, park = enterprises[ids[0]]
            only_if = _CALENDAR_AND_FACTS_UNCHANGED
            parameters |= {
                "facts_enterprise_id": ids[0],
                "facts_size": size,
                "facts_industry": industry,
                "facts_park": park,
            }
        if await insert_together(
            db,
            rows,
            only_if=only_if,
            parameters=parameters,
            append=((StatsDepartmentDelta, departments), (StatsHotSpotDelta, hot_spots)),
        ):
            return created
        calendar = await calendar_service.load_calendar(db, cache=cache)
        enterprises = await _enterprise_facts(db, context, ids)
    raise CalendarChanging()


_NO_ENTERPRISE: EnterpriseFacts = ("", "", "")


async def _enterprise_facts(
    db: AsyncConnection, context: TicketContext, ids: Sequence[str]
) -> dict[str, EnterpriseFacts]:
    if not ids:
        return {}
    rows = await db.execute(_ENTERPRISE_FACTS, {"enterprise_ids": list(ids)})
    facts = {row.id: (row.size, row.industry or "", row.park or "") for row in rows}
    context.enterprise_facts.remember(facts)
    return facts


async def _menu_items(catalog: CatalogClient, codes: Sequence[str], size: str) -> list[CatalogItem]:
    """Every code a published item of the current menu that fits `size`, else why not."""
    if len(set(codes)) != len(codes):
        raise InvalidField("items", "Each item may appear once in an order.", code="duplicate_item")
    menu = await catalog.current_menu_items()
    items = []
    for code in codes:
        item = menu.get(code)
        if item is None:
            # Only to say why: no such published item at all, or one the current menu leaves out.
            listed = await catalog.get_item(code)
            if listed is None or listed.status != "published":
                raise ItemUnavailable(code, "it is not a published item")
            raise ItemUnavailable(code, "it is not on the current menu")
        if size not in item.eligible_sizes:
            raise ItemNotEligible(code, size, item.eligible_sizes)
        items.append(item)
    return items


async def _place_order(
    db: AsyncConnection, *, context: TicketContext, principal: Principal, lines: Sequence[tuple[str, str]]
) -> dict[str, Any]:
    """Every line must be a published item of the current menu that fits the enterprise's size;
    one bad line rejects the whole order and nothing is written."""
    if principal.role != Role.ENTERPRISE or not principal.enterprise_id:
        raise Forbidden("Only an enterprise account orders from the menu.", code="role_not_allowed")
    enterprise_id = principal.enterprise_id
    size = (await db.execute(_ENTERPRISE_SIZE, {"enterprise_id": enterprise_id})).scalar()
    if size is None:
        raise EnterpriseNotFound(enterprise_id)
    items = await _menu_items(context.catalog, [code for code, _ in lines], size)
    now = utcnow()
    order: dict[str, Any] = {
        "id": uuid.uuid4().hex,
        "enterprise_id": enterprise_id,
        "created_by": principal.subject,
        "created_at": now,
    }
    drafts = [
        TicketDraft(
            kind="order",
            channel="web",
            enterprise_id=enterprise_id,
            title=item.title,
            description=note,
            received_at=now,
            department_code=item.lead_department_code,
            co_department_codes=item.co_department_codes,
            category_code=item.category_code,
            item=item.snapshot(),
            order_id=order["id"],
            sla_profile=item.sla_profile,
            note=note,
        )
        for item, (_, note) in zip(items, lines, strict=True)
    ]
    tickets = await create_tickets(db, context=context, principal=principal, drafts=drafts, order=order)
    return OrderRead.model_validate(
        {**order, "tickets": [ticket.shown_to(principal) for ticket in tickets]}
    ).model_dump(mode="json")


async def place_order(
    database: Database,
    *,
    context: TicketContext,
    principal: Principal,
    lines: Sequence[tuple[str, str]],
    once: idempotency.Once | None = None,
) -> idempotency.Created:
    """An enterprise's order: one ticket per item, for the item's lead department."""

    async def create(db: AsyncConnection) -> dict[str, Any]:
        return await _place_order(db, context=context, principal=principal, lines=lines)

    return await idempotency.run_once(database, once=once, create=create)


def _received_at(principal: Principal, data: TicketCreate, now: datetime) -> datetime:
    """When the request came in: now, or for a dispatcher the instant given (a visit)."""
    if principal.role == Role.ENTERPRISE:
        for field in ("received_at", "department_code"):
            if getattr(data, field) is not None:
                raise InvalidField(field, f"Only a dispatcher may set {field}.", code="field_forbidden")
        return now
    return checked_received_at(data.received_at or now, now=now, skew=timedelta(seconds=5))


def checked_received_at(received_at: datetime, *, now: datetime, skew: timedelta) -> datetime:
    """A given instant of receipt, in UTC: with an offset, not later than now (give or take the
    other clock's `skew`), at most `MAX_BACKDATE` back."""
    if received_at.tzinfo is None:
        raise InvalidField("received_at", "received_at must carry a UTC offset.")
    if received_at > now + skew:
        raise InvalidField("received_at", "received_at cannot be in the future.")
    if received_at < now - MAX_BACKDATE:
        raise InvalidField("received_at", "received_at can be at most 30 days back.")
    return received_at.astimezone(UTC)


def _requesting_enterprise(principal: Principal, data: TicketCreate) -> str | None:
    """Whose request it is: an enterprise's own, or the one a dispatcher names."""
    if principal.role == Role.ENTERPRISE:
        if data.enterprise_id not in (None, principal.enterprise_id):
            raise InvalidField("enterprise_id", "An enterprise files requests for itself only.")
        return principal.enterprise_id
    if principal.role != Role.DISPATCHER:
        raise Forbidden(f"Role {principal.role.value!r} may not file requests.", code="role_not_allowed")
    if not data.enterprise_id:
        raise InvalidField("enterprise_id", "A dispatcher names the enterprise the request is for.")
    return data.enterprise_id


async def _file_request(
    db: AsyncConnection, *, context: TicketContext, principal: Principal, data: TicketCreate
) -> dict[str, Any]:
    enterprise_id = _requesting_enterprise(principal, data)
    received_at = _received_at(principal, data, utcnow())
    if enterprise_id is None:
        raise UnknownCode("enterprise_id", "")
    # An enterprise account's own enterprise was checked when the account was linked, and the
    # foreign key stands behind it; the one a dispatcher names is looked up.
    if (
        principal.role == Role.DISPATCHER
        and (await db.execute(_ENTERPRISE_SIZE, {"enterprise_id": enterprise_id})).first() is None
    ):
        raise UnknownCode("enterprise_id", enterprise_id)
    if data.category_code and not await context.catalog.category_exists(data.category_code):
        raise UnknownCode("category_code", data.category_code)
    if data.department_code and not await context.catalog.department_exists(data.department_code):
        raise UnknownCode("department_code", data.department_code)
    draft = TicketDraft(
        kind="request",
        channel=data.channel,
        enterprise_id=enterprise_id,
        title=data.title,
        description=data.description,
        received_at=received_at,
        department_code=data.department_code,
        category_code=data.category_code,
        received_at_given=data.received_at is not None,
    )
    (ticket,) = await create_tickets(db, context=context, principal=principal, drafts=[draft])
    return ticket.shown_to(principal)


async def file_request(
    database: Database,
    *,
    context: TicketContext,
    principal: Principal,
    data: TicketCreate,
    once: idempotency.Once | None = None,
) -> idempotency.Created:
    """A free-form request: an enterprise's own, or a dispatcher's on behalf of one."""

    async def create(db: AsyncConnection) -> dict[str, Any]:
        return await _file_request(db, context=context, principal=principal, data=data)

    return await idempotency.run_once(database, once=once, create=create)
