"""Menu editions (服务菜单): drafts, publication and withdrawal; the current menu."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from catalog_service import announcements
from catalog_service.errors import InvalidStatusChange, MenuImmutable, ResourceNotFound
from catalog_service.models import Menu, ServiceItem
from catalog_service.rows import item_row
from catalog_service.schemas import MenuCreate, MenuUpdate
from catalog_service.service import (
    SHANGHAI,
    Listing,
    added,
    apply_changes,
    ensure_new_code,
    flushed,
    get_entity,
    get_visible,
    page_of,
    require_codes,
    status_conditions,
)
from services.db import Reader, utcnow
from services.pagination import PageParams


async def list_menus(db: Reader, *, page: PageParams, status: str | None, include_hidden: bool) -> Listing:
    conditions = status_conditions(Menu, status=status, include_hidden=include_hidden)
    return await page_of(db, Menu, conditions=conditions, page=page)


async def _menu_items(db: Reader, codes: list[str], *, include_hidden: bool) -> list[dict[str, Any]]:
    """The edition's items in its order; items withdrawn since are shown to admins only."""
    table = ServiceItem.__table__
    statement = select(table).where(table.c.code.in_(codes))
    if not include_hidden:
        statement = statement.where(table.c.status == "published")
    result = await db.execute(statement)
    by_code = {row["code"]: item_row(dict(row)) for row in result.mappings().all()}
    return [by_code[code] for code in codes if code in by_code]


async def get_menu(db: Reader, *, code: str, include_hidden: bool) -> dict[str, Any]:
    row = await get_visible(db, Menu, "menu", code, include_hidden=include_hidden)
    row["items"] = await _menu_items(db, row["item_codes"], include_hidden=include_hidden)
    return row


async def get_current_menu(db: Reader, *, include_hidden: bool = False) -> dict[str, Any]:
    table = Menu.__table__
    result = await db.execute(
        select(table)
        .where(table.c.status == "published")
        .order_by(table.c.published_on.desc(), table.c.published_at.desc())
        .limit(1)
    )
    row = result.mappings().first()
    if row is None:
        raise ResourceNotFound("menu", "current")
    menu = dict(row)
    menu["items"] = await _menu_items(db, menu["item_codes"], include_hidden=include_hidden)
    return menu


async def _check_menu_items(session: AsyncSession, codes: Sequence[str], *, statuses: Sequence[str]) -> None:
    await require_codes(session, "item_codes", ServiceItem.code, codes, statuses=statuses)


async def create_menu(session: AsyncSession, *, data: MenuCreate) -> Menu:
    await ensure_new_code(session, Menu, "menu", data.code)
    await _check_menu_items(session, data.item_codes, statuses=["draft", "published"])
    return await added(session, Menu(**data.model_dump(), status="draft", version=1))


async def update_menu(session: AsyncSession, *, code: str, data: MenuUpdate) -> Menu:
    menu = await get_entity(session, Menu, "menu", code)
    if menu.status != "draft":
        raise MenuImmutable(code)
    changes = data.model_dump(exclude_unset=True, exclude_none=True)
    if "item_codes" in changes:
        await _check_menu_items(session, changes["item_codes"], statuses=["draft", "published"])
    apply_changes(menu, changes)
    return await flushed(session, menu)


async def publish_menu(
    session: AsyncSession, *, code: str, published_on: date | None, now: datetime | None = None
) -> Menu:
    menu = await get_entity(session, Menu, "menu", code)
    if menu.status != "draft":
        raise InvalidStatusChange("menu", code, menu.status, "published")
    await _check_menu_items(session, menu.item_codes, statuses=["published"])
    instant = now or utcnow()
    apply_changes(
        menu,
        {
            "status": "published",
            "published_at": instant,
            "published_on": published_on or instant.astimezone(SHANGHAI).date(),
        },
    )
    await flushed(session, menu)
    await announcements.menu_published(session, menu)
    return await flushed(session, menu)


async def withdraw_menu(session: AsyncSession, *, code: str) -> Menu:
    menu = await get_entity(session, Menu, "menu", code)
    if menu.status == "withdrawn":
        raise InvalidStatusChange("menu", code, menu.status, "withdrawn")
    apply_changes(menu, {"status": "withdrawn"})
    return await flushed(session, menu)
