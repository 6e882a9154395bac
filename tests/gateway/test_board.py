"""The public board's answers when it cannot show figures: the ticket service down, a bad period."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from asgi_lifespan import LifespanManager

from gateway.app import create_app
from gateway.settings import GatewaySettings
from tests.support import free_port

HTML = {"Accept": "text/html,application/xhtml+xml"}


@pytest.fixture
async def gateway_without_services(base_env: dict[str, str]) -> AsyncIterator[httpx.AsyncClient]:
    """The real gateway and its aiohttp upstreams, with nothing listening where the services should be."""
    closed = {name: f"http://127.0.0.1:{free_port()}" for name in ("catalog_url", "ticket_url", "notification_url")}
    settings = GatewaySettings(**{key.lower(): value for key, value in base_env.items()}, **closed)
    app = create_app(settings)
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client


async def test_ticket_service_down_is_a_503_page_for_a_browser(gateway_without_services: httpx.AsyncClient) -> None:
    response = await gateway_without_services.get("/board", headers=HTML)
    assert response.status_code == 503
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["retry-after"] == "30"
    assert 'data-problem="stats_unavailable"' in response.text
    assert "统计数据暂时无法读取" in response.text
    policy = response.headers["content-security-policy"]
    assert "script-src 'none'" in policy
    assert "default-src 'none'" in policy


async def test_ticket_service_down_is_a_503_problem_for_any_other_client(
    gateway_without_services: httpx.AsyncClient,
) -> None:
    for path in ("/board", "/board/charts/ranking.svg", "/board/charts/received.svg", "/board/charts/rates.svg"):
        response = await gateway_without_services.get(path, headers={"Accept": "application/json"})
        assert response.status_code == 503, path
        assert response.headers["content-type"] == "application/problem+json"
        body = response.json()
        assert body["code"] == "stats_unavailable"
        assert body["instance"] == path


@pytest.mark.parametrize(
    ("query", "field"),
    [("from=2026-13-01", "from"), ("to=yesterday", "to"), ("from=2026-06-01&to=2026-05-31", "to")],
)
async def test_a_bad_period_is_refused_before_any_figure_is_read(
    gateway_without_services: httpx.AsyncClient, query: str, field: str
) -> None:
    response = await gateway_without_services.get(f"/board?{query}")
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "invalid_period"
    assert body["errors"][0]["loc"] == ["query", field]
    page = await gateway_without_services.get(f"/board?{query}", headers=HTML)
    assert page.status_code == 422
    assert 'data-problem="invalid_period"' in page.text


async def test_an_overlong_period_parameter_is_a_422_problem(gateway_without_services: httpx.AsyncClient) -> None:
    response = await gateway_without_services.get("/board?from=" + "9" * 200)
    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"
