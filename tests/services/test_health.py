"""Liveness and readiness apart on every HTTP process: `/health/live` asks only that the process
answers, `/health/ready` that its database does; `/health` stays as it was."""

from __future__ import annotations

import httpx
import pytest
from asgi_lifespan import LifespanManager

from catalog_service.app import create_app as create_catalog_app
from catalog_service.settings import CatalogSettings
from tests.conftest import Platform
from tests.support import free_port


@pytest.mark.parametrize("service", ["catalog", "tickets", "notifications"])
async def test_every_service_is_live_and_ready(platform: Platform, service: str) -> None:
    transport = httpx.ASGITransport(app=platform.upstreams[service])
    async with httpx.AsyncClient(transport=transport, base_url=f"http://{service}") as client:
        live = await client.get("/health/live")
        ready = await client.get("/health/ready")
    assert live.status_code == 200
    assert live.json()["checks"] == {}
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": "ok"}


async def test_the_gateway_is_ready_on_its_own_database_and_redis(client: httpx.AsyncClient) -> None:
    live = await client.get("/health/live")
    ready = await client.get("/health/ready")
    assert live.status_code == 200
    assert live.json() == {"status": "ok", "service": "gateway", "checks": {}}
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": "ok", "redis": "ok"}


async def test_a_service_without_its_database_is_live_but_not_ready() -> None:
    unreachable = f"postgresql+asyncpg://nobody@127.0.0.1:{free_port()}/platform"
    app = create_catalog_app(CatalogSettings(database_url=unreachable, log_json=False))
    async with (
        LifespanManager(app) as manager,
        httpx.AsyncClient(transport=httpx.ASGITransport(app=manager.app), base_url="http://catalog") as client,
    ):
        live = await client.get("/health/live")
        ready = await client.get("/health/ready")
        health = await client.get("/health")
    assert live.status_code == 200
    assert ready.status_code == 503
    assert ready.json()["checks"]["database"].startswith("error")
    assert health.status_code == 503


async def test_only_the_gateways_probes_are_in_the_public_document(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/openapi.json")).json()["paths"]
    assert paths["/health/live"]["get"]["summary"] == "Liveness of the gateway"
    assert paths["/health/ready"]["get"]["summary"] == "Readiness of the gateway"
