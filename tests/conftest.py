"""Fixtures: a migrated, seeded database; a real Redis; the platform in-process.

Every service app and the gateway run in-process on ASGI transports, the gateway's upstreams
being the service apps themselves. Each test runs inside one outer transaction that is rolled
back at the end: the apps' session dependency is overridden to use a session on that
connection whose commits become savepoints.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from catalog_service.app import create_app as create_catalog_app
from catalog_service.settings import CatalogSettings
from gateway.app import create_app as create_gateway_app
from gateway.settings import GatewaySettings
from launcher.embedded_redis import EmbeddedRedis
from launcher.migrations import migrate
from launcher.seeding import seed
from notification_service.app import create_app as create_notification_app
from notification_service.settings import NotificationSettings
from services.db import (
    Database,
    create_engine,
    get_autocommit_connection,
    get_database,
    get_session,
    get_sessionmaker,
    writes_in_one_statement,
)
from services.redis import create_redis
from services.settings import SharedSettings
from tests.support import bearer, login, reset_database
from ticket_service.app import create_app as create_ticket_app
from ticket_service.settings import TicketSettings

pytest_plugins = ["tests.live_platform"]

# Every settings object of the run, in this process and in the servers it starts, generates and
# reads its development secrets (JWT_SECRET, INTERNAL_TOKEN) in this directory, so they agree
# with each other and never touch the project's own var/. Set before collection, since some test
# modules build settings at import.
_PREVIOUS_VAR_DIR = pytest.StashKey[str | None]()


def pytest_configure(config: pytest.Config) -> None:
    config.stash[_PREVIOUS_VAR_DIR] = os.environ.get("VAR_DIR")
    os.environ["VAR_DIR"] = tempfile.mkdtemp(prefix="platform965808-var-")


def pytest_unconfigure(config: pytest.Config) -> None:
    shutil.rmtree(os.environ["VAR_DIR"], ignore_errors=True)
    previous = config.stash.get(_PREVIOUS_VAR_DIR, None)
    if previous is None:
        os.environ.pop("VAR_DIR", None)
    else:
        os.environ["VAR_DIR"] = previous


# The whole run's requests come from one address and a few callers; the limits are tested with
# a gateway of their own (tests/gateway/test_rate_limits.py).
UNLIMITED: dict[str, Any] = {
    "rate_limit_burst_per_principal": 100_000_000,
    "rate_limit_burst_per_ip": 100_000_000,
}


def _forget_rate_limits(url: str) -> None:
    """A run starts with no requests or failed logins counted, and no token versions raised, by
    an earlier run on the same Redis (its database started over)."""

    async def forget() -> None:
        client = create_redis(url)
        try:
            keys = [key for pattern in ("rl:*", "tokver:*") async for key in client.scan_iter(match=pattern)]
            if keys:
                await client.delete(*keys)
        finally:
            await client.aclose()

    asyncio.run(forget())


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`REDIS_URL` if set, else an embedded real redis-server for the session."""
    if os.environ.get("REDIS_URL"):
        _forget_rate_limits(os.environ["REDIS_URL"])
        yield os.environ["REDIS_URL"]
        return
    embedded = EmbeddedRedis(tmp_path_factory.mktemp("redis")).start()
    try:
        yield embedded.url
    finally:
        embedded.stop()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """`DATABASE_URL` if set (PostgreSQL in CI), else a SQLite file for the session."""
    return os.environ.get("DATABASE_URL") or f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"


@pytest.fixture(scope="session")
def base_env(database_url: str, redis_url: str) -> dict[str, str]:
    return {
        "ENVIRONMENT": "test",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "LOG_LEVEL": "WARNING",
        "LOG_JSON": "false",
        "VAR_DIR": os.environ["VAR_DIR"],
    }


@pytest.fixture(scope="session")
async def migrated_database(database_url: str, base_env: dict[str, str]) -> str:
    await reset_database(database_url)
    await asyncio.to_thread(migrate, database_url)
    await seed(SharedSettings(**{k: v for k, v in base_env.items()}))  # type: ignore[arg-type]
    return database_url


