"""Domain functions of the catalogue. They `flush()`; the request's session commits."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from pydantic import BaseModel
from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from catalog_service import announcements
from catalog_service.errors import (
    DuplicateCode,
    DuplicateName,
    InUse,
    InvalidReference,
    InvalidStatusChange,
    ResourceNotFound,
    UnknownReference,
)
from catalog_service.models import Category, Department, Policy, ServiceItem
from catalog_service.rows import item_row, sizes_from_text, sizes_to_text
from catalog_service.schemas import (
    CategoryCreate,
    CategoryUpdate,
    DepartmentCreate,
    DepartmentUpdate,
    ItemCreate,
    ItemUpdate,
    PolicyCreate,
    PolicyUpdate,
)
from services.db import Base, Reader
from services.pagination import PageParams, decode_cursor, encode_cursor

SHANGHAI = ZoneInfo("Asia/Shanghai")
M = TypeVar("M", bound=Base)


@dataclass(frozen=True, slots=True)
class Listing:
    rows: list[dict[str, Any]]
    next_cursor: str | None


async def added(session: AsyncSession, entity: M) -> M:
    """A new entity, written by the flush so its constraints are checked now."""
    session.add(entity)
    return await flushed(session, entity)


async def flushed(session: AsyncSession, entity: M) -> M:
    await session.flush()
    return entity


def _search(q: str, *columns: InstrumentedAttribute[str]) -> ColumnElement[bool]:
    needle = q.strip().lower()
    return or_(*(func.lower(column).contains(needle, autoescape=True) for column in columns))


async def page_of(
    db: Reader,
    model: type[Base],
    *,
    conditions: list[ColumnElement[bool]],
    page: PageParams,
) -> Listing:
    """Keyset page over a table ordered by its `code` primary key (SQLAlchemy Core: hot path)."""
    table = model.__table__
    code_column = table.c.code
    if page.cursor is not None:
        (after,) = decode_cursor(page.cursor, arity=1)
        conditions = [*conditions, code_column > str(after)]
    statement: Select[Any] = select(table).where(and_(True, *conditions)).order_by(code_column).limit(page.limit + 1)
    result = await db.execute(statement)
    rows = [dict(row) for row in result.mappings().all()]
    next_cursor = None
    if len(rows) > page.limit:
        rows = rows[: page.limit]
        next_cursor = encode_cursor([rows[-1]["code"]])
    return Listing(rows=rows, next_cursor=next_cursor)


async def _get_row(db: Reader, model: type[Base], code: str) -> dict[str, Any] | None:
    table = model.__table__
    result = await db.execute(select(table).where(table.c.code == code))
    row = result.mappings().first()
    return dict(row) if row is not None else None


def _visible_status(model: type[Base]) -> str:
    """The status in which the public sees an entity: organisations are active, the rest published."""
    return "active" if model in (Department, Category) else "published"


def status_conditions(model: type[Base], *, status: str | None, include_hidden: bool) -> list[ColumnElement[bool]]:
    column = model.__table__.c.status
    conditions: list[ColumnElement[bool]] = []
    if not include_hidden:
        conditions.append(column == _visible_status(model))
    if status is not None:
        conditions.append(column == status)
    return conditions


async def get_visible(db: Reader, model: type[Base], kind: str, code: str, *, include_hidden: bool) -> dict[str, Any]:
    """The row, or 404 if it is missing or hidden from this caller."""
    row = await _get_row(db, model, code)
    if row is None or (not include_hidden and row["status"] != _visible_status(model)):
        raise ResourceNotFound(kind, code)
    return row


async def get_entity(session: AsyncSession, model: type[M], kind: str, code: str) -> M:
    entity = await session.get(model, code, with_for_update=True)
    if entity is None:
        raise ResourceNotFound(kind, code)
    return entity


async def ensure_new_code(session: AsyncSession, model: type[Base], kind: str, code: str) -> None:
    if await session.get(model, code) is not None:
        raise DuplicateCode(kind, code)


async def _ensure_unique_name(
    session: AsyncSession, column: InstrumentedAttribute[str], kind: str, name: str, *, own_code: str | None = None
) -> None:
    model = column.class_
    statement = select(model.code).where(column == name)
    existing = (await session.execute(statement)).scalar_one_or_none()
    if existing is not None and existing != own_code:
        raise DuplicateName(kind, name)


async def require_codes(
    session: AsyncSession,
    field: str,
    column: InstrumentedAttribute[str],
    codes: Sequence[str],
    *,
    statuses: Sequence[str],
) -> None:
    """Every code must name a row in one of `statuses`; otherwise 422 naming the missing ones."""
    if not codes:
        return
    model = column.class_
    statement = select(column).where(column.in_(list(codes)), model.status.in_(list(statuses)))
    found = set((await session.execute(statement)).scalars().all())
    missing = [code for code in codes if code not in found]
    if missing:
        raise UnknownReference(field, missing)


async def _withdraw_unused(
    session: AsyncSession,
    model: type[M],
    kind: str,
    code: str,
    *,
    used_by: InstrumentedAttribute[str],
    refusal: str,
) -> M:
    """Withdraw an active department or category that no published item relies on; `refusal`
    says why not, given the code and the items (`{code}`, `{items}`)."""
    entity = await get_entity(session, model, kind, code)
    status: str = entity.status  # type: ignore[attr-defined]
    if status != "active":
        raise InvalidStatusChange(kind, code, status, "withdrawn")
    in_use = await session.execute(select(ServiceItem.code).where(used_by == code, ServiceItem.status == "published"))
    items = list(in_use.scalars().all())
    if items:
        raise InUse(kind, code, refusal.format(code=repr(code), items=", ".join(items[:10])), items[:10])
    apply_changes(entity, {"status": "withdrawn"})
    return await flushed(session, entity)


def apply_changes(entity: Base, changes: dict[str, Any]) -> None:
    if not changes:
        return
    for field, value in changes.items():
        setattr(entity, field, value)
    entity.version += 1  # type: ignore[attr-defined]


# Departments


async def list_departments(
    db: Reader, *, page: PageParams, q: str | None, status: str | None, include_hidden: bool
) -> Listing:
    conditions = status_conditions(Department, status=status, include_hidden=include_hidden)
    if q:
        conditions.append(_search(q, Department.name, Department.short_name, Department.code))
    return await page_of(db, Department, conditions=conditions, page=page)


async def get_department(db: Reader, *, code: str, include_hidden: bool) -> dict[str, Any]:
    return await get_visible(db, Department, "department", code, include_hidden=include_hidden)


async def create_department(session: AsyncSession, *, data: DepartmentCreate) -> Department:
    await ensure_new_code(session, Department, "department", data.code)
    await _ensure_unique_name(session, Department.name, "department", data.name)
    return await added(session, Department(**data.model_dump(), status="active", version=1))


async def _named_changes(
    session: AsyncSession, model: type[M], name: InstrumentedAttribute[str], kind: str, code: str, data: BaseModel
) -> tuple[M, dict[str, Any]]:
    """The entity to change and the changes asked for; a new name must be nobody else's."""
    entity = await get_entity(session, model, kind, code)
    changes = data.model_dump(exclude_unset=True, exclude_none=True)
    if "name" in changes:
        await _ensure_unique_name(session, name, kind, changes["name"], own_code=code)
    return entity, changes


