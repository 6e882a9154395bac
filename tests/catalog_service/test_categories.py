"""Categories over HTTP: reads, search, create/update/withdraw and their failures."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from catalog_service.seed_data import CATEGORIES
from tests.catalog_service.helpers import (
    API,
    SEED_CATEGORY_COUNT,
    action,
    assert_problem,
    assert_validation,
    category_payload,
    codes,
    create_category,
    create_department,
    create_item,
    get_json,
    walk,
)
from tests.conftest import Platform

SEED_CODES = sorted(c.code for c in CATEGORIES)


async def _admin_get(client: httpx.AsyncClient, admin: dict[str, str], code: str) -> httpx.Response:
    return await client.get(f"{API}/categories/{code}", headers=admin)


async def test_list_categories(client: httpx.AsyncClient) -> None:
    body = await get_json(client, "/categories")
    assert [row["code"] for row in body["items"]] == SEED_CODES
    assert body["next_cursor"] is None
    rows, pages = await walk(client, "/categories", limit=3)
    assert [row["code"] for row in rows] == SEED_CODES and pages == 3


async def test_get_category_with_default_co_departments(client: httpx.AsyncClient) -> None:
    body = await get_json(client, "/categories/green-energy")
    assert body["name"] == "绿色节能"
    assert body["default_co_department_codes"] == ["jxw", "fgw", "sthjj"]
    assert body["status"] == "active"
    assert isinstance(body["sort_order"], int)


async def test_unknown_category_is_404(client: httpx.AsyncClient) -> None:
    assert_problem(await client.get(f"{API}/categories/no-such"), 404, "category_not_found")
    assert_validation(await client.get(f"{API}/categories/Green"), "code", where="path")


@pytest.mark.parametrize(("q", "expected"), [("节能", ["green-energy"]), ("FINANCE", ["finance"]), ("无此类别", [])])
async def test_category_search(client: httpx.AsyncClient, q: str, expected: list[str]) -> None:
    assert await codes(client, "/categories", q=q) == expected


async def test_admin_creates_a_category(platform: Platform, client: httpx.AsyncClient) -> None:
    admin = await platform.auth("admin")
    payload = category_payload()
    response = await client.post(f"{API}/categories", json=payload, headers=admin)
    assert response.status_code == 201, response.text
    body = response.json()
    assert {k: body[k] for k in payload} == payload
    assert body["status"] == "active" and body["version"] == 1
    assert await get_json(client, f"/categories/{payload['code']}") == body


async def test_duplicate_category_code_and_name(platform: Platform, client: httpx.AsyncClient) -> None:
    admin = await platform.auth("admin")
    assert_problem(
        await client.post(f"{API}/categories", json=category_payload(code="finance"), headers=admin),
        409,
        "duplicate_code",
    )
    payload = category_payload(name="绿色节能")
    assert_problem(await client.post(f"{API}/categories", json=payload, headers=admin), 409, "duplicate_name")
    assert_problem(await _admin_get(client, admin, payload["code"]), 404)
    assert (await _admin_get(client, admin, "finance")).json()["name"] == "金融服务"


INVALID: dict[str, tuple[dict[str, Any], list[str]]] = {
    "code-upper": ({"code": "Finance2"}, ["code"]),
    "name-too-long": ({"name": "类" * 101}, ["name"]),
    "description-too-long": ({"description": "x" * 4001}, ["description"]),
    "sort-negative": ({"sort_order": -1}, ["sort_order"]),
    "sort-too-big": ({"sort_order": 10_001}, ["sort_order"]),
    "sort-string": ({"sort_order": "first"}, ["sort_order"]),
    "co-duplicate": ({"default_co_department_codes": ["jxw", "jxw"]}, ["default_co_department_codes"]),
    "co-bad-pattern": ({"default_co_department_codes": ["JXW"]}, ["default_co_department_codes.0"]),
    "co-too-many": ({"default_co_department_codes": [f"d{i}x" for i in range(11)]}, ["default_co_department_codes"]),
    "unknown-field": ({"items": []}, ["items"]),
}


@pytest.mark.parametrize(("overrides", "fields"), INVALID.values(), ids=INVALID.keys())
async def test_invalid_category_create(
    platform: Platform, client: httpx.AsyncClient, overrides: dict[str, Any], fields: list[str]
) -> None:
    admin = await platform.auth("admin")
    assert_validation(
        await client.post(f"{API}/categories", json=category_payload(**overrides), headers=admin), *fields
    )
    assert len(await codes(client, "/categories", headers=admin)) == SEED_CATEGORY_COUNT


async def test_unknown_default_co_department_is_unknown_reference(
    platform: Platform, client: httpx.AsyncClient
) -> None:
    admin = await platform.auth("admin")
    payload = category_payload(default_co_department_codes=["jxw", "nosuch"])
    body = assert_problem(await client.post(f"{API}/categories", json=payload, headers=admin), 422, "unknown_reference")
    assert body["field"] == "default_co_department_codes"
    assert body["unknown"] == ["nosuch"]
    assert_problem(await _admin_get(client, admin, payload["code"]), 404)


async def test_admin_updates_a_category(platform: Platform, client: httpx.AsyncClient) -> None:
    admin = await platform.auth("admin")
    before = await get_json(client, "/categories/finance")
    response = await client.patch(
        f"{API}/categories/finance", json={"sort_order": 1, "default_co_department_codes": ["czj"]}, headers=admin
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["sort_order"] == 1 and body["default_co_department_codes"] == ["czj"]
    assert body["name"] == before["name"] and body["version"] == before["version"] + 1
    assert await get_json(client, "/categories/finance") == body


@pytest.mark.parametrize(
    ("patch", "status", "code"),
    [
        ({"name": "绿色节能"}, 409, "duplicate_name"),
        ({"default_co_department_codes": ["nosuch"]}, 422, "unknown_reference"),
        ({"sort_order": -5}, 422, "validation_error"),
        ({"code": "finance-2"}, 422, "validation_error"),
    ],
    ids=["duplicate-name", "unknown-department", "sort-negative", "code"],
)
async def test_invalid_category_update_changes_nothing(
    platform: Platform, client: httpx.AsyncClient, patch: dict[str, Any], status: int, code: str
) -> None:
    admin = await platform.auth("admin")
    before = (await _admin_get(client, admin, "finance")).json()
    assert_problem(await client.patch(f"{API}/categories/finance", json=patch, headers=admin), status, code)
    assert (await _admin_get(client, admin, "finance")).json() == before


async def test_withdrawing_a_category_with_published_items_is_a_conflict(
    platform: Platform, client: httpx.AsyncClient
) -> None:
    admin = await platform.auth("admin")
    before = (await _admin_get(client, admin, "green-energy")).json()
    body = assert_problem(await action(client, admin, "/categories/green-energy/withdraw"), 409, "in_use")
    assert "LS-001" in body["detail"]
    assert "LS-001" in body["items"]
    assert (await _admin_get(client, admin, "green-energy")).json() == before


async def test_withdraw_an_empty_category(platform: Platform, client: httpx.AsyncClient) -> None:
    admin = await platform.auth("admin")
    category = await create_category(client, admin)
    draft = await create_item(client, admin, category_code=category["code"])
    response = await action(client, admin, f"/categories/{category['code']}/withdraw")
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "withdrawn"
    assert_problem(await client.get(f"{API}/categories/{category['code']}"), 404, "category_not_found")
    assert category["code"] not in await codes(client, "/categories")
    assert await codes(client, "/categories", headers=admin, status="withdrawn") == [category["code"]]
    assert_problem(await action(client, admin, f"/categories/{category['code']}/withdraw"), 409, "invalid_state")
    # Its draft item cannot be published into a withdrawn category.
    assert_problem(await action(client, admin, f"/items/{draft['code']}/publish"), 422, "unknown_reference")


async def test_withdrawn_department_cannot_be_a_default_co_department(
    platform: Platform, client: httpx.AsyncClient
) -> None:
    admin = await platform.auth("admin")
    department = await create_department(client, admin)
    assert (await action(client, admin, f"/departments/{department['code']}/withdraw")).status_code == 200
    body = assert_problem(
        await client.patch(
            f"{API}/categories/finance", json={"default_co_department_codes": [department["code"]]}, headers=admin
        ),
        422,
        "unknown_reference",
    )
    assert body["unknown"] == [department["code"]]


async def test_category_actions_on_unknown_code_are_404(platform: Platform, client: httpx.AsyncClient) -> None:
    admin = await platform.auth("admin")
    assert_problem(await client.patch(f"{API}/categories/no-such", json={"sort_order": 1}, headers=admin), 404)
    assert_problem(await action(client, admin, "/categories/no-such/withdraw"), 404, "category_not_found")


async def test_longest_valid_category_fields_round_trip(platform: Platform, client: httpx.AsyncClient) -> None:
    admin = await platform.auth("admin")
    payload = category_payload(code="c" * 32, name="类" * 100, description="述" * 4000, sort_order=10_000)
    response = await client.post(f"{API}/categories", json=payload, headers=admin)
    assert response.status_code == 201, response.text
    stored = await get_json(client, f"/categories/{'c' * 32}")
    assert {k: stored[k] for k in payload} == payload