@pytest.fixture(scope="session")
async def engine(migrated_database: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(migrated_database)
    yield engine
    await engine.dispose()


@dataclass
class SessionHolder:
    """Where the overridden session dependency finds this test's sessionmaker."""

    sessionmaker: async_sessionmaker[AsyncSession] | None = None
    connection: AsyncConnection | None = None


@dataclass
class Platform:
    client: httpx.AsyncClient
    services: dict[str, FastAPI]
    upstreams: dict[str, Any]
    holder: SessionHolder
    tokens: dict[str, str] = field(default_factory=dict)

    async def token(self, username: str) -> str:
        if username not in self.tokens:
            self.tokens[username] = await login(self.client, username)
        return self.tokens[username]

    async def auth(self, username: str) -> dict[str, str]:
        return bearer(await self.token(username))


def _settings_env(base_env: dict[str, str]) -> dict[str, Any]:
    return {key.lower(): value for key, value in base_env.items()}


def _served(app: Any) -> Any:
    """Behave like a server in front of `app`: Starlette re-raises an unhandled error after it
    has sent the 500; uvicorn logs it there, and so must the in-process upstream, or the error
    would surface inside the gateway instead of the 500 reaching the client."""

    async def served(scope: Any, receive: Any, send: Any) -> None:
        started = False

        async def tracking_send(message: Any) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await app(scope, receive, tracking_send)
        except Exception:
            if not started:
                raise

    return served


@pytest.fixture(scope="session")
async def platform_apps(engine: AsyncEngine, base_env: dict[str, str]) -> AsyncIterator[Platform]:
    """The four apps with their lifespans running, the gateway proxying in-process."""
    holder = SessionHolder()

    async def test_session() -> AsyncIterator[AsyncSession]:
        assert holder.sessionmaker is not None, "platform used outside a test transaction"
        async with holder.sessionmaker() as session:
            try:
                yield session
            except BaseException:
                await session.rollback()
                raise
            else:
                await session.commit()

    async def test_autocommit_connection() -> AsyncIterator[AsyncConnection]:
        assert holder.connection is not None, "platform used outside a test transaction"
        yield holder.connection

    def test_sessionmaker() -> async_sessionmaker[AsyncSession]:
        assert holder.sessionmaker is not None, "platform used outside a test transaction"
        return holder.sessionmaker

    @asynccontextmanager
    async def test_connection() -> AsyncIterator[AsyncConnection]:
        assert holder.connection is not None, "platform used outside a test transaction"
        yield holder.connection

    async def test_database() -> Database:
        assert holder.connection is not None, "platform used outside a test transaction"
        return Database(test_sessionmaker(), test_connection, writes_in_one_statement(holder.connection))

    overrides = {
        get_session: test_session,
        get_autocommit_connection: test_autocommit_connection,
        get_sessionmaker: test_sessionmaker,
        get_database: test_database,
    }
    env = _settings_env(base_env)
    async with AsyncExitStack() as stack:
        services: dict[str, FastAPI] = {}
        upstreams: dict[str, Any] = {}

        async def start(name: str, app: FastAPI) -> None:
            app.dependency_overrides.update(overrides)
            manager = await stack.enter_async_context(LifespanManager(app))
            services[name], upstreams[name] = app, _served(manager.app)

        # No background relay in-process: it would write to the shared database outside the
        # test's transaction; tests relay the catalogue's outbox themselves.
        await start(
            "catalog",
            create_catalog_app(
                # The periodic flush would write beside the test's rolled-back transaction (on SQLite,
                # a lock held against it); reading the figures flushes, and so does the stop.
                CatalogSettings(**env, relay_interval_seconds=0, visit_flush_seconds=0)
            ),
        )
        # The ticket service reaches the catalogue over HTTP semantics, in-process.
        catalog_transport = httpx.ASGITransport(app=upstreams["catalog"])
        await start("tickets", create_ticket_app(TicketSettings(**env), catalog_transport=catalog_transport))
        tickets_transport = httpx.ASGITransport(app=upstreams["tickets"])
        await start(
            "notifications", create_notification_app(NotificationSettings(**env), tickets_transport=tickets_transport)
        )
        # Each test's writes are rolled back: the board must not show figures read in another test.
        gateway = create_gateway_app(GatewaySettings(**env, **UNLIMITED, board_cache_seconds=0), upstreams=upstreams)
        gateway.dependency_overrides.update(overrides)
        gateway_manager = await stack.enter_async_context(LifespanManager(gateway))
        client = await stack.enter_async_context(
            httpx.AsyncClient(transport=httpx.ASGITransport(app=gateway_manager.app), base_url="http://testserver")
        )
        yield Platform(client=client, services=services, upstreams=upstreams, holder=holder)


@pytest.fixture
async def connection(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """One connection in an outer transaction that the test never commits."""
    async with engine.connect() as connection:
        transaction = await connection.begin()
        try:
            yield connection
        finally:
            await transaction.rollback()


@pytest.fixture
async def session(connection: AsyncConnection) -> AsyncIterator[AsyncSession]:
    """A session for direct database checks, inside the test's transaction."""
    maker = async_sessionmaker(bind=connection, expire_on_commit=False, join_transaction_mode="create_savepoint")
    async with maker() as session:
        yield session


@pytest.fixture
async def platform(platform_apps: Platform, connection: AsyncConnection) -> AsyncIterator[Platform]:
    # Each test's writes are rolled back, which production never does: start with an empty
    # catalogue read cache so no test is served another test's rolled-back data.
    platform_apps.services["catalog"].state.read_cache.clear()
    platform_apps.holder.connection = connection
    platform_apps.holder.sessionmaker = async_sessionmaker(
        bind=connection, expire_on_commit=False, join_transaction_mode="create_savepoint"
    )
    try:
        yield platform_apps
    finally:
        platform_apps.holder.sessionmaker = None
        platform_apps.holder.connection = None


@pytest.fixture
def client(platform: Platform) -> httpx.AsyncClient:
    return platform.client
