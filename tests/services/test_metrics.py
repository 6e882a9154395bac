"""`/metrics` on every HTTP service: requests by route template (bounded labels), the pool,
who may read it, and that it is neither public API nor reachable through the gateway."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from asgi_lifespan import LifespanManager
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import delete, insert
from sqlalchemy.ext.asyncio import AsyncEngine

from catalog_service.app import create_app as create_catalog_app
from catalog_service.models import CatalogOutboxEvent
from catalog_service.settings import CatalogSettings
from services.outbox import event_values
from tests.conftest import Platform

SERVICES = ["catalog", "tickets", "notifications"]


def samples(text: str, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    """The samples called `name`, keyed by their sorted labels."""
    found: dict[tuple[tuple[str, str], ...], float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name:
                found[tuple(sorted(sample.labels.items()))] = sample.value
    return found


def requests_of(text: str, route: str, status: str, method: str = "GET") -> float:
    key = (("method", method), ("route", route), ("status", status))
    return samples(text, "http_requests_total").get(key, 0.0)


def service_client(platform: Platform, service: str, **kwargs: object) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=platform.upstreams[service], **kwargs)  # type: ignore[arg-type]
    return httpx.AsyncClient(transport=transport, base_url=f"http://{service}")


@pytest.mark.parametrize("service", SERVICES)
async def test_every_service_counts_its_requests_by_route_template_and_status(platform: Platform, service: str) -> None:
    async with service_client(platform, service) as client:
        before = (await client.get("/metrics")).text
        for _ in range(3):
            assert (await client.get("/health/live")).status_code == 200
        after = await client.get("/metrics")
    assert after.status_code == 200
    assert after.headers["content-type"].startswith("text/plain; version=")
    gained = requests_of(after.text, "/health/live", "200") - requests_of(before, "/health/live", "200")
    assert gained == 3
    labels = (("method", "GET"), ("route", "/health/live"), ("status", "200"))
    count = samples(after.text, "http_request_duration_seconds_count")[labels]
    assert count >= 3
    buckets = {
        dict(key)["le"]: value
        for key, value in samples(after.text, "http_request_duration_seconds_bucket").items()
        if tuple(item for item in key if item[0] != "le") == labels
    }
    ordered = [buckets[le] for le in sorted(buckets, key=lambda le: float(le))]
    assert ordered == sorted(ordered) and buckets["+Inf"] == count
    assert 0 < samples(after.text, "http_request_duration_seconds_sum")[labels] < count * 10
    # The pool the service's engine uses, read at scrape time.
    assert samples(after.text, "db_pool_size")[()] >= 1
    assert set(samples(after.text, "db_pool_connections")) == {(("state", "checked_out"),), (("state", "idle"),)}


async def test_a_path_parameter_is_its_template_never_the_raw_path(platform: Platform) -> None:
    async with service_client(platform, "catalog") as client:
        codes = [f"NO-{uuid.uuid4().hex[:8].upper()}" for _ in range(20)]
        for code in codes:
            assert (await client.get(f"/api/v1/items/{code}")).status_code == 404
        text = (await client.get("/metrics")).text
    assert requests_of(text, "/api/v1/items/{code}", "404") >= 20
    assert not any(code in text for code in codes)


async def test_labels_stay_bounded_whatever_paths_and_methods_arrive(platform: Platform) -> None:
    async with service_client(platform, "tickets") as client:
        # Warm every label the flood below can produce, then count the label sets.
        await client.get(f"/nowhere/{uuid.uuid4()}")
        await client.request("BREW", "/health/live")
        await client.get(f"/api/v1/tickets/{uuid.uuid4()}")
        before = samples((await client.get("/metrics")).text, "http_requests_total")
        for _ in range(30):
            await client.get(f"/nowhere/{uuid.uuid4()}")
            await client.request("BREW", "/health/live")
            await client.get(f"/api/v1/tickets/{uuid.uuid4()}")
        after = samples((await client.get("/metrics")).text, "http_requests_total")
    assert set(after) == set(before)
    unmatched = [labels for labels in after if ("route", "unmatched") in labels]
    assert unmatched
    assert any(("method", "OTHER") in labels for labels in after)
    assert sum(after[labels] - before[labels] for labels in after) == 90


async def test_the_catalogues_cached_answers_keep_their_template(platform: Platform) -> None:
    async with service_client(platform, "catalog") as client:
        for _ in range(3):
            assert (await client.get("/api/v1/items/LS-001")).status_code == 200
        text = (await client.get("/metrics")).text
    assert requests_of(text, "/api/v1/items/{code}", "200") >= 3
    assert requests_of(text, "unmatched", "200") == 0


async def test_the_gateway_names_a_proxied_request_by_its_routed_prefix(client: httpx.AsyncClient) -> None:
    before = (await client.get("/metrics")).text
    assert (await client.get("/api/v1/items/LS-001")).status_code == 200
    assert (await client.get("/api/v1/items?limit=1")).status_code == 200
    assert (await client.post("/api/v1/auth/token", data={"username": "nobody", "password": "x"})).status_code == 401
    after = (await client.get("/metrics")).text
    assert requests_of(after, "/api/v1/items/*", "200") - requests_of(before, "/api/v1/items/*", "200") == 1
    assert requests_of(after, "/api/v1/items", "200") - requests_of(before, "/api/v1/items", "200") == 1
    assert (
        requests_of(after, "/api/v1/auth/token", "401", "POST")
        - requests_of(before, "/api/v1/auth/token", "401", "POST")
        == 1
    )


async def test_an_oversized_body_is_counted_as_its_413(client: httpx.AsyncClient) -> None:
    before = (await client.get("/metrics")).text
    response = await client.post("/api/v1/tickets", content=b"x" * 2_000_000, headers={"content-type": "text/plain"})
    assert response.status_code == 413
    after = (await client.get("/metrics")).text
    gained = requests_of(after, "/api/v1/tickets", "413", "POST") - requests_of(
        before, "/api/v1/tickets", "413", "POST"
    )
    assert gained == 1


async def test_metrics_are_not_in_any_openapi_document(platform: Platform, client: httpx.AsyncClient) -> None:
    assert "/metrics" not in (await client.get("/openapi.json")).json()["paths"]
    for service in SERVICES:
        async with service_client(platform, service) as direct:
            assert "/metrics" not in (await direct.get("/openapi.json")).json()["paths"]


async def test_the_gateway_does_not_route_a_services_metrics(client: httpx.AsyncClient) -> None:
    """The gateway answers `/metrics` with its own figures; no prefix leads to a service's."""
    assert (await client.get("/api/v1/items/LS-001")).status_code == 200
    text = (await client.get("/metrics")).text
    assert requests_of(text, "/api/v1/items/*", "200") >= 1
    # The catalogue's own template for the same request: only in the catalogue's figures.
    assert "/api/v1/items/{code}" not in text
    for path in ("/api/v1/items/metrics", "/api/v1/metrics"):
        response = await client.get(path)
        assert response.status_code in (404, 422)
        assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize("header", ["X-Forwarded-For", "Forwarded"])
