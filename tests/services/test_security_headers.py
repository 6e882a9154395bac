"""Security headers on every answer of the gateway and the services, each header once; a strict
policy on API answers, an exact one on the documentation pages; HSTS only when asked for."""

from __future__ import annotations

import base64
import hashlib
import re

import httpx
import pytest
from asgi_lifespan import LifespanManager

from catalog_service.app import create_app as create_catalog_app
from catalog_service.settings import CatalogSettings
from services.security_headers import API_POLICY
from tests.conftest import Platform
from tests.live_platform import LivePlatform

ONCE = ("x-content-type-options", "x-frame-options", "content-security-policy", "referrer-policy")


def _assert_protected(response: httpx.Response) -> None:
    for name in ONCE:
        assert len(response.headers.get_list(name)) == 1, (name, response.headers.get_list(name))
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert "strict-transport-security" not in response.headers


def _directives(policy: str) -> dict[str, list[str]]:
    parsed = {}
    for directive in policy.split(";"):
        name, *sources = directive.split()
        parsed[name] = sources
    return parsed


async def test_gateway_answers_own_and_proxied_carry_each_header_once(platform: Platform) -> None:
    headers = await platform.auth("admin")
    for path in ("/api/v1/items/LS-001", "/api/v1/tickets", "/api/v1/auth/me", "/api/v1/nothing-here", "/health"):
        response = await platform.client.get(path, headers=headers)
        _assert_protected(response)
        assert response.headers["content-security-policy"] == API_POLICY, path


async def test_problems_and_refusals_are_protected_too(platform: Platform) -> None:
    unauthenticated = await platform.client.get("/api/v1/tickets")
    too_large = await platform.client.post("/api/v1/tickets", content=b"x" * 1_100_000)
    for response in (unauthenticated, too_large):
        assert response.status_code in (401, 413)
        _assert_protected(response)


@pytest.mark.parametrize("service", ["catalog", "tickets", "notifications"])
async def test_each_service_protects_its_own_answers(platform: Platform, service: str) -> None:
    transport = httpx.ASGITransport(app=platform.upstreams[service])
    async with httpx.AsyncClient(transport=transport, base_url=f"http://{service}") as client:
        for path in ("/health", "/openapi.json", "/api/v1/nothing-here"):
            response = await client.get(path)
            _assert_protected(response)
            assert response.headers["content-security-policy"] == API_POLICY


async def test_the_docs_page_may_run_swagger_ui_and_its_own_inline_script_only(client: httpx.AsyncClient) -> None:
    response = await client.get("/docs")
    assert response.status_code == 200
    _assert_protected(response)
    policy = _directives(response.headers["content-security-policy"])
    inline = re.findall(r"<script>(.*?)</script>", response.text, re.DOTALL)
    assert len(inline) == 1
    digest = base64.b64encode(hashlib.sha256(inline[0].encode()).digest()).decode()
    assert sorted(policy["script-src"]) == sorted([f"'sha256-{digest}'", "'self'"])
    assert policy["style-src"] == ["'self'", "'unsafe-inline'"]
    assert policy["default-src"] == ["'none'"]
    assert policy["connect-src"] == ["'self'"]
    assert "'unsafe-inline'" not in policy["script-src"]
    assert "'unsafe-eval'" not in policy["script-src"]
    redirect = await client.get("/docs/oauth2-redirect")
    assert _directives(redirect.headers["content-security-policy"])["script-src"][0].startswith("'sha256-")


async def test_a_services_redoc_page_gets_its_own_script_and_the_worker_it_needs(platform: Platform) -> None:
    transport = httpx.ASGITransport(app=platform.upstreams["catalog"])
    async with httpx.AsyncClient(transport=transport, base_url="http://catalog") as client:
        response = await client.get("/redoc")
    policy = _directives(response.headers["content-security-policy"])
    assert policy["script-src"] == ["'self'"]
    assert "font-src" not in policy
    assert policy["worker-src"] == ["blob:"]
    assert policy["frame-ancestors"] == ["'none'"]


async def test_hsts_only_when_configured_and_only_over_https(migrated_database: str) -> None:
    settings = CatalogSettings(database_url=migrated_database, hsts_max_age_seconds=31_536_000, log_json=False)
    app = create_catalog_app(settings)
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="https://catalog") as secure:
            over_https = await secure.get("/health/live")
        async with httpx.AsyncClient(transport=transport, base_url="http://catalog") as plain:
            over_http = await plain.get("/health/live")
    assert over_https.headers.get_list("strict-transport-security") == ["max-age=31536000; includeSubDomains"]
    assert "strict-transport-security" not in over_http.headers


def test_a_real_gateway_sends_one_server_and_one_date_header(live: LivePlatform) -> None:
    for path in ("/api/v1/items/LS-001", "/api/v1/categories", "/health"):
        response = httpx.get(live.gateway_url + path, timeout=10)
        assert response.status_code == 200
        assert len(response.headers.get_list("server")) == 1, path
        assert len(response.headers.get_list("date")) == 1, path
        for name in ONCE:
            assert len(response.headers.get_list(name)) == 1, (path, name)
