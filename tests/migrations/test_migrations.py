"""`alembic upgrade head` creates everything on an empty database and `downgrade base` removes it."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from sqlalchemy import inspect

from launcher.migrations import alembic_config, migrate
from services.db import Base, create_engine
from tests.support import create_scratch_database, drop_scratch_database


async def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    async with engine.connect() as connection:
        names = await connection.run_sync(lambda sync: set(inspect(sync).get_table_names()))
    await engine.dispose()
    return names


async def test_upgrade_downgrade_upgrade_on_an_empty_database(database_url: str, tmp_path: Path) -> None:
    import catalog_service.models  # noqa: F401
    import gateway.models  # noqa: F401
    import ticket_service.models  # noqa: F401

    scratch = await create_scratch_database(database_url, tmp_path)
    try:
        assert await _tables(scratch) == set()
        await asyncio.to_thread(migrate, scratch)
        expected = set(Base.metadata.tables)
        assert {
            "accounts",
            "api_clients",
            "departments",
            "categories",
            "service_items",
            "policies",
            "menus",
            "calendar_days",
            "calendar_years",
            "calendar_changes",
            "outbox",
        } <= expected
        assert await _tables(scratch) == expected | {"alembic_version"}
        # The models and the migrations agree: autogenerate finds nothing to add.
        await asyncio.to_thread(command.check, alembic_config(scratch))
        await asyncio.to_thread(command.downgrade, alembic_config(scratch), "base")
        assert await _tables(scratch) == {"alembic_version"}
        await asyncio.to_thread(migrate, scratch)
        assert await _tables(scratch) == expected | {"alembic_version"}
    finally:
        await drop_scratch_database(database_url, scratch)