async def test_a_relayed_caller_may_not_read_them(platform: Platform, header: str) -> None:
    async with service_client(platform, "catalog") as client:
        response = await client.get("/metrics", headers={header: "203.0.113.9"})
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "metrics_token_required"
    assert "http_requests_total" not in response.text


async def test_a_remote_caller_needs_the_metrics_token(platform: Platform, tmp_path: Path) -> None:
    async with service_client(platform, "catalog", client=("198.51.100.7", 40000)) as client:
        refused = await client.get("/metrics")
    assert refused.status_code == 401
    assert refused.headers["www-authenticate"] == "Bearer"
    settings = CatalogSettings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'unused.db'}",
        relay_interval_seconds=0,
        log_json=False,
        metrics_token="scrape-secret-965808",  # type: ignore[arg-type]
    )
    app = create_catalog_app(settings)
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app, client=("198.51.100.7", 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://catalog") as remote:
            wrong = await remote.get("/metrics", headers={"Authorization": "Bearer guessed"})
            right = await remote.get("/metrics", headers={"Authorization": "Bearer scrape-secret-965808"})
    assert wrong.status_code == 401
    assert right.status_code == 200
    assert "db_pool_size" in right.text


async def test_the_catalogue_reports_its_outbox_backlog_at_scrape_time(platform: Platform, engine: AsyncEngine) -> None:
    """A committed event the relay has not published yet shows as waiting, with its age."""
    # Older than anything the session's seed wrote (its menu's events wait unrelayed in-process).
    occurred_at = datetime.now(UTC) - timedelta(days=1)
    values = event_values(
        event_type="menu.published",
        aggregate_type="menu",
        aggregate_id="metrics-test",
        data={},
        occurred_at=occurred_at,
    )
    async with engine.begin() as connection:
        await connection.execute(insert(CatalogOutboxEvent).values(**values))
    try:
        async with service_client(platform, "catalog") as client:
            waiting = (await client.get("/metrics")).text
    finally:
        async with engine.begin() as connection:
            await connection.execute(
                delete(CatalogOutboxEvent).where(CatalogOutboxEvent.event_id == values["event_id"])
            )
    async with service_client(platform, "catalog") as client:
        relayed = (await client.get("/metrics")).text
    labels = (("outbox", "catalog"),)
    assert (
        samples(waiting, "outbox_unrelayed_events")[labels] == samples(relayed, "outbox_unrelayed_events")[labels] + 1
    )
    assert samples(waiting, "outbox_oldest_unrelayed_age_seconds")[labels] >= 86_400
    assert samples(relayed, "outbox_oldest_unrelayed_age_seconds")[labels] < 86_400


async def test_metrics_turned_off_are_neither_served_nor_counted(tmp_path: Path) -> None:
    settings = CatalogSettings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'unused.db'}",
        relay_interval_seconds=0,
        log_json=False,
        metrics_enabled=False,
    )
    app = create_catalog_app(settings)
    async with (
        LifespanManager(app) as manager,
        httpx.AsyncClient(transport=httpx.ASGITransport(app=manager.app), base_url="http://catalog") as client,
    ):
        assert (await client.get("/health/live")).status_code == 200
        assert (await client.get("/metrics")).status_code == 404
    assert samples(generate_latest(app.state.metrics.registry).decode(), "http_requests_total") == {}
