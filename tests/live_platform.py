"""The platform as real processes: uvicorn servers on free ports, on a scratch database.

The gateway's proxy path (aiohttp) only exists between real servers, so these fixtures start
the catalogue, ticket and notification services and the gateway, plus a second gateway whose
ticket upstream is a closed port (502) and whose notification upstream never answers in time
(504). The scratch database is migrated and seeded like a fresh install; writes made here
stay in it and it is dropped at the end.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from launcher.migrations import migrate
from launcher.seeding import seed
from services.settings import SharedSettings
from tests.support import DEMO_PASSWORD, create_scratch_database, drop_scratch_database, free_port, uvicorn_server


@dataclass(frozen=True)
class LivePlatform:
    gateway_url: str
    catalog_url: str
    broken_gateway_url: str
    admin_token: str
    database_url: str = ""
    redis_url: str = ""
    notification_url: str = ""


@contextmanager
def running_platform(
    database_url: str, base_env: dict[str, str], directory: Path, *, broken: bool = True
) -> Iterator[LivePlatform]:
    """A freshly migrated and seeded platform on a scratch database beside `database_url`;
    with `broken`, the second gateway too."""
    scratch = asyncio.run(create_scratch_database(database_url, directory))
    try:
        migrate(scratch)
        asyncio.run(seed(SharedSettings(**{**{k.lower(): v for k, v in base_env.items()}, "database_url": scratch})))
        env = {
            **base_env,
            "DATABASE_URL": scratch,
            "CATALOG_RELAY_INTERVAL_SECONDS": "0.2",
            # The fuzzing tests fail logins by the hundred from one address; the throttle is
            # tested in-process (tests/gateway/test_login_throttle.py).
            "GATEWAY_LOGIN_FAILURES_BURST_PER_IP": "100000",
            "GATEWAY_LOGIN_FAILURES_BURST_PER_USERNAME": "100000",
            # Nor may they trip the general limits (tests/gateway/test_rate_limits.py).
            "GATEWAY_RATE_LIMIT_BURST_PER_IP": "100000000",
            "GATEWAY_RATE_LIMIT_BURST_PER_PRINCIPAL": "100000000",
            # The board's figures are compared with the API's as soon as a test has written them.
            "GATEWAY_BOARD_CACHE_SECONDS": "0",
        }
        ports = {name: free_port() for name in ("catalog", "tickets", "notifications", "gateway", "slow", "broken")}
        urls = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
        env.update(CATALOG_URL=urls["catalog"], TICKET_URL=urls["tickets"], NOTIFICATION_URL=urls["notifications"])
        closed_port = free_port()
        with ExitStack() as stack:
            stack.enter_context(uvicorn_server("catalog_service.app:create_app", ports["catalog"], env))
            stack.enter_context(uvicorn_server("ticket_service.app:create_app", ports["tickets"], env))
            stack.enter_context(uvicorn_server("notification_service.app:create_app", ports["notifications"], env))
            stack.enter_context(uvicorn_server("gateway.app:create_app", ports["gateway"], env))
            if broken:
                stack.enter_context(uvicorn_server("tests.gateway.slow_upstream:create_app", ports["slow"], env))
                broken_env = {
                    **env,
                    # Only the broken gateway gives up this soon; the real one keeps the default, so
                    # a busy machine's slow answer is not a 504 to the tests (the fuzzing's above all).
                    "UPSTREAM_TIMEOUT_SECONDS": "1",
                    "TICKET_URL": f"http://127.0.0.1:{closed_port}",
                    "NOTIFICATION_URL": urls["slow"],
                }
                stack.enter_context(uvicorn_server("gateway.app:create_app", ports["broken"], broken_env, health=False))
            token = httpx.post(
                f"{urls['gateway']}/api/v1/auth/token",
                data={"username": "admin", "password": DEMO_PASSWORD},
                timeout=10,
            ).json()["access_token"]
            yield LivePlatform(
                gateway_url=urls["gateway"],
                catalog_url=urls["catalog"],
                broken_gateway_url=urls["broken"] if broken else "",
                admin_token=token,
                database_url=scratch,
                redis_url=env["REDIS_URL"],
                notification_url=urls["notifications"],
            )
    finally:
        asyncio.run(drop_scratch_database(database_url, scratch))


@pytest.fixture(scope="session")
def live(
    database_url: str, base_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LivePlatform]:
    with running_platform(database_url, base_env, tmp_path_factory.mktemp("live")) as platform:
        yield platform