async def update_department(session: AsyncSession, *, code: str, data: DepartmentUpdate) -> Department:
    department, changes = await _named_changes(session, Department, Department.name, "department", code, data)
    apply_changes(department, changes)
    return await flushed(session, department)


async def withdraw_department(session: AsyncSession, *, code: str) -> Department:
    refusal = "Department {code} leads published items ({items}); move or withdraw them first."
    return await _withdraw_unused(
        session, Department, "department", code, used_by=ServiceItem.lead_department_code, refusal=refusal
    )


# Categories


async def list_categories(
    db: Reader, *, page: PageParams, q: str | None, status: str | None, include_hidden: bool
) -> Listing:
    conditions = status_conditions(Category, status=status, include_hidden=include_hidden)
    if q:
        conditions.append(_search(q, Category.name, Category.description, Category.code))
    return await page_of(db, Category, conditions=conditions, page=page)


async def get_category(db: Reader, *, code: str, include_hidden: bool) -> dict[str, Any]:
    return await get_visible(db, Category, "category", code, include_hidden=include_hidden)


async def _check_departments(session: AsyncSession, field: str, codes: Sequence[str]) -> None:
    await require_codes(session, field, Department.code, codes, statuses=["active"])


async def create_category(session: AsyncSession, *, data: CategoryCreate) -> Category:
    await ensure_new_code(session, Category, "category", data.code)
    await _ensure_unique_name(session, Category.name, "category", data.name)
    await _check_departments(session, "default_co_department_codes", data.default_co_department_codes)
    return await added(session, Category(**data.model_dump(), status="active", version=1))


async def update_category(session: AsyncSession, *, code: str, data: CategoryUpdate) -> Category:
    category, changes = await _named_changes(session, Category, Category.name, "category", code, data)
    if "default_co_department_codes" in changes:
        await _check_departments(session, "default_co_department_codes", changes["default_co_department_codes"])
    apply_changes(category, changes)
    return await flushed(session, category)


async def withdraw_category(session: AsyncSession, *, code: str) -> Category:
    refusal = "Category {code} holds published items ({items}); withdraw them first."
    return await _withdraw_unused(
        session, Category, "category", code, used_by=ServiceItem.category_code, refusal=refusal
    )


# Policies


async def list_policies(
    db: Reader,
    *,
    page: PageParams,
    q: str | None,
    level: str | None,
    status: str | None,
    include_hidden: bool,
) -> Listing:
    conditions = status_conditions(Policy, status=status, include_hidden=include_hidden)
    if level is not None:
        conditions.append(Policy.level == level)
    if q:
        conditions.append(_search(q, Policy.title, Policy.summary, Policy.document_number))
    return await page_of(db, Policy, conditions=conditions, page=page)


