"""Alembic environment: one history for every service's tables, on SQLite and PostgreSQL.

The URL comes from `-x url=...`, else from the shared settings (`DATABASE_URL`, else the
development SQLite file).
"""

from __future__ import annotations

import asyncio
from logging.config import fileConfig

from alembic import context
from sqlalchemy.engine import Connection

import catalog_service.models  # noqa: F401  (registers the catalogue's tables)
import gateway.models  # noqa: F401  (registers the gateway's tables)
import notification_service.models  # noqa: F401  (registers the notification service's tables)
import ticket_service.models  # noqa: F401  (registers the ticket service's tables)
from services.db import Base, create_engine, is_sqlite
from services.settings import SharedSettings

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = Base.metadata


def database_url() -> str:
    url = context.get_x_argument(as_dictionary=True).get("url") or config.attributes.get("url")
    return str(url) if url else SharedSettings().effective_database_url


def run_migrations_offline() -> None:
    url = database_url()
    context.configure(
        url=url,
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=is_sqlite(url),
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def run_migrations_online() -> None:
    engine = create_engine(database_url())
    async with engine.connect() as connection:
        await connection.run_sync(_run)
        await connection.commit()
    await engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    asyncio.run(run_migrations_online())
