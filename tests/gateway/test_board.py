"""The public board: the API's figures for anyone, the period asked for, the charts; and its
answers when it cannot show figures (the ticket service down, a bad period)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI, Request

from gateway.app import create_app
from gateway.board import Board, PeriodChoice
from gateway.catalog_client import CatalogDepartments
from gateway.settings import GatewaySettings
from gateway.stats_client import Ratio, StatsClient
from tests.conftest import UNLIMITED, Platform
from tests.gateway.board_page import BoardPage, read_board
from tests.support import free_port
from tests.ticket_service.helpers import dispatch_request, rate, resolve_ticket

HTML = {"Accept": "text/html,application/xhtml+xml"}


@pytest.fixture
async def gateway_without_services(base_env: dict[str, str]) -> AsyncIterator[httpx.AsyncClient]:
    """The real gateway and its aiohttp upstreams, with nothing listening where the services should be."""
    closed = {name: f"http://127.0.0.1:{free_port()}" for name in ("catalog_url", "ticket_url", "notification_url")}
    # The session's other gateways count against the same client address on the shared Redis.
    settings = GatewaySettings(**{key.lower(): value for key, value in base_env.items()}, **closed, **UNLIMITED)
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


def expected_percent(ratio: dict[str, Any] | None) -> str:
    """The board's rendering of an API ratio, worked out here from the API's own numbers."""
    if ratio is None or ratio["of"] == 0:
        return "—"
    return f"{ratio['count'] / ratio['of'] * 100:.1f}%"


async def api_figures(platform: Platform, query: dict[str, str]) -> dict[str, Any]:
    headers = await platform.auth("supervisor")
    answers = {}
    for name in ("scores", "departments", "overview", "trends"):
        response = await platform.client.get(f"/api/v1/stats/{name}", params=query, headers=headers)
        assert response.status_code == 200, response.text
        answers[name] = response.json()
    return answers


def assert_board_equals_api(page: BoardPage, api: dict[str, Any]) -> None:
    scores = api["scores"]
    departments = {row["department_code"]: row for row in api["departments"]["departments"]}
    assert page.order == [row["department_code"] for row in scores["scores"]]
    for row in scores["scores"]:
        shown = page.rows[row["department_code"]]
        figures = departments[row["department_code"]]
        assert shown["rank"] == str(row["rank"])
        assert shown["score"] == f"{row['score']:.2f}"
        assert shown["resolved_on_time"] == expected_percent(figures["resolved_on_time"])
        assert shown["satisfaction"] == expected_percent(figures["satisfaction"])
        on_time = figures["resolved_on_time"]
        assert shown["resolved_on_time_basis"] == f"{on_time['count']}/{on_time['of']}"
    overview = api["overview"]
    for name in ("units_joined", "visits", "policies_published", "items_published", "requests_received"):
        assert page.overview[name] == ("—" if overview[name] is None else str(overview[name])), name
    assert page.overview["completion"] == expected_percent(overview["completion"])
    assert page.overview["satisfaction"] == expected_percent(overview["satisfaction"])
    period = scores["period"]
    assert page.other["period"] == f"{period['start']} 至 {period['end']}"
    assert page.other["scheme-version"] == str(scores["scheme_version"])


async def test_the_board_shows_the_apis_figures_to_anyone(platform: Platform) -> None:
    first = await dispatch_request(platform, department_code="jxw")
    await resolve_ticket(platform, first)
    assert (await rate(platform, "enterprise-1", first["id"], "satisfied")).status_code == 201
    second = await dispatch_request(platform, department_code="jxw")
    await resolve_ticket(platform, second)
    assert (await rate(platform, "enterprise-1", second["id"], "unsatisfied")).status_code == 201
    await dispatch_request(platform, department_code="swj")

    response = await platform.client.get("/board", headers=HTML)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = read_board(response.text)
    api = await api_figures(platform, {})
    assert_board_equals_api(page, api)
    assert {"jxw", "swj"} <= set(page.order)
    assert page.rows["jxw"]["satisfaction"] == "50.0%"
    assert page.rows["jxw"]["satisfaction_basis"] == "1/2"
    assert "<script" not in response.text
    assert "script-src 'none'" in response.headers["content-security-policy"]


async def test_the_board_shows_the_period_asked_for(platform: Platform) -> None:
    await dispatch_request(platform, department_code="jxw")
    query = {"from": "2025-01-01", "to": "2025-03-31"}
    page = read_board((await platform.client.get("/board", params=query, headers=HTML)).text)
    assert page.other["period"] == "2025-01-01 至 2025-03-31"
    api = await api_figures(platform, {"start": "2025-01-01", "end": "2025-03-31"})
    assert_board_equals_api(page, api)
    assert "jxw" not in page.order


async def test_the_charts_are_svg_images_with_their_own_styles_only(platform: Platform) -> None:
    await dispatch_request(platform, department_code="jxw")
    for name in ("ranking", "received", "rates"):
        response = await platform.client.get(f"/board/charts/{name}.svg")
        assert response.status_code == 200, name
        assert response.headers["content-type"].startswith("image/svg+xml")
        assert response.text.startswith("<svg")
        assert "<script" not in response.text
        policy = response.headers["content-security-policy"]
        assert policy.startswith("default-src 'none'; style-src 'unsafe-inline';")
        assert "script-src" not in policy


def _counting_stats_app(calls: list[str]) -> FastAPI:
    """A statistics API that answers the board's four reads with one department, counting them."""
    app = FastAPI()
    ratio = {"count": 1, "of": 2, "rate": 0.5, "denominator": "received"}
    period = {"start": "2026-01-01", "end": "2026-12-31"}

    @app.get("/api/v1/stats/{name}")
    async def answer(name: str, request: Request) -> dict[str, Any]:
        calls.append(f"{name}?{request.url.query}")
        return {
            "scores": {
                "period": period,
                "scheme_version": 2,
                "without_tickets": [],
                "scores": [{"rank": 1, "department_code": "jxw", "score": 90.0, "max_score": 100.0}],
            },
            "departments": {
                "period": period,
                "without_tickets": [],
                "departments": [
                    {"department_code": "jxw", "received": 2, "resolved_on_time": ratio, "satisfaction": ratio}
                ],
            },
            "overview": {
                "period": period,
                "units_joined": 36,
                "visits": None,
                "policies_published": 3,
                "items_published": 50,
                "requests_received": 2,
                "completion": ratio,
                "satisfaction": ratio,
            },
            "trends": {"period": period, "weeks": []},
        }[name]

    return app


async def test_the_board_reads_a_period_once_within_its_cache_time() -> None:
    calls: list[str] = []
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=_counting_stats_app(calls)), base_url="http://t"
    ) as http:
        names = CatalogDepartments(http)
        board = Board(StatsClient(http, token="t"), names, cache_seconds=60)
        first = await board.figures(PeriodChoice(start=None, end=None))
        again = await board.figures(PeriodChoice(start=None, end=None))
        assert again is first
        assert len(calls) == 4
        other = await board.figures(PeriodChoice(start=date(2026, 1, 1), end=date(2026, 3, 31)))
        assert len(calls) == 8
        assert "start=2026-01-01&end=2026-03-31" in calls[-1]
        assert other.ranked[0].resolved_on_time == Ratio(count=1, of=2, rate=0.5)
        uncached = Board(StatsClient(http, token="t"), names, cache_seconds=0)
        await uncached.figures(PeriodChoice(start=None, end=None))
        await uncached.figures(PeriodChoice(start=None, end=None))
        assert len(calls) == 16
