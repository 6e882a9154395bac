"""Enterprises: registration by their unified social credit code, reads, and edits."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, false, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.credit_code import is_valid_credit_code
from services.db import Reader
from services.errors import Forbidden
from services.masking import mask_phone
from services.pagination import PageParams, decode_cursor, encode_cursor
from services.principals import Principal, Role
from ticket_service.errors import DuplicateCreditCode, EnterpriseNotFound, InvalidCreditCode
from ticket_service.models import Enterprise, EnterpriseChange, Ticket
from ticket_service.schemas import EnterpriseCreate, EnterpriseUpdate
from ticket_service.views import FULL_VIEW_ROLES, visibility

# Who reads an enterprise's phone number in full: the dispatcher, the enterprise itself, and
# the staff of a department that leads one of its tickets (they call it back). Everyone else
# who may read the enterprise sees it masked: a joint department's staff, supervisors, admins.
PHONE_ROLES = frozenset({Role.DISPATCHER, Role.ENTERPRISE})
# The assessment and fairness figures count enterprises by these: only a dispatcher or an admin
# changes them, and each change is recorded (who, when, from what to what). An enterprise keeps
# its contact details up to date itself; a provisional record (from a hotline call) is
# confirmed the same way.
ASSESSED_FIELDS = frozenset({"name", "size", "taiwan_funded", "industry", "park", "provisional"})
ASSESSED_FIELD_EDITORS = frozenset({Role.DISPATCHER, Role.ADMIN})
_COLUMNS = tuple(attribute.key for attribute in Enterprise.__mapper__.column_attrs)
CALLS_BACK = "_calls_back"


def enterprise_read(values: Mapping[Any, Any], principal: Principal, *, calls_back: bool = False) -> dict[str, Any]:
    """The enterprise as `principal` may see it: the phone masked unless the caller's role
    calls enterprises back, or (`calls_back`) the caller's department leads one of its tickets."""
    data = {key: values[key] for key in _COLUMNS}
    if principal.role not in PHONE_ROLES and not (principal.role == Role.STAFF and calls_back):
        data["contact_phone"] = mask_phone(data["contact_phone"])
    return data


def enterprise_values(enterprise: Enterprise) -> dict[str, Any]:
    return {key: getattr(enterprise, key) for key in _COLUMNS}


def _staff_reads(principal: Principal) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    """For a staff caller: which enterprises it may read (those with a ticket its department
    leads or joins) and for which it calls back (a ticket its department leads)."""
    tickets = Ticket.__table__
    enterprises = Enterprise.__table__
    of_enterprise = tickets.c.enterprise_id == enterprises.c.id
    visible = exists().where(of_enterprise, visibility(principal))
    leads = exists().where(of_enterprise, tickets.c.department_code == (principal.department_code or ""))
    return visible, leads


def _readable(principal: Principal) -> tuple[list[ColumnElement[bool]], list[Any]]:
    """The conditions limiting the enterprises `principal` reads, and the extra columns the
    read needs (a staff caller's call-back flag)."""
    table = Enterprise.__table__
    if principal.role == Role.ENTERPRISE:
        return [table.c.id == (principal.enterprise_id or "")], []
    if principal.role == Role.STAFF:
        visible, leads = _staff_reads(principal)
        return [visible], [leads.label(CALLS_BACK)]
    if principal.role in FULL_VIEW_ROLES:
        return [], []
    return [false()], []


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


async def register_enterprise(session: AsyncSession, *, data: EnterpriseCreate, principal: Principal) -> dict[str, Any]:
    """A dispatcher's or admin's registration, as the registrar sees it."""
    return enterprise_read(enterprise_values(await create_enterprise(session, data=data)), principal)


def _shown(row: Mapping[Any, Any], principal: Principal) -> dict[str, Any]:
    return enterprise_read(row, principal, calls_back=bool(row.get(CALLS_BACK)))


async def get_enterprise(db: Reader, *, enterprise_id: str, principal: Principal) -> dict[str, Any]:
    """The enterprise if the caller may read it: staff those of their department's tickets."""
    table = Enterprise.__table__
    conditions, columns = _readable(principal)
    statement = select(table, *columns).where(table.c.id == enterprise_id, *conditions)
    row = (await db.execute(statement)).mappings().first()
    if row is None:
        raise EnterpriseNotFound(enterprise_id)
    return _shown(row, principal)


async def list_enterprises(
    db: Reader, *, principal: Principal, page: PageParams, q: str | None, size: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    table = Enterprise.__table__
    conditions, columns = _readable(principal)
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
        (
            await db.execute(
                select(table, *columns).where(and_(True, *conditions)).order_by(table.c.id).limit(page.limit + 1)
            )
        )
        .mappings()
        .all()
    )
    items = [_shown(row, principal) for row in rows[: page.limit]]
    next_cursor = encode_cursor([items[-1]["id"]]) if len(rows) > page.limit else None
    return items, next_cursor


async def update_enterprise(
    session: AsyncSession, *, enterprise_id: str, data: EnterpriseUpdate, principal: Principal
) -> dict[str, Any]:
    """Change an enterprise's details; an enterprise account only its own contact details."""
    if principal.role == Role.ENTERPRISE and principal.enterprise_id != enterprise_id:
        raise EnterpriseNotFound(enterprise_id)
    enterprise = await session.get(Enterprise, enterprise_id, with_for_update=True)
    if enterprise is None:
        raise EnterpriseNotFound(enterprise_id)
    requested = data.model_dump(exclude_unset=True, exclude_none=True)
    changed = {field: value for field, value in requested.items() if getattr(enterprise, field) != value}
    assessed = {
        field: {"from": getattr(enterprise, field), "to": value}
        for field, value in changed.items()
        if field in ASSESSED_FIELDS
    }
    if assessed and principal.role not in ASSESSED_FIELD_EDITORS:
        names = ", ".join(sorted(assessed))
        raise Forbidden(
            f"Only a dispatcher or an admin may change {names}; an enterprise edits its contact details.",
            code="field_forbidden",
            fields=sorted(assessed),
        )
    if changed:
        for field, value in changed.items():
            setattr(enterprise, field, value)
        enterprise.version += 1
    if assessed:
        session.add(
            EnterpriseChange(
                enterprise_id=enterprise_id,
                version=enterprise.version,
                actor=principal.subject,
                role=principal.role.value,
                changes=assessed,
            )
        )
    await session.flush()
    return enterprise_read(enterprise_values(enterprise), principal)


async def list_changes(db: Reader, *, enterprise_id: str, page: PageParams) -> tuple[list[dict[str, Any]], str | None]:
    """The recorded changes to an enterprise's assessed fields, oldest first."""
    enterprises = Enterprise.__table__
    found = await db.execute(select(enterprises.c.id).where(enterprises.c.id == enterprise_id))
    if found.first() is None:
        raise EnterpriseNotFound(enterprise_id)
    table = EnterpriseChange.__table__
    statement = select(table).where(table.c.enterprise_id == enterprise_id)
    if page.cursor:
        (after,) = decode_cursor(page.cursor, arity=1)
        statement = statement.where(table.c.id > int(after))
    rows = (await db.execute(statement.order_by(table.c.id).limit(page.limit + 1))).mappings().all()
    next_cursor = encode_cursor([rows[page.limit - 1]["id"]]) if len(rows) > page.limit else None
    return [dict(row) for row in rows[: page.limit]], next_cursor
