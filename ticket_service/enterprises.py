"""Enterprises: registration by their unified social credit code, reads, and edits."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.credit_code import is_valid_credit_code
from services.db import Reader
from services.errors import Forbidden
from services.masking import mask_phone
from services.pagination import PageParams, decode_cursor, encode_cursor
from services.principals import Principal, Role
from ticket_service.errors import DuplicateCreditCode, EnterpriseNotFound, InvalidCreditCode
from ticket_service.models import Enterprise, EnterpriseChange
from ticket_service.schemas import EnterpriseCreate, EnterpriseUpdate
from ticket_service.views import FULL_VIEW_ROLES

PHONE_ROLES = frozenset({Role.DISPATCHER, Role.STAFF, Role.ENTERPRISE})
# The assessment and fairness figures count enterprises by these: only a dispatcher or an admin
# changes them, and each change is recorded (who, when, from what to what). An enterprise keeps
# its contact details up to date itself; a provisional record (from a hotline call) is
# confirmed the same way.
ASSESSED_FIELDS = frozenset({"name", "size", "taiwan_funded", "industry", "park", "provisional"})
ASSESSED_FIELD_EDITORS = frozenset({Role.DISPATCHER, Role.ADMIN})
_COLUMNS = tuple(attribute.key for attribute in Enterprise.__mapper__.column_attrs)


def enterprise_read(values: Mapping[Any, Any], principal: Principal) -> dict[str, Any]:
    """The enterprise as `principal` may see it (the phone masked for roles that never call back)."""
    data = dict(values)
    if principal.role not in PHONE_ROLES:
        data["contact_phone"] = mask_phone(data["contact_phone"])
    return data


def enterprise_values(enterprise: Enterprise) -> dict[str, Any]:
    return {key: getattr(enterprise, key) for key in _COLUMNS}


def _may_see(principal: Principal, enterprise_id: str) -> bool:
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


async def register_enterprise(session: AsyncSession, *, data: EnterpriseCreate, principal: Principal) -> dict[str, Any]:
    """A dispatcher's or admin's registration, as the registrar sees it."""
    return enterprise_read(enterprise_values(await create_enterprise(session, data=data)), principal)


async def get_enterprise(db: Reader, *, enterprise_id: str, principal: Principal) -> dict[str, Any]:
    if not _may_see(principal, enterprise_id):
        raise EnterpriseNotFound(enterprise_id)
    table = Enterprise.__table__
    row = (await db.execute(select(table).where(table.c.id == enterprise_id))).mappings().first()
    if row is None:
        raise EnterpriseNotFound(enterprise_id)
    return enterprise_read(row, principal)


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
    items = [enterprise_read(row, principal) for row in rows[: page.limit]]
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
