"""Loads the development menu through the catalogue's own domain functions (idempotent)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, date, datetime, time

from sqlalchemy.ext.asyncio import AsyncSession

from catalog_service import menus, seed_data, service
from catalog_service.models import Category, Department, Menu, Policy, ServiceItem
from catalog_service.schemas import CategoryCreate, DepartmentCreate, ItemCreate, MenuCreate, PolicyCreate
from services.seeding import DemoFacts, SeedResult
from services.settings import SharedSettings


def _plain(record: object) -> dict[str, object]:
    return {key: list(value) if isinstance(value, tuple) else value for key, value in asdict(record).items()}  # type: ignore[call-overload]


async def seed_catalog(session: AsyncSession) -> dict[str, int]:
    """Insert what is missing of the demo menu; existing rows are left as they are."""
    created = {"departments": 0, "categories": 0, "policies": 0, "items": 0, "menus": 0}
    for department in seed_data.DEPARTMENTS:
        if await session.get(Department, department.code) is None:
            await service.create_department(session, data=DepartmentCreate(**_plain(department)))
            created["departments"] += 1
    for category in seed_data.CATEGORIES:
        if await session.get(Category, category.code) is None:
            await service.create_category(session, data=CategoryCreate(**_plain(category)))
            created["categories"] += 1
    for policy in seed_data.POLICIES:
        if await session.get(Policy, policy.code) is None:
            values = _plain(policy)
            values["issued_on"] = date.fromisoformat(str(values["issued_on"]))
            await service.create_policy(session, data=PolicyCreate(**values, status="published"))
            created["policies"] += 1
    for item in seed_data.ITEMS:
        if await session.get(ServiceItem, item.code) is None:
            await service.create_item(session, data=ItemCreate(**_plain(item), status="published"))
            created["items"] += 1
    edition = seed_data.MENU_EDITION
    if await session.get(Menu, edition.code) is None:
        await menus.create_menu(
            session, data=MenuCreate(code=edition.code, title=edition.title, item_codes=list(edition.item_codes))
        )
        published_on = date.fromisoformat(edition.published_on)
        await menus.publish_menu(
            session,
            code=edition.code,
            published_on=published_on,
            now=datetime.combine(published_on, time(1, 0), tzinfo=UTC),
        )
        created["menus"] += 1
    return created


async def seed(session: AsyncSession, *, settings: SharedSettings, facts: DemoFacts) -> SeedResult:
    """The catalogue's part of the development seed; its departments get demo staff accounts."""
    created = await seed_catalog(session)
    department_codes = tuple(department.code for department in seed_data.DEPARTMENTS)
    return SeedResult(created=created, facts=DemoFacts(department_codes=department_codes))
