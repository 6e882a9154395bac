"""Webhook subscriptions through the gateway: admin only, the secret shown once, rotation,
disable and enable, validation, and the SSRF refusals of production mode."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker

from notification_service.app import create_app
from notification_service.settings import NotificationSettings
from services.auth import Principal, Role, issue_token
from services.db import get_session
from tests.catalog_service.helpers import assert_problem
from tests.conftest import Platform
from tests.notification_service.helpers import API, subscribe
from tests.support import bearer


async def test_admin_creates_a_subscription_and_sees_its_secret_once(platform: Platform) -> None:
    created = await subscribe(platform, event_types=["ticket.resolved", "ticket.*"])
    assert created["status"] == "active"
    assert created["secret"].startswith("whsec_") and len(created["secret"]) > 40
    assert created["event_types"] == ["ticket.resolved", "ticket.*"]
    admin = await platform.auth("admin")
    shown = (await platform.client.get(f"{API}/webhook-subscriptions/{created['id']}", headers=admin)).json()
    assert "secret" not in shown and shown["url"] == created["url"]
    listed = (await platform.client.get(f"{API}/webhook-subscriptions", headers=admin)).json()
    assert created["id"] in {item["id"] for item in listed["items"]}
    assert all("secret" not in item for item in listed["items"])


@pytest.mark.parametrize("username", ["enterprise-1", "staff-jxw", "dispatcher", "supervisor"])
async def test_only_admins_touch_subscriptions_and_deliveries(platform: Platform, username: str) -> None:
    headers = await platform.auth(username)
    body = {"url": "https://erp.example.com/hooks", "event_types": ["ticket.*"]}
    assert_problem(await platform.client.post(f"{API}/webhook-subscriptions", json=body, headers=headers), 403)
    assert_problem(await platform.client.get(f"{API}/webhook-subscriptions", headers=headers), 403)
    assert_problem(await platform.client.get(f"{API}/webhook-deliveries", headers=headers), 403)
    assert_problem(await platform.client.post(f"{API}/webhook-subscriptions", json=body), 401)


async def test_rotation_returns_a_new_secret_and_a_grace_period(platform: Platform) -> None:
    created = await subscribe(platform)
    admin = await platform.auth("admin")
    response = await platform.client.post(f"{API}/webhook-subscriptions/{created['id']}/rotate-secret", headers=admin)
    assert response.status_code == 200, response.text
    rotated = response.json()
    assert rotated["secret"].startswith("whsec_") and rotated["secret"] != created["secret"]
    assert rotated["previous_secret_expires_at"] is not None
    shown = (await platform.client.get(f"{API}/webhook-subscriptions/{created['id']}", headers=admin)).json()
    assert shown["previous_secret_expires_at"] == rotated["previous_secret_expires_at"]
    no_grace = await platform.client.post(
        f"{API}/webhook-subscriptions/{created['id']}/rotate-secret", json={"grace_seconds": 0}, headers=admin
    )
    assert no_grace.json()["previous_secret_expires_at"] is None


async def test_disable_enable_and_their_conflicts(platform: Platform) -> None:
    created = await subscribe(platform)
    admin = await platform.auth("admin")
    base = f"{API}/webhook-subscriptions/{created['id']}"
    assert_problem(await platform.client.post(f"{base}/enable", headers=admin), 409, "invalid_state")
    disabled = (await platform.client.post(f"{base}/disable", headers=admin)).json()
    assert disabled["status"] == "disabled" and disabled["disabled_reason"]
    assert_problem(await platform.client.post(f"{base}/disable", headers=admin), 409, "invalid_state")
    enabled = (await platform.client.post(f"{base}/enable", headers=admin)).json()
    assert enabled["status"] == "active" and enabled["disabled_reason"] is None
    patched = await platform.client.patch(base, json={"event_types": ["ticket.closed"]}, headers=admin)
    assert patched.json()["event_types"] == ["ticket.closed"]
    missing = await platform.client.post(f"{API}/webhook-subscriptions/nope/disable", headers=admin)
    assert_problem(missing, 404, "subscription_not_found")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "ftp://erp.example.com/x", "event_types": ["ticket.*"]}, "url"),
        ({"url": "https://user:pw@erp.example.com/x", "event_types": ["ticket.*"]}, "url"),
        ({"url": "https:///nohost", "event_types": ["ticket.*"]}, "url"),
        ({"url": "https://erp.example.com/a b", "event_types": ["ticket.*"]}, "url"),
        ({"url": "https://erp.example.com/x", "event_types": []}, "event_types"),
        ({"url": "https://erp.example.com/x", "event_types": ["Ticket!"]}, "event_types"),
        ({"url": "https://erp.example.com/x", "event_types": ["ticket.*", "ticket.*"]}, "event_types"),
    ],
)
async def test_invalid_subscriptions_are_422(platform: Platform, body: dict[str, Any], field: str) -> None:
    response = await platform.client.post(
        f"{API}/webhook-subscriptions", json=body, headers=await platform.auth("admin")
    )
    problem = assert_problem(response, 422)
    assert any(field in error["loc"] for error in problem["errors"]), problem


async def test_development_mode_accepts_a_loopback_receiver(platform: Platform) -> None:
    created = await subscribe(platform, url="http://127.0.0.1:9/hooks")
    assert created["status"] == "active"


PRODUCTION_SECRET = "production-test-secret-0123456789abcdef"


@pytest.fixture
async def production_app(
    database_url: str, connection: AsyncConnection
) -> AsyncIterator[tuple[httpx.AsyncClient, NotificationSettings]]:
    """The notification service configured for production, writing inside the test's transaction."""
    settings = NotificationSettings(
        environment="production",
        database_url=database_url,
        jwt_secret=PRODUCTION_SECRET,
        internal_token="production-internal-token",
        hotline_webhook_secret="whsec_cHJvZHVjdGlvbi1ob3RsaW5l",
        webhook_allowed_hosts=["10.20.0.0/16", "localhost"],
        log_json=False,
        log_level="WARNING",
    )
    app = create_app(settings)
    maker = async_sessionmaker(bind=connection, expire_on_commit=False, join_transaction_mode="create_savepoint")

    async def test_session() -> AsyncIterator[AsyncSession]:
        async with maker() as session:
            yield session
            await session.commit()

    app.dependency_overrides[get_session] = test_session
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://notifications") as client:
            yield client, settings


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/hooks",
        "http://[::1]/hooks",
        "http://10.0.0.7/hooks",
        "http://192.168.1.10/hooks",
        "http://169.254.169.254/latest/meta-data",
        "http://[fd00:ec2::254]/latest",
        "http://100.100.100.200/latest/meta-data",
        "http://0.0.0.0/hooks",
        "http://nonexistent.invalid/hooks",
    ],
)
async def test_production_refuses_internal_addresses(
    production_app: tuple[httpx.AsyncClient, NotificationSettings], url: str
) -> None:
    client, settings = production_app
    token, _ = issue_token(settings, Principal(subject="admin", role=Role.ADMIN))
    body = {"url": url, "event_types": ["ticket.*"]}
    response = await client.post(f"{API}/webhook-subscriptions", json=body, headers=bearer(token))
    problem = assert_problem(response, 422, "webhook_url_not_allowed")
    assert problem["errors"][0]["loc"] == ["body", "url"]


