"""Policies over HTTP: reads, level filter, search, create/update/publish/withdraw."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from catalog_service.seed_data import POLICIES
from tests.catalog_service.helpers import (
    API,
    SEED_POLICY_COUNT,
    action,
    assert_problem,
    assert_validation,
    codes,
    create_policy,
    get_json,
    policy_payload,
)
from tests.conftest import Platform

SEED_CODES = sorted(p.code for p in POLICIES)


async def _admin_get(client: httpx.AsyncClient, admin: dict[str, str], code: str) -> httpx.Response:
    return await client.get(f"{API}/policies/{code}", headers=admin)


async def test_list_policies(client: httpx.AsyncClient) -> None:
    body = await get_json(client, "/policies")
    assert [row["code"] for row in body["items"]] == SEED_CODES
    assert len(body["items"]) == SEED_POLICY_COUNT and body["next_cursor"] is None
    assert all(row["status"] == "published" for row in body["items"])


@pytest.mark.parametrize("level", ["national", "provincial", "municipal"])
async def test_level_filter(client: httpx.AsyncClient, level: str) -> None:
    expected = sorted(p.code for p in POLICIES if p.level == level)
    assert expected
    assert await codes(client, "/policies", limit=2, level=level) == expected


async def test_bad_level_is_422(client: httpx.AsyncClient) -> None:
    assert_validation(await client.get(f"{API}/policies", params={"level": "county"}), "level", where="query")


async def test_get_policy(client: httpx.AsyncClient) -> None:
    body = await get_json(client, "/policies/POL-NAT-2015-01")
    assert body["title"] == "国务院关于印发《中国制造2025》的通知"
    assert body["level"] == "national"
    assert body["issued_on"] == next(p.issued_on for p in POLICIES if p.code == "POL-NAT-2015-01")
    assert body["status"] == "published"


async def test_unknown_policy_is_404(client: httpx.AsyncClient) -> None:
    assert_problem(await client.get(f"{API}/policies/POL-NONE"), 404, "policy_not_found")
    assert_validation(await client.get(f"{API}/policies/pol-nat"), "code", where="path")


async def test_policy_search(client: httpx.AsyncClient) -> None:
    expected = sorted(p.code for p in POLICIES if "中国制造" in p.title + p.summary + p.document_number)
    assert len(expected) >= 2
    assert await codes(client, "/policies", q="中国制造") == expected
    assert await codes(client, "/policies", q="中国制造", level="municipal") == ["POL-MUN-2015-01"]
    assert await codes(client, "/policies", q="无此政策") == []


async def test_policy_lifecycle(platform: Platform, client: httpx.AsyncClient) -> None:
    admin = await platform.auth("admin")
    draft = await create_policy(client, admin)
    code = draft["code"]
    assert draft["status"] == "draft" and draft["version"] == 1

    assert_problem(await client.get(f"{API}/policies/{code}"), 404, "policy_not_found")
    assert code not in await codes(client, "/policies")
    assert await codes(client, "/policies", headers=admin, status="draft") == [code]
    assert await codes(client, "/policies", status="draft") == []

    patched = await client.patch(
        f"{API}/policies/{code}", json={"summary": "新摘要", "level": "provincial"}, headers=admin
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["summary"] == "新摘要" and patched.json()["version"] == 2

    published = await action(client, admin, f"/policies/{code}/publish")
    assert published.status_code == 200 and published.json()["status"] == "published"
    assert (await get_json(client, f"/policies/{code}"))["level"] == "provincial"
    assert code in await codes(client, "/policies", level="provincial")
    assert_problem(await action(client, admin, f"/policies/{code}/publish"), 409, "invalid_state")

    withdrawn = await action(client, admin, f"/policies/{code}/withdraw")
    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == "withdrawn"
    version = withdrawn.json()["version"]
    assert_problem(await client.get(f"{API}/policies/{code}"), 404)
    assert_problem(
        await client.patch(f"{API}/policies/{code}", json={"summary": "改"}, headers=admin), 409, "invalid_state"
    )
    assert_problem(await action(client, admin, f"/policies/{code}/withdraw"), 409, "invalid_state")
    after = (await _admin_get(client, admin, code)).json()
    assert after["version"] == version and after["summary"] == "新摘要"

    republished = await action(client, admin, f"/policies/{code}/publish")
    assert republished.status_code == 200
    assert (await get_json(client, f"/policies/{code}"))["status"] == "published"


async def test_create_published_policy(platform: Platform, client: httpx.AsyncClient) -> None:
    admin = await platform.auth("admin")
    policy = await create_policy(client, admin, status="published", level="national")
    assert (await get_json(client, f"/policies/{policy['code']}"))["issued_on"] == "2016-01-15"
    assert policy["code"] in await codes(client, "/policies", level="national")


async def test_create_policy_defaults_to_published(platform: Platform, client: httpx.AsyncClient) -> None:
    admin = await platform.auth("admin")
    payload = policy_payload()
    del payload["status"]
    response = await client.post(f"{API}/policies", json=payload, headers=admin)
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "published"


async def test_duplicate_policy_code_is_409(platform: Platform, client: httpx.AsyncClient) -> None:
    admin = await platform.auth("admin")
    before = (await _admin_get(client, admin, "POL-NAT-2015-01")).json()
    response = await client.post(f"{API}/policies", json=policy_payload(code="POL-NAT-2015-01"), headers=admin)
    assert_problem(response, 409, "duplicate_code")
    assert (await _admin_get(client, admin, "POL-NAT-2015-01")).json() == before


INVALID: dict[str, tuple[dict[str, Any], list[str]]] = {
    "code-lower": ({"code": "pol-1"}, ["code"]),
    "title-too-long": ({"title": "政" * 201}, ["title"]),
    "title-blank": ({"title": " "}, ["title"]),
    "level-unknown": ({"level": "county"}, ["level"]),
    "issued-on-bad": ({"issued_on": "2016-13-40"}, ["issued_on"]),
    "issued-on-text": ({"issued_on": "last year"}, ["issued_on"]),
    "summary-too-long": ({"summary": "x" * 4001}, ["summary"]),
    "issuer-too-long": ({"issuer": "x" * 101}, ["issuer"]),
    "status-withdrawn": ({"status": "withdrawn"}, ["status"]),
    "unknown-field": ({"url": "http://example.com"}, ["url"]),
    "several": ({"level": "x", "issued_on": "x", "title": ""}, ["level", "issued_on", "title"]),
}


@pytest.mark.parametrize(("overrides", "fields"), INVALID.values(), ids=INVALID.keys())
async def test_invalid_policy_create(
    platform: Platform, client: httpx.AsyncClient, overrides: dict[str, Any], fields: list[str]
) -> None:
    admin = await platform.auth("admin")
    assert_validation(await client.post(f"{API}/policies", json=policy_payload(**overrides), headers=admin), *fields)
    assert len(await codes(client, "/policies", headers=admin)) == SEED_POLICY_COUNT


@pytest.mark.parametrize("field", ["code", "title", "level", "issued_on"])
async def test_policy_missing_required_field(platform: Platform, client: httpx.AsyncClient, field: str) -> None:
    admin = await platform.auth("admin")
    payload = policy_payload()
    del payload[field]
    assert_validation(await client.post(f"{API}/policies", json=payload, headers=admin), field)
    assert len(await codes(client, "/policies", headers=admin)) == SEED_POLICY_COUNT


@pytest.mark.parametrize(
    "patch",
    [{"title": "x" * 201}, {"level": "county"}, {"status": "draft"}, {"code": "POL-X"}, {"issued_on": "nope"}],
    ids=["title", "level", "status", "code", "issued_on"],
)
async def test_invalid_policy_update_changes_nothing(
    platform: Platform, client: httpx.AsyncClient, patch: dict[str, Any]
) -> None:
    admin = await platform.auth("admin")
    before = (await _admin_get(client, admin, "POL-NAT-2015-02")).json()
    assert_validation(
        await client.patch(f"{API}/policies/POL-NAT-2015-02", json=patch, headers=admin), next(iter(patch))
    )
    assert (await _admin_get(client, admin, "POL-NAT-2015-02")).json() == before


@pytest.mark.parametrize(
    ("method", "path"),
    [("PATCH", "/policies/POL-NONE"), ("POST", "/policies/POL-NONE/publish"), ("POST", "/policies/POL-NONE/withdraw")],
)
async def test_policy_writes_on_unknown_code_are_404(
    platform: Platform, client: httpx.AsyncClient, method: str, path: str
) -> None:
    admin = await platform.auth("admin")
    response = await client.request(method, f"{API}{path}", json={} if method == "PATCH" else None, headers=admin)
    assert_problem(response, 404, "policy_not_found")


async def test_longest_valid_policy_fields_round_trip(platform: Platform, client: httpx.AsyncClient) -> None:
    admin = await platform.auth("admin")
    payload = policy_payload(
        code="P" * 32,
        title="政" * 200,
        issuer="发" * 100,
        document_number="号" * 100,
        summary="要" * 4000,
        status="published",
    )
    response = await client.post(f"{API}/policies", json=payload, headers=admin)
    assert response.status_code == 201, response.text
    stored = await get_json(client, f"/policies/{'P' * 32}")
    assert {k: stored[k] for k in payload} == payload
