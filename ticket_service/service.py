"""Domain functions of the ticket service. They `flush()`; the request's session commits.

Every change to a ticket goes through `apply_action`: the pure state machine decides, the
row's `version` moves, and one audit event plus the outbox rows are written in the same
transaction, so a change, its audit event and its events exist together or not at all. A
creation writes its ticket, first audit event and outbox row with one `insert_together` (one
statement on PostgreSQL, atomic without a transaction), so the same holds there.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import json
import secrets
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import TypeAdapter
from sqlalchemy import ColumnElement, Row, and_, bindparam, false, func, insert, or_, select, true
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from services.auth import Principal, Role
from services.credit_code import is_valid_credit_code
from services.db import Base, Reader, insert_together, utcnow, writes_in_one_statement
from services.errors import BadRequest, Forbidden
from services.pagination import PageParams, decode_cursor, encode_cursor
from services.workdays import SlaProfile, WorkCalendar
from ticket_service import calendar_service, lifecycle, outbox, sla_rules
from ticket_service.calendar_service import CalendarCache
from ticket_service.catalog_client import CatalogClient
from ticket_service.errors import (
    ActionForbiddenProblem,
    AlreadyRated,
    CalendarChanging,
    DuplicateCreditCode,
    EnterpriseNotFound,
    InvalidCreditCode,
    InvalidField,
    InvalidTransition,
    ItemNotEligible,
    ItemUnavailable,
    NotRatable,
    TicketNotFound,
    UnknownCode,
    VersionMismatch,
)
from ticket_service.models import Enterprise, Feedback, Order, OutboxEvent, Ticket, TicketEvent, TicketNumber
from ticket_service.outbox import add_event
from ticket_service.schemas import EnterpriseCreate, EnterpriseUpdate, TicketCreate, TicketRead
from ticket_service.sla_rules import SlaPolicy

SHANGHAI = ZoneInfo("Asia/Shanghai")
GENESIS_HASH = "0" * 64
_TICKET_ADAPTER: TypeAdapter[TicketRead] = TypeAdapter(TicketRead)
MAX_BACKDATE = timedelta(days=30)
DEFAULT_POLICY = SlaPolicy()
_UNAUDITED = frozenset({"updated_at", "version", "co_departments_text", "sla_next_at", "sla_fired"})
FULL_VIEW_ROLES = frozenset({Role.DISPATCHER, Role.SUPERVISOR, Role.ADMIN})
PHONE_ROLES = frozenset({Role.DISPATCHER, Role.STAFF, Role.ENTERPRISE})
STATUS_EVENTS = {
    "accepted": "ticket.accepted",
    "resolved": "ticket.resolved",
    "explained": "ticket.explained",
    "closed": "ticket.closed",
    "escalated": "ticket.escalated",
    "joint_review": "ticket.joint_review_started",
}


def mask_phone(phone: str) -> str:
    digits = [c for c in phone if c.isdigit()]
    if len(digits) < 7:
        return "*" * len(phone)
    return f"{''.join(digits[:3])}****{''.join(digits[-4:])}"


# Enterprises


def enterprise_read(enterprise: Enterprise | dict[str, Any], principal: Principal) -> dict[str, Any]:
    data = (
        dict(enterprise)
        if isinstance(enterprise, dict)
        else {c.key: getattr(enterprise, c.key) for c in Enterprise.__mapper__.column_attrs}
    )
    if principal.role not in PHONE_ROLES:
        data["contact_phone"] = mask_phone(data["contact_phone"])
    return data


def _may_see_enterprise(principal: Principal, enterprise_id: str) -> bool:
    if principal.role == Role.ENTERPRISE:
        return principal.enterprise_id == enterprise_id
    return principal.role in FULL_VIEW_ROLES or principal.role == Role.STAFF


async def create_enterprise(
    session: AsyncSession, *, data: EnterpriseCreate, enterprise_id: str | None = None
) -> Enterprise:
    if not is_valid_credit_code(data.credit_code):
        raise InvalidCreditCode(data.credit_code)
    existing = await session.execute(select(Enterprise.id).where(Enterprise.credit_code == data.credit_code))
    if existing.first() is not None:
        raise DuplicateCreditCode(data.credit_code)
    enterprise = Enterprise(id=enterprise_id or str(uuid.uuid4()), **data.model_dump(), version=1)
    session.add(enterprise)
    await session.flush()
    return enterprise


async def get_enterprise(db: Reader, *, enterprise_id: str, principal: Principal) -> dict[str, Any]:
    if not _may_see_enterprise(principal, enterprise_id):
        raise EnterpriseNotFound(enterprise_id)
    table = Enterprise.__table__
    row = (await db.execute(select(table).where(table.c.id == enterprise_id))).mappings().first()
    if row is None:
        raise EnterpriseNotFound(enterprise_id)
    return enterprise_read(dict(row), principal)


async def list_enterprises(
    db: Reader, *, principal: Principal, page: PageParams, q: str | None, size: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    table = Enterprise.__table__
    conditions: list[ColumnElement[bool]] = []
    if principal.role == Role.ENTERPRISE:
        conditions.append(table.c.id == (principal.enterprise_id or ""))
    if q:
        needle = q.strip().lower()
        conditions.append(
            or_(func.lower(table.c.name).contains(needle, autoescape=True), table.c.credit_code == q.strip().upper())
        )
    if size:
        conditions.append(table.c.size == size)
    if page.cursor:
        (after,) = decode_cursor(page.cursor, arity=1)
        conditions.append(table.c.id > str(after))
    rows = (
        (await db.execute(select(table).where(and_(True, *conditions)).order_by(table.c.id).limit(page.limit + 1)))
        .mappings()
        .all()
    )
    items = [enterprise_read(dict(row), principal) for row in rows[: page.limit]]
    next_cursor = encode_cursor([items[-1]["id"]]) if len(rows) > page.limit else None
    return items, next_cursor


async def update_enterprise(
    session: AsyncSession, *, enterprise_id: str, data: EnterpriseUpdate, principal: Principal
) -> Enterprise:
    if principal.role == Role.ENTERPRISE and principal.enterprise_id != enterprise_id:
        raise EnterpriseNotFound(enterprise_id)
    enterprise = await session.get(Enterprise, enterprise_id, with_for_update=True)
    if enterprise is None:
        raise EnterpriseNotFound(enterprise_id)
    changes = data.model_dump(exclude_unset=True, exclude_none=True)
    if principal.role == Role.ENTERPRISE and "size" in changes and changes["size"] != enterprise.size:
        raise Forbidden("An enterprise cannot change its own size class; ask a dispatcher.", code="field_forbidden")
    if changes:
        for field, value in changes.items():
            setattr(enterprise, field, value)
        enterprise.version += 1
    await session.flush()
    return enterprise


# Ticket reads


def _visibility(principal: Principal) -> ColumnElement[bool]:
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


# A ticket as stored: the ORM entity (changes), a row read on the autocommit connection
# (reads), or the values of a new one (creation).
TicketView = Ticket | Row[Any] | Mapping[str, Any]
_TICKET_COLUMNS = tuple(attribute.key for attribute in Ticket.__mapper__.column_attrs)


def _ticket_values(ticket: TicketView) -> dict[str, Any]:
    if isinstance(ticket, Ticket):
        return {key: getattr(ticket, key) for key in _TICKET_COLUMNS}
    if isinstance(ticket, Row):
        return dict(ticket._mapping)
    return {key: ticket.get(key) for key in _TICKET_COLUMNS}


def _facts(ticket: TicketView) -> lifecycle.TicketFacts:
    if isinstance(ticket, Mapping):  # a new ticket's values leave out what is still null
        status, department, codes = ticket["status"], ticket["department_code"], ticket["co_department_codes"]
        enterprise_id, paused_from = ticket["enterprise_id"], ticket.get("paused_from")
    else:
        status, department, codes = ticket.status, ticket.department_code, ticket.co_department_codes
        enterprise_id, paused_from = ticket.enterprise_id, ticket.paused_from
    return lifecycle.TicketFacts(
        status=lifecycle.Status(status),
        department_code=department,
        co_department_codes=tuple(codes or ()),
        enterprise_id=enterprise_id,
        paused_from=lifecycle.Status(paused_from) if paused_from else None,
    )


def allowed_action_names(ticket: TicketView, principal: Principal | None) -> list[str]:
    """What `principal` may do to the ticket now (nothing for an event's reader)."""
    if principal is None:
        return []
    return list(_allowed_names(_facts(ticket), lifecycle.Actor.from_principal(principal)))


@functools.lru_cache(maxsize=4096)
def _allowed_names(facts: lifecycle.TicketFacts, actor: lifecycle.Actor) -> tuple[str, ...]:
    # The state machine is pure, and a caller asks about the same few (ticket, caller) shapes
    # again and again: every response carries its allowed actions.
    return tuple(action.value for action in lifecycle.allowed_actions(facts, actor))


def ticket_read(ticket: TicketView, principal: Principal | None) -> dict[str, Any]:
    """The ticket as the API shows it; `allowed_actions` are the caller's (none for an event)."""
    data = _ticket_values(ticket)
    data["item"] = data["item_snapshot"]
    data["allowed_actions"] = allowed_action_names(data, principal)
    return data


def ticket_json(ticket: TicketView, principal: Principal | None) -> dict[str, Any]:
    """`ticket_read` validated against `TicketRead` and in JSON form: responses and event payloads."""
    data: dict[str, Any] = _TICKET_ADAPTER.dump_python(
        _TICKET_ADAPTER.validate_python(ticket_read(ticket, principal)), mode="json"
    )
    return data


@dataclass(frozen=True, slots=True)
class NewTicket:
    """A ticket just created: its stored values, and its JSON as its events show it."""

    values: dict[str, Any]
    data: dict[str, Any]

    def shown_to(self, principal: Principal) -> dict[str, Any]:
        """The JSON as `principal` sees it, without validating and serialising it again."""
        return {**self.data, "allowed_actions": allowed_action_names(self.values, principal)}


async def read_ticket(db: Reader, *, ticket_id: str, principal: Principal) -> Row[Any]:
    """The ticket if the caller may see it, for reading (no ORM entity, no transaction)."""
    require_ticket_reader(principal)
    table = Ticket.__table__
    row = (await db.execute(select(table).where(table.c.id == ticket_id, _visibility(principal)))).first()
    if row is None:
        raise TicketNotFound(ticket_id)
    return row


async def get_ticket(
    session: AsyncSession, *, ticket_id: str, principal: Principal, for_update: bool = False
) -> Ticket:
    require_ticket_reader(principal)
    statement = select(Ticket).where(Ticket.id == ticket_id, _visibility(principal))
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


async def list_tickets(
    db: Reader, *, principal: Principal, filters: TicketFilters, page: PageParams
) -> tuple[list[dict[str, Any]], str | None]:
    require_ticket_reader(principal)
    conditions: list[ColumnElement[bool]] = [_visibility(principal)]
    if filters.status:
        conditions.append(Ticket.status == filters.status)
    if filters.department_code:
        conditions.append(Ticket.department_code == filters.department_code)
    if filters.enterprise_id:
        conditions.append(Ticket.enterprise_id == filters.enterprise_id)
    if filters.channel:
        conditions.append(Ticket.channel == filters.channel)
    if filters.kind:
        conditions.append(Ticket.kind == filters.kind)
    if filters.overdue is not None:
        conditions.append(Ticket.is_overdue.is_(filters.overdue))
    if filters.due_before:
        conditions.append(Ticket.resolve_due < filters.due_before)
    if filters.received_from:
        conditions.append(Ticket.received_at >= filters.received_from)
    if filters.received_to:
        conditions.append(Ticket.received_at < filters.received_to)
    if filters.q:
        needle = filters.q.strip().lower()
        conditions.append(
            or_(
                func.lower(Ticket.title).contains(needle, autoescape=True),
                func.lower(Ticket.description).contains(needle, autoescape=True),
                Ticket.number == filters.q.strip(),
            )
        )
    if page.cursor:
        received, ticket_id = decode_cursor(page.cursor, arity=2)
        try:
            after = datetime.fromisoformat(str(received))
        except ValueError as exc:
            raise BadRequest("The cursor is not one this API issued.", code="invalid_cursor") from exc
        if after.tzinfo is None:
            raise BadRequest("The cursor is not one this API issued.", code="invalid_cursor")
        conditions.append(
            or_(Ticket.received_at < after, and_(Ticket.received_at == after, Ticket.id < str(ticket_id)))
        )
    statement = (
        select(Ticket.__table__)
        .where(and_(*conditions))
        .order_by(Ticket.received_at.desc(), Ticket.id.desc())
        .limit(page.limit + 1)
    )
    tickets = list((await db.execute(statement)).all())
    next_cursor = None
    if len(tickets) > page.limit:
        tickets = tickets[: page.limit]
        last = tickets[-1]
        next_cursor = encode_cursor([last.received_at.isoformat(), last.id])
    return [ticket_read(ticket, principal) for ticket in tickets], next_cursor


# The audit trail


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def event_hash(prev_hash: str, content: dict[str, Any]) -> str:
    return hashlib.sha256((prev_hash + _canonical(content)).encode()).hexdigest()


_EVENT_CONTENT = ("ticket_id", "seq", "action", "actor", "role", "at", "from_status", "to_status", "note", "changes")


def _event_content(event: TicketEvent | Mapping[Any, Any]) -> dict[str, Any]:
    values = event if isinstance(event, Mapping) else {key: getattr(event, key) for key in _EVENT_CONTENT}
    content = {key: values[key] for key in _EVENT_CONTENT}
    content["at"] = values["at"].astimezone(UTC).isoformat()
    return content


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def _chain_heads(session: AsyncSession) -> dict[str, tuple[int, str]]:
    """The last link of each ticket this transaction has touched, so a ticket changed several
    times in one transaction (a sweep's chunk) reads its chain head once. Tied to the session's
    innermost transaction: after a rollback (of a savepoint too) the heads are read again."""
    sync_session = session.sync_session
    transaction = sync_session.get_nested_transaction() or sync_session.get_transaction()
    cached = session.info.get("chain_heads")
    if cached is None or cached[0] is not transaction:
        cached = (transaction, {})
        session.info["chain_heads"] = cached
    heads: dict[str, tuple[int, str]] = cached[1]
    return heads


async def preload_chain_heads(session: AsyncSession, *, ticket_ids: Sequence[str]) -> None:
    """Read the chain heads of many locked tickets in one query (the sweep's chunks)."""
    if not ticket_ids:
        return
    last = (
        select(TicketEvent.ticket_id, func.max(TicketEvent.seq).label("seq"))
        .where(TicketEvent.ticket_id.in_(ticket_ids))
        .group_by(TicketEvent.ticket_id)
        .subquery()
    )
    rows = await session.execute(
        select(TicketEvent.ticket_id, TicketEvent.seq, TicketEvent.hash).join(
            last, and_(TicketEvent.ticket_id == last.c.ticket_id, TicketEvent.seq == last.c.seq)
        )
    )
    heads = _chain_heads(session)
    heads.update(dict.fromkeys(ticket_ids, (0, GENESIS_HASH)))
    for ticket_id, seq, event_hash_ in rows:
        heads[ticket_id] = (seq, event_hash_)


def _event_values(
    *,
    ticket_id: str,
    seq: int,
    prev_hash: str,
    action: str,
    principal: Principal,
    at: datetime,
    from_status: str | None,
    to_status: str | None,
    note: str,
    changes: dict[str, Any],
) -> dict[str, Any]:
    """The link after `prev_hash`, its own hash computed."""
    values: dict[str, Any] = {
        "ticket_id": ticket_id,
        "seq": seq,
        "action": action,
        "actor": principal.subject,
        "role": principal.role.value,
        "at": at,
        "from_status": from_status,
        "to_status": to_status,
        "note": note,
        "changes": {key: [_jsonable(old), _jsonable(new)] for key, (old, new) in changes.items()},
        "prev_hash": prev_hash,
    }
    values["hash"] = event_hash(prev_hash, _event_content(values))
    return values


async def append_event(
    session: AsyncSession,
    *,
    ticket: Ticket,
    action: str,
    principal: Principal,
    at: datetime,
    from_status: str | None,
    to_status: str | None,
    note: str,
    changes: dict[str, Any],
) -> TicketEvent:
    """Add the next link of the ticket's chain; the caller's flush writes it. The ticket row is
    locked by the caller, so reading the last link and adding the next cannot interleave."""
    heads = _chain_heads(session)
    head = heads.get(ticket.id)
    if head is None:
        last = (
            await session.execute(
                select(TicketEvent.seq, TicketEvent.hash)
                .where(TicketEvent.ticket_id == ticket.id)
                .order_by(TicketEvent.seq.desc())
                .limit(1)
            )
        ).first()
        head = (last[0], last[1]) if last else (0, GENESIS_HASH)  # (0, genesis) is an empty chain
    event = TicketEvent(
        **_event_values(
            ticket_id=ticket.id,
            seq=head[0] + 1,
            prev_hash=head[1],
            action=action,
            principal=principal,
            at=at,
            from_status=from_status,
            to_status=to_status,
            note=note,
            changes=changes,
        )
    )
    heads[ticket.id] = (event.seq, event.hash)
    session.add(event)
    return event


async def list_events(db: Reader, *, ticket_id: str) -> list[dict[str, Any]]:
    table = TicketEvent.__table__
    rows = (await db.execute(select(table).where(table.c.ticket_id == ticket_id).order_by(table.c.seq))).mappings()
    return [dict(row) for row in rows.all()]


async def verify_chain(session: AsyncSession, *, ticket_id: str) -> dict[str, Any]:
    table = TicketEvent.__table__
    rows = await session.execute(select(table).where(table.c.ticket_id == ticket_id).order_by(table.c.seq))
    events = rows.mappings().all()
    prev_hash = GENESIS_HASH
    for expected_seq, event in enumerate(events, start=1):
        if (
            event["seq"] != expected_seq
            or event["prev_hash"] != prev_hash
            or event_hash(prev_hash, _event_content(event)) != event["hash"]
        ):
            return {"ok": False, "first_broken_seq": event["seq"], "events": len(events)}
        prev_hash = event["hash"]
    return {"ok": True, "first_broken_seq": None, "events": len(events)}


# Creating tickets


@dataclass(frozen=True, slots=True)
class TicketDraft:
    """A new ticket before it has a number and deadlines."""

    kind: str
    channel: str
    enterprise_id: str
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
    # A dispatcher's record of a visit names when it really came in: kept in the audit trail.
    received_at_given: bool = False


_TAKE_NUMBERS = insert(TicketNumber).returning(TicketNumber.seq, sort_by_parameter_order=True)
# A creation rebuilds its rows when the overlay changed under it; a change per attempt is rare
# (an admin's edit), three in a row is a conflict.
_CREATION_ATTEMPTS = 3


class TicketNumbers:
    """Ticket numbers, one `ticket_numbers` row each, taken `batch` at a time ahead of need so
    most creations spend no round trip on their number; numbers still grow in each process.

    Only on PostgreSQL, whose sequence never hands a number out twice, even when the statement
    that took it rolls back; SQLite's rowid would, so there each creation takes its numbers in
    its own transaction."""

    def __init__(self, batch: int = 50) -> None:
        self.batch = batch
        self._spare: list[int] = []
        self._lock = asyncio.Lock()

    async def take(self, db: AsyncConnection, count: int) -> list[int]:
        if not writes_in_one_statement(db):
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


_ENTERPRISE_SIZE = select(Enterprise.size).where(Enterprise.id == bindparam("enterprise_id"))


def _new_ticket(
    draft: TicketDraft, *, number: str, calendar: WorkCalendar, policy: SlaPolicy, principal: Principal, now: datetime
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


async def _create_tickets(
    db: AsyncConnection,
    *,
    numbers: TicketNumbers,
    calendar_cache: CalendarCache,
    principal: Principal,
    drafts: Sequence[TicketDraft],
    policy: SlaPolicy,
    order: dict[str, Any] | None = None,
) -> list[NewTicket]:
    """Each draft becomes a ticket with its number, its deadlines, its first audit event and its
    `ticket.created` outbox row; all of them (and the `order` row) are written by one
    `insert_together`, under the condition that the calendar overlay is still the one the
    deadlines came from (else the calendar is reloaded and the rows built again). A failed
    write leaves only unused numbers behind, as a sequence does."""
    taken = await numbers.take(db, len(drafts))
    calendar = calendar_cache.calendar or await calendar_service.load_calendar(db, cache=calendar_cache)
    for _ in range(_CREATION_ATTEMPTS):
        created, rows = _creation_rows(
            drafts, numbers=taken, calendar=calendar, policy=policy, principal=principal, order=order
        )
        if await insert_together(
            db,
            rows,
            only_if=calendar_service.OVERLAY_UNCHANGED,
            parameters=calendar_service.unchanged_parameters(calendar_cache),
        ):
            return created
        calendar = await calendar_service.load_calendar(db, cache=calendar_cache)
    raise CalendarChanging()


def _creation_rows(
    drafts: Sequence[TicketDraft],
    *,
    numbers: Sequence[int],
    calendar: WorkCalendar,
    policy: SlaPolicy,
    principal: Principal,
    order: dict[str, Any] | None,
) -> tuple[list[NewTicket], list[tuple[type[Base], dict[str, Any]]]]:
    now = utcnow()
    rows: list[tuple[type[Base], dict[str, Any]]] = [(Order, order)] if order else []
    created = []
    for draft, seq in zip(drafts, numbers, strict=True):
        number = f"T{now.astimezone(SHANGHAI):%Y%m%d}{seq:06d}"
        ticket = _new_ticket(draft, number=number, calendar=calendar, policy=policy, principal=principal, now=now)
        changes: dict[str, Any] = {"status": (None, ticket["status"]), "department_code": (None, draft.department_code)}
        if draft.received_at_given:
            changes["received_at"] = (None, draft.received_at)
        event = _event_values(
            ticket_id=ticket["id"],
            seq=1,
            prev_hash=GENESIS_HASH,
            action="create",
            principal=principal,
            at=now,
            from_status=None,
            to_status=ticket["status"],
            note=draft.note,
            changes=changes,
        )
        data = ticket_json(ticket, None)
        announced = outbox.event_values(
            event_type="ticket.created", aggregate_type="ticket", aggregate_id=ticket["id"], data=data, occurred_at=now
        )
        rows += [(Ticket, ticket), (TicketEvent, event), (OutboxEvent, announced)]
        created.append(NewTicket(ticket, data))
    return created, rows


async def emit(session: AsyncSession, *, ticket: Ticket, event_types: Sequence[str], at: datetime) -> None:
    """One outbox row per event type, each carrying the ticket as the API shows it."""
    data = ticket_json(ticket, None)
    for event_type in event_types:
        await add_event(
            session, event_type=event_type, aggregate_type="ticket", aggregate_id=ticket.id, data=data, occurred_at=at
        )


async def place_order(
    db: AsyncConnection,
    *,
    catalog: CatalogClient,
    numbers: TicketNumbers,
    calendar_cache: CalendarCache,
    principal: Principal,
    lines: Sequence[tuple[str, str]],
    policy: SlaPolicy = DEFAULT_POLICY,
) -> tuple[dict[str, Any], list[NewTicket]]:
    """Every line must be a published item of the current menu that fits the enterprise's size;
    one bad line rejects the whole order and nothing is written."""
    if principal.role != Role.ENTERPRISE or not principal.enterprise_id:
        raise Forbidden("Only an enterprise account orders from the menu.", code="role_not_allowed")
    enterprise_id = principal.enterprise_id
    size = (await db.execute(_ENTERPRISE_SIZE, {"enterprise_id": enterprise_id})).scalar()
    if size is None:
        raise EnterpriseNotFound(enterprise_id)
    codes = [code for code, _ in lines]
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
    tickets = await _create_tickets(
        db,
        numbers=numbers,
        calendar_cache=calendar_cache,
        principal=principal,
        drafts=drafts,
        policy=policy,
        order=order,
    )
    return order, tickets


async def file_request(
    db: AsyncConnection,
    *,
    catalog: CatalogClient,
    numbers: TicketNumbers,
    calendar_cache: CalendarCache,
    principal: Principal,
    data: TicketCreate,
    policy: SlaPolicy = DEFAULT_POLICY,
) -> NewTicket:
    now = utcnow()
    if principal.role == Role.ENTERPRISE:
        if data.enterprise_id not in (None, principal.enterprise_id):
            raise InvalidField("enterprise_id", "An enterprise files requests for itself only.")
        for field in ("received_at", "department_code"):
            if getattr(data, field) is not None:
                raise InvalidField(field, f"Only a dispatcher may set {field}.", code="field_forbidden")
        enterprise_id = principal.enterprise_id
        received_at = now
    elif principal.role == Role.DISPATCHER:
        if not data.enterprise_id:
            raise InvalidField("enterprise_id", "A dispatcher names the enterprise the request is for.")
        enterprise_id = data.enterprise_id
        received_at = data.received_at or now
        if received_at.tzinfo is None:
            raise InvalidField("received_at", "received_at must carry a UTC offset.")
        if received_at > now + timedelta(seconds=5):
            raise InvalidField("received_at", "received_at cannot be in the future.")
        if received_at < now - MAX_BACKDATE:
            raise InvalidField("received_at", "received_at can be at most 30 days back.")
    else:
        raise Forbidden(f"Role {principal.role.value!r} may not file requests.", code="role_not_allowed")
    if enterprise_id is None:
        raise UnknownCode("enterprise_id", "")
    # An enterprise account's own enterprise was checked when the account was linked, and the
    # foreign key stands behind it; the one a dispatcher names is looked up.
    if (
        principal.role == Role.DISPATCHER
        and (await db.execute(_ENTERPRISE_SIZE, {"enterprise_id": enterprise_id})).first() is None
    ):
        raise UnknownCode("enterprise_id", enterprise_id)
    if data.category_code and not await catalog.category_exists(data.category_code):
        raise UnknownCode("category_code", data.category_code)
    if data.department_code and not await catalog.department_exists(data.department_code):
        raise UnknownCode("department_code", data.department_code)
    draft = TicketDraft(
        kind="request",
        channel=data.channel,
        enterprise_id=enterprise_id,
        title=data.title,
        description=data.description,
        received_at=received_at.astimezone(UTC),
        department_code=data.department_code,
        category_code=data.category_code,
        received_at_given=data.received_at is not None,
    )
    (ticket,) = await _create_tickets(
        db, numbers=numbers, calendar_cache=calendar_cache, principal=principal, drafts=[draft], policy=policy
    )
    return ticket


# The life cycle


@dataclass(frozen=True, slots=True)
class ActionInput:
    note: str = ""
    result: str | None = None
    explanation: str | None = None
    department_code: str | None = None
    co_department_codes: tuple[str, ...] = ()


def parse_if_match(value: str | None) -> int | None:
    if value is None:
        return None
    text = value.strip().removeprefix("W/").strip('"')
    if not text.isdigit():
        raise InvalidField("If-Match", "If-Match must be the ticket's version number.", code="invalid_if_match")
    return int(text)


def may_take(ticket: Ticket, action: lifecycle.Action, principal: Principal) -> bool:
    """Whether the state machine lets `principal` take `action` on the ticket now."""
    try:
        lifecycle.decide(_facts(ticket), action, lifecycle.Actor.from_principal(principal))
    except lifecycle.LifecycleError:
        return False
    return True


def touch(ticket: Ticket, now: datetime) -> None:
    """Every audited change moves the version by one (the ORM checks the old one on UPDATE)."""
    ticket.version += 1
    ticket.updated_at = now


async def apply_action(
    session: AsyncSession,
    *,
    ticket: Ticket,
    action: lifecycle.Action,
    principal: Principal,
    data: ActionInput,
    calendar: WorkCalendar,
    catalog: CatalogClient | None = None,
    expected_version: int | None = None,
    now: datetime | None = None,
    policy: SlaPolicy = DEFAULT_POLICY,
    event_action: str | None = None,
) -> Ticket:
    """The one transition function: decide, apply, bump the version, audit, emit.

    `event_action` names the audit event when the SLA worker takes the action as one of its
    steps (`joint_review`, `escalate`, `auto_close`)."""
    if expected_version is not None and expected_version != ticket.version:
        raise VersionMismatch(expected_version, ticket.version)
    try:
        transition = lifecycle.decide(_facts(ticket), action, lifecycle.Actor.from_principal(principal))
    except lifecycle.ActionForbidden as exc:
        raise ActionForbiddenProblem(str(exc), state=ticket.status, action=action.value) from exc
    except lifecycle.ActionNotAllowed as exc:
        raise InvalidTransition(str(exc), state=ticket.status, action=action.value) from exc
    now = now or utcnow()
    before = _ticket_values(ticket)
    ticket.status = transition.to_status.value
    note = data.note
    if action == lifecycle.Action.ACCEPT:
        ticket.accepted_at, ticket.reply = now, data.note
    elif action == lifecycle.Action.RESOLVE:
        ticket.result, ticket.resolved_at = data.result, now
        ticket.resolution_round += 1
        note = data.result or ""
    elif action == lifecycle.Action.EXPLAIN:
        ticket.explanation, ticket.resolved_at = data.explanation, now
        ticket.resolution_round += 1
        note = data.explanation or ""
    elif action == lifecycle.Action.REQUEST_JOINT_REVIEW:
        codes = [code for code in data.co_department_codes if code != ticket.department_code]
        if not codes:
            raise InvalidField("co_department_codes", "Name at least one department other than the lead.")
        if catalog is not None:
            for code in codes:
                if not await catalog.department_exists(code):
                    raise UnknownCode("co_department_codes", code)
        merged = list(dict.fromkeys([*ticket.co_department_codes, *codes]))
        ticket.co_department_codes = merged
        ticket.co_departments_text = "," + ",".join(merged) + ","
    elif action == lifecycle.Action.RETURN:
        ticket.department_code = None
    elif action == lifecycle.Action.TRANSFER:
        if data.department_code is None:
            raise InvalidField("department_code", "Name the department to transfer to.")
        if data.department_code == before["department_code"]:
            raise InvalidField("department_code", "The ticket is already with that department.")
        if catalog is not None and not await catalog.department_exists(data.department_code):
            raise UnknownCode("department_code", data.department_code)
        ticket.department_code = data.department_code
    elif action == lifecycle.Action.CLOSE:
        ticket.closed_at = now
    elif action == lifecycle.Action.REOPEN:
        ticket.accepted_at = ticket.resolved_at = ticket.closed_at = None
        ticket.overdue, ticket.is_overdue = [], False
    if transition.clock == lifecycle.Clock.PAUSE:
        ticket.paused_at, ticket.paused_from = now, transition.from_status.value
    elif transition.clock == lifecycle.Clock.RESUME:
        paused_at = ticket.paused_at or now
        ticket.paused_working_us += max(0, calendar.working_us(now) - calendar.working_us(paused_at))
        for field in ("accept_due", "resolve_due", "final_due"):
            setattr(ticket, field, calendar.shift_for_pause(getattr(ticket, field), paused_at, now))
        ticket.paused_at = ticket.paused_from = None
    elif transition.clock == lifecycle.Clock.RESTART:
        ticket.clock_started_at, ticket.paused_working_us, ticket.sla_fired = now, 0, 0
        recompute_deadlines(ticket, calendar)
    touch(ticket, now)
    schedule_sla(ticket, calendar, policy)
    after = _ticket_values(ticket)
    changes = {key: (before[key], after[key]) for key in after if before[key] != after[key] and key not in _UNAUDITED}
    await append_event(
        session,
        ticket=ticket,
        action=event_action or action.value,
        principal=principal,
        at=now,
        from_status=transition.from_status.value,
        to_status=transition.to_status.value,
        note=note,
        changes=changes,
    )
    event_types = ["ticket.status_changed"]
    if ticket.status != before["status"] and ticket.status in STATUS_EVENTS:
        event_types.append(STATUS_EVENTS[ticket.status])
    if ticket.status in {"resolved", "explained"}:
        event_types.append("ticket.feedback_requested")
    await emit(session, ticket=ticket, event_types=event_types, at=now)
    await session.flush()
    return ticket


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


# Feedback


async def rate(
    session: AsyncSession,
    *,
    ticket: Ticket,
    principal: Principal,
    rating: str,
    comment: str,
    calendar: WorkCalendar,
    channel: str = "web",
    policy: SlaPolicy = DEFAULT_POLICY,
) -> Feedback:
    """Rate the latest resolution once; an unsatisfied rating reopens the ticket (发回重办)."""
    if principal.role == Role.ENTERPRISE and principal.enterprise_id != ticket.enterprise_id:
        raise TicketNotFound(ticket.id)
    if principal.role not in {Role.ENTERPRISE, Role.HOTLINE}:
        raise Forbidden(
            "Only the enterprise (or the hotline's follow-up call) rates a ticket.", code="role_not_allowed"
        )
    if ticket.status not in {"resolved", "explained", "closed"} or ticket.resolution_round == 0:
        raise NotRatable(ticket.status)
    existing = await session.execute(
        select(Feedback.id).where(Feedback.ticket_id == ticket.id, Feedback.resolution_round == ticket.resolution_round)
    )
    if existing.first() is not None:
        raise AlreadyRated()
    now = utcnow()
    feedback = Feedback(
        ticket_id=ticket.id,
        resolution_round=ticket.resolution_round,
        rating=rating,
        comment=comment,
        created_by=principal.subject,
        channel=channel,
        created_at=now,
    )
    session.add(feedback)
    await append_event(
        session,
        ticket=ticket,
        action="feedback",
        principal=principal,
        at=now,
        from_status=ticket.status,
        to_status=ticket.status,
        note=comment,
        changes={"rating": (None, rating)},
    )
    await session.flush()
    if rating == "unsatisfied":
        await apply_action(
            session,
            ticket=ticket,
            action=lifecycle.Action.REOPEN,
            principal=principal,
            data=ActionInput(note=f"unsatisfied rating: {comment}".strip()),
            calendar=calendar,
            now=now,
            policy=policy,
        )
    return feedback


async def list_feedback(db: Reader, *, ticket_id: str) -> list[dict[str, Any]]:
    table = Feedback.__table__
    rows = await db.execute(select(table).where(table.c.ticket_id == ticket_id).order_by(table.c.resolution_round))
    return [dict(row) for row in rows.mappings().all()]