@pytest.mark.parametrize("url", ["http://10.20.3.4/hooks", "http://localhost:8080/hooks"])
async def test_production_allows_listed_private_hosts(
    production_app: tuple[httpx.AsyncClient, NotificationSettings], url: str
) -> None:
    client, settings = production_app
    token, _ = issue_token(settings, Principal(subject="admin", role=Role.ADMIN))
    body = {"url": url, "event_types": ["ticket.*"]}
    response = await client.post(f"{API}/webhook-subscriptions", json=body, headers=bearer(token))
    assert response.status_code == 201, response.text


async def test_nul_characters_are_refused_not_a_server_error(platform: Platform) -> None:
    admin = await platform.auth("admin")
    responses = [
        await platform.client.get(f"{API}/webhook-subscriptions/a%00b", headers=admin),
        await platform.client.get(f"{API}/webhook-deliveries", params={"subscription_id": "a\x00b"}, headers=admin),
        await platform.client.post(
            f"{API}/webhook-subscriptions",
            json={"url": "https://erp.example.com/x", "event_types": ["ticket.*"], "description": "a\x00b"},
            headers=admin,
        ),
    ]
    assert [r.status_code for r in responses] == [422, 422, 422], [r.text for r in responses]
    for odd in ("²", "٣"):
        response = await platform.client.post(f"{API}/webhook-deliveries/{odd}/redeliver", headers=admin)
        assert_problem(response, 404, "delivery_not_found")
        response = await platform.client.post(f"{API}/inbox/{odd}/read", headers=admin)
        assert_problem(response, 404, "inbox_entry_not_found")
