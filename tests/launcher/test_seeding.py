"""`seed` on a fresh database: every service's demo data, the accounts naming what the earlier
seeds created, nothing twice, and nothing at all outside development."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from catalog_service.models import Department
from catalog_service.seed_data import CATEGORIES, DEPARTMENTS, ITEMS, POLICIES
from gateway.models import Account, ApiClient
from gateway.seed import FRONTEND_CLIENT_ID, HOTLINE_CLIENT_ID
from launcher.migrations import migrate
from launcher.seeding import seed
from services.db import create_engine, create_sessionmaker
from services.settings import SharedSettings
from tests.support import create_scratch_database, drop_scratch_database
from ticket_service.models import Enterprise
from ticket_service.seed import demo_enterprise_ids
from ticket_service.seed_data import ENTERPRISES

PEOPLE = ("admin", "dispatcher", "supervisor")


@pytest.fixture
async def fresh_database(database_url: str, tmp_path: Path) -> AsyncIterator[str]:
    scratch = await create_scratch_database(database_url, tmp_path)
    try:
        await asyncio.to_thread(migrate, scratch)
        yield scratch
    finally:
        await drop_scratch_database(database_url, scratch)


async def test_seed_fills_every_service_once_and_links_accounts_to_earlier_seeds(fresh_database: str) -> None:
    settings = SharedSettings(environment="development", database_url=fresh_database)
    first = await seed(settings)
    assert first == {
        "departments": len(DEPARTMENTS),
        "categories": len(CATEGORIES),
        "policies": len(POLICIES),
        "items": len(ITEMS),
        "menus": 1,
        "enterprises": len(ENTERPRISES),
        "accounts": len(PEOPLE) + len(DEPARTMENTS) + len(ENTERPRISES) + 2,
    }
    assert await seed(settings) == dict.fromkeys(first, 0)

    engine = create_engine(fresh_database)
    try:
        async with create_sessionmaker(engine)() as session:
            departments = set((await session.scalars(select(Department.code))).all())
            enterprises = set((await session.scalars(select(Enterprise.id))).all())
            accounts = {account.username: account for account in (await session.scalars(select(Account))).all()}
            clients = set((await session.scalars(select(ApiClient.client_id))).all())
            account_rows = await session.scalar(select(func.count()).select_from(Account))
    finally:
        await engine.dispose()
    assert account_rows == len(accounts) == len(PEOPLE) + len(DEPARTMENTS) + len(ENTERPRISES)
    assert set(PEOPLE) <= set(accounts)
    assert clients == {HOTLINE_CLIENT_ID, FRONTEND_CLIENT_ID}
    staff = {account.department_code for name, account in accounts.items() if name.startswith("staff-")}
    assert staff == departments == {department.code for department in DEPARTMENTS}
    linked = {name: accounts[name].enterprise_id for name in demo_enterprise_ids()}
    assert linked == demo_enterprise_ids()
    assert set(linked.values()) == enterprises


async def test_seed_is_refused_outside_development(fresh_database: str) -> None:
    production = SharedSettings(
        environment="production",
        database_url=fresh_database,
        jwt_secret="a-production-secret-of-at-least-32-characters",
        internal_token="a-production-internal-token",
        hotline_webhook_secret="whsec_cHJvZHVjdGlvbi1ob3RsaW5lLXNlY3JldA==",
    )
    with pytest.raises(SystemExit, match="outside development"):
        await seed(production)
    engine = create_engine(fresh_database)
    try:
        async with create_sessionmaker(engine)() as session:
            assert await session.scalar(select(func.count()).select_from(Department)) == 0
            assert await session.scalar(select(func.count()).select_from(Account)) == 0
    finally:
        await engine.dispose()