async def get_policy(db: Reader, *, code: str, include_hidden: bool) -> dict[str, Any]:
    return await get_visible(db, Policy, "policy", code, include_hidden=include_hidden)


async def create_policy(session: AsyncSession, *, data: PolicyCreate) -> Policy:
    await ensure_new_code(session, Policy, "policy", data.code)
    policy = await added(session, Policy(**data.model_dump(), version=1))
    if policy.status == "published":
        announcements.policy_published(session, policy)
    return policy


async def update_policy(session: AsyncSession, *, code: str, data: PolicyUpdate) -> Policy:
    policy = await get_entity(session, Policy, "policy", code)
    if policy.status == "withdrawn":
        raise InvalidStatusChange("policy", code, policy.status, "updated")
    apply_changes(policy, data.model_dump(exclude_unset=True, exclude_none=True))
    return await flushed(session, policy)


async def set_policy_status(session: AsyncSession, *, code: str, status: str) -> Policy:
    policy = await get_entity(session, Policy, "policy", code)
    if policy.status == status:
        raise InvalidStatusChange("policy", code, policy.status, status)
    apply_changes(policy, {"status": status})
    await flushed(session, policy)
    if status == "published":
        announcements.policy_published(session, policy)
    return await flushed(session, policy)


# Service items


async def list_items(
    db: Reader,
    *,
    page: PageParams,
    q: str | None,
    category_code: str | None,
    department_code: str | None,
    eligible_size: str | None,
    status: str | None,
    include_hidden: bool,
) -> Listing:
    conditions = status_conditions(ServiceItem, status=status, include_hidden=include_hidden)
    if category_code is not None:
        conditions.append(ServiceItem.category_code == category_code)
    if department_code is not None:
        conditions.append(ServiceItem.lead_department_code == department_code)
    if eligible_size is not None:
        conditions.append(ServiceItem.eligible_sizes_text.contains(f",{eligible_size},", autoescape=True))
    if q:
        conditions.append(_search(q, ServiceItem.title, ServiceItem.description, ServiceItem.code))
    listing = await page_of(db, ServiceItem, conditions=conditions, page=page)
    return Listing(rows=[item_row(row) for row in listing.rows], next_cursor=listing.next_cursor)


async def get_item(db: Reader, *, code: str, include_hidden: bool) -> dict[str, Any]:
    return item_row(await get_visible(db, ServiceItem, "item", code, include_hidden=include_hidden))


async def _check_item_references(session: AsyncSession, values: dict[str, Any], *, lead: str) -> None:
    if "category_code" in values:
        await require_codes(session, "category_code", Category.code, [values["category_code"]], statuses=["active"])
    if "lead_department_code" in values:
        await _check_departments(session, "lead_department_code", [values["lead_department_code"]])
    co_departments: list[str] = values.get("co_department_codes") or []
    if co_departments:
        await _check_departments(session, "co_department_codes", co_departments)
    if lead in co_departments:
        raise InvalidReference(
            "co_department_codes", f"The lead department {lead!r} cannot also be a co-handling department."
        )
    if values.get("policy_codes"):
        await require_codes(
            session, "policy_codes", Policy.code, values["policy_codes"], statuses=["draft", "published"]
        )


async def create_item(session: AsyncSession, *, data: ItemCreate) -> ServiceItem:
    await ensure_new_code(session, ServiceItem, "item", data.code)
    values = data.model_dump()
    await _check_item_references(session, values, lead=data.lead_department_code)
    sizes = values.pop("eligible_sizes")
    return await added(session, ServiceItem(**values, eligible_sizes_text=sizes_to_text(sizes), version=1))


async def update_item(session: AsyncSession, *, code: str, data: ItemUpdate) -> ServiceItem:
    item = await get_entity(session, ServiceItem, "item", code)
    if item.status == "withdrawn":
        raise InvalidStatusChange("item", code, item.status, "updated")
    changes = data.model_dump(exclude_unset=True, exclude_none=True)
    lead = changes.get("lead_department_code", item.lead_department_code)
    check = dict(changes)
    check.setdefault("co_department_codes", item.co_department_codes)
    await _check_item_references(session, check, lead=lead)
    if "eligible_sizes" in changes:
        changes["eligible_sizes_text"] = sizes_to_text(changes.pop("eligible_sizes"))
    apply_changes(item, changes)
    return await flushed(session, item)


async def set_item_status(session: AsyncSession, *, code: str, status: str) -> ServiceItem:
    item = await get_entity(session, ServiceItem, "item", code)
    if item.status == status:
        raise InvalidStatusChange("item", code, item.status, status)
    if status == "published":
        await _check_item_references(
            session,
            {
                "category_code": item.category_code,
                "lead_department_code": item.lead_department_code,
                "co_department_codes": item.co_department_codes,
            },
            lead=item.lead_department_code,
        )
    apply_changes(item, {"status": status})
    return await flushed(session, item)


def item_read(item: ServiceItem) -> dict[str, Any]:
    data = {column.key: getattr(item, column.key) for column in ServiceItem.__mapper__.column_attrs}
    data["eligible_sizes"] = sizes_from_text(data.pop("eligible_sizes_text"))
    return data
