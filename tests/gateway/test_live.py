"""The proxy path between real servers: aiohttp upstreams, streaming, 502 and 504."""

from __future__ import annotations

import http.client

import httpx
import pytest

from tests.live_platform import LivePlatform

pytestmark = pytest.mark.live


def test_reads_through_the_gateway_equal_direct_reads(live: LivePlatform) -> None:
    for path in ("/api/v1/items/LS-001", "/api/v1/items?limit=100", "/api/v1/menus/current"):
        via_gateway = httpx.get(live.gateway_url + path, timeout=10)
        direct = httpx.get(live.catalog_url + path, timeout=10)
        assert via_gateway.status_code == direct.status_code == 200, path
        assert via_gateway.content == direct.content, path
        assert via_gateway.headers["etag"] == direct.headers["etag"]


def test_conditional_get_passes_through(live: LivePlatform) -> None:
    first = httpx.get(live.gateway_url + "/api/v1/items/LS-001", timeout=10)
    again = httpx.get(
        live.gateway_url + "/api/v1/items/LS-001", headers={"If-None-Match": first.headers["etag"]}, timeout=10
    )
    assert again.status_code == 304
    assert again.content == b""


def test_request_id_travels_to_the_service_and_back(live: LivePlatform) -> None:
    response = httpx.get(live.gateway_url + "/api/v1/categories", headers={"X-Request-ID": "live-trace-1"}, timeout=10)
    assert response.status_code == 200
    assert response.headers["x-request-id"] == "live-trace-1"
    assert response.headers.get_list("x-request-id") == ["live-trace-1"]


def test_writes_go_through_with_the_callers_token(live: LivePlatform) -> None:
    headers = {"Authorization": f"Bearer {live.admin_token}"}
    body = {"code": "live-test-dept", "name": "市测试办公室（live）", "short_name": "测试办"}
    created = httpx.post(live.gateway_url + "/api/v1/departments", json=body, headers=headers, timeout=10)
    assert created.status_code == 201, created.text
    direct = httpx.get(live.catalog_url + "/api/v1/departments/live-test-dept", timeout=10)
    assert direct.json()["name"] == "市测试办公室（live）"
    anonymous = httpx.post(live.gateway_url + "/api/v1/departments", json=body, timeout=10)
    assert anonymous.status_code == 401


def test_large_request_body_is_streamed_to_the_service(live: LivePlatform) -> None:
    headers = {"Authorization": f"Bearer {live.admin_token}", "Content-Type": "application/json"}
    # 200 KB of valid JSON (above the proxy's 64 KB in-memory threshold) reaches the service,
    # which rejects the oversized field itself: proof the body arrived whole.
    body = ('{"code": "big-dept", "name": "' + "长" * 70_000 + '"}').encode()
    response = httpx.post(live.gateway_url + "/api/v1/departments", content=body, headers=headers, timeout=10)
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["body", "name"]


def test_declared_oversized_body_is_413(live: LivePlatform) -> None:
    response = httpx.post(
        live.gateway_url + "/api/v1/departments", content=b"x" * 1_100_000, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"


def test_a_down_service_is_a_502_problem(live: LivePlatform) -> None:
    response = httpx.get(live.broken_gateway_url + "/api/v1/tickets", timeout=10)
    assert response.status_code == 502
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "bad_gateway"
    still_up = httpx.get(live.broken_gateway_url + "/api/v1/items/LS-001", timeout=10)
    assert still_up.status_code == 200


def test_a_slow_service_is_a_504_problem(live: LivePlatform) -> None:
    response = httpx.get(live.broken_gateway_url + "/api/v1/inbox", timeout=10)
    assert response.status_code == 504
    assert response.json()["code"] == "gateway_timeout"


def test_health_names_the_service_that_is_down(live: LivePlatform) -> None:
    healthy = httpx.get(live.gateway_url + "/health", timeout=10)
    assert healthy.status_code == 200
    broken = httpx.get(live.broken_gateway_url + "/health", timeout=10)
    assert broken.status_code == 503
    checks = broken.json()["checks"]
    assert checks["service:catalog"] == "ok"
    assert checks["service:tickets"].startswith("error")


def test_merged_docs_from_real_services(live: LivePlatform) -> None:
    document = httpx.get(live.gateway_url + "/openapi.json", timeout=10).json()
    assert "/api/v1/items/{code}" in document["paths"]
    assert "x-unavailable-services" not in document["info"]
    partial = httpx.get(live.broken_gateway_url + "/openapi.json", timeout=10).json()
    assert partial["info"]["x-unavailable-services"] == ["tickets"]
    assert "/api/v1/items/{code}" in partial["paths"]


@pytest.mark.parametrize("path", ["/api/v1/items/../../../metrics", "/api/v1/items/%2e%2e/%2e%2e/%2e%2e/metrics"])
def test_dot_segments_do_not_lead_the_gateway_to_a_services_metrics(live: LivePlatform, path: str) -> None:
    host, port = live.gateway_url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        # http.client sends the path as written; httpx would resolve the dot segments first.
        connection.request("GET", path)
        response = connection.getresponse()
        body = response.read()
    finally:
        connection.close()
    assert response.status == 404
    assert b"http_requests_total" not in body
    direct = httpx.get(live.catalog_url + "/metrics", timeout=10)
    assert direct.status_code == 200
    assert "http_requests_total" in direct.text
