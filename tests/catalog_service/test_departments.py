"""Departments over HTTP: reads, search, create/update/withdraw and their failures."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from catalog_service.seed_data import DEPARTMENTS, ITEMS
from tests.catalog_service.helpers import (
    API,
    SEED_DEPARTMENT_COUNT,
    action,
    assert_problem,
    assert_validation,
    codes,
    create_department,
    department_payload,
    get_json,
    walk,
)
from tests.conftest import Platform

SEED_CODES = sorted(d.code for d in DEPARTMENTS)
LEADS = {item.lead_department_code for item in ITEMS}
IDLE = sorted(set(SEED_CODES) - LEADS)


async def _admin_get(client: httpx.AsyncClient, admin: dict[str, str], code: str) -> httpx.Response:
    return await client.get(f"{API}/departments/{code}", headers=admin)


async def test_list_all_departments(client: httpx.AsyncClient) -> None:
    rows, pages = await walk(client, "/departments", limit=10)
    assert [row["code"] for row in rows] == SEED_CODES
    assert len(rows) == SEED_DEPARTMENT_COUNT
    assert pages == 4
    assert all(row["status"] == "active" for row in rows)


async def test_default_page_size_is_20(client: httpx.AsyncClient) -> None:
    body = await get_json(client, "/departments")
    assert len(body["items"]) == 20 and body["next_cursor"]


async def test_get_department(client: httpx.AsyncClient) -> None:
    body = await get_json(client, "/departments/jxw")
    assert body["name"] == "市经济和信息化委员会"
    assert body["short_name"] == "市经信委"
    assert body["phone"] == "0511-84432158"
    assert body["status"] == "active"
    assert {"version", "created_at", "updated_at"} <= set(body)


async def test_unknown_department_is_404(client: httpx.AsyncClient) -> None:
    assert_problem(await client.get(f"{API}/departments/nosuch"), 404, "department_not_found")


async def test_department_path_pattern(client: httpx.AsyncClient) -> None:
    assert_validation(await client.get(f"{API}/departments/JXW"), "code", where="path")


@pytest.mark.parametrize(
    ("q", "expected"), [("经信", ["jxw"]), ("JXW", ["jxw"]), ("市经信委", ["jxw"]), ("海关", ["zjhg"])]
)
async def test_department_search(client: httpx.AsyncClient, q: str, expected: list[str]) -> None:
    assert await codes(client, "/departments", q=q) == expected


async def test_department_search_without_match_and_wildcards(client: httpx.AsyncClient) -> None:
    assert await codes(client, "/departments", q="没有这个部门") == []
    assert await codes(client, "/departments", q="%") == []
    assert await codes(client, "/departments", q="_") == []


async def test_department_status_filter(client: httpx.AsyncClient) -> None:
    assert await codes(client, "/departments", status="active") == SEED_CODES
    assert await codes(client, "/departments", status="withdrawn") == []
    assert_validation(await client.get(f"{API}/departments", params={"status": "gone"}), "status", where="query")


async def test_admin_creates_a_department(platform: Platform, client: httpx.AsyncClient) -> None:
    admin = await platform.auth("admin")
    payload = department_payload()
    response = await client.post(f"{API}/departments", json=payload, headers=admin)
    assert response.status_code == 201, response.text
    body = response.json()
    assert {k: body[k] for k in payload} == payload
    assert body["status"] == "active" and body["version"] == 1
    assert await get_json(client, f"/departments/{payload['code']}") == body
    assert payload["code"] in await codes(client, "/departments")


async def test_create_department_defaults(platform: Platform, client: httpx.AsyncClient) -> None:
    admin = await platform.auth("admin")
    response = await client.post(f"{API}/departments", json={"code": "newdept", "name": "新设部门"}, headers=admin)
    assert response.status_code == 201, response.text
    assert response.json()["short_name"] == "" and response.json()["phone"] == ""


async def test_duplicate_department_code_is_409(platform: Platform, client: httpx.AsyncClient) -> None:
    admin = await platform.auth("admin")
    before = (await _admin_get(client, admin, "jxw")).json()
    response = await client.post(f"{API}/departments", json=department_payload(code="jxw"), headers=admin)
    assert_problem(response, 409, "duplicate_code")
    assert (await _admin_get(client, admin, "jxw")).json() == before


@pytest.mark.parametrize("name", ["市财政局", "  市财政局  "])
async def test_duplicate_department_name_is_409(platform: Platform, client: httpx.AsyncClient, name: str) -> None:
    admin = await platform.auth("admin")
    payload = department_payload(name=name)
    assert_problem(await client.post(f"{API}/departments", json=payload, headers=admin), 409, "duplicate_name")
    assert_problem(await _admin_get(client, admin, payload["code"]), 404, "department_not_found")


INVALID: dict[str, tuple[dict[str, Any], list[str]]] = {
    "code-upper": ({"code": "Abc"}, ["code"]),
    "code-one-char": ({"code": "a"}, ["code"]),
    "code-too-long": ({"code": "a" * 33}, ["code"]),
    "code-digit-first": ({"code": "1abc"}, ["code"]),
    "name-empty": ({"name": ""}, ["name"]),
    "name-blank": ({"name": "   "}, ["name"]),
    "name-too-long": ({"name": "部" * 101}, ["name"]),
    "name-number": ({"name": 7}, ["name"]),
    "short-name-too-long": ({"short_name": "x" * 101}, ["short_name"]),
    "phone-letters": ({"phone": "call me"}, ["phone"]),
    "unknown-field": ({"status": "withdrawn"}, ["status"]),
    "several": ({"code": "A", "name": "", "fax": "1"}, ["code", "name", "fax"]),
}


@pytest.mark.parametrize(("overrides", "fields"), INVALID.values(), ids=INVALID.keys())
async def test_invalid_department_create(
    platform: Platform, client: httpx.AsyncClient, overrides: dict[str, Any], fields: list[str]
) -> None:
    admin = await platform.auth("admin")
    assert_validation(
        await client.post(f"{API}/departments", json=department_payload(**overrides), headers=admin), *fields
    )
    assert len(await codes(client, "/departments", headers=admin)) == SEED_DEPARTMENT_COUNT


@pytest.mark.parametrize("field", ["code", "name"])
async def test_department_missing_required_field(platform: Platform, client: httpx.AsyncClient, field: str) -> None:
    admin = await platform.auth("admin")
    payload = department_payload()
    del payload[field]
    assert_validation(await client.post(f"{API}/departments", json=payload, headers=admin), field)
    assert len(await codes(client, "/departments", headers=admin)) == SEED_DEPARTMENT_COUNT


async def test_admin_updates_a_department(platform: Platform, client: httpx.AsyncClient) -> None:
    admin = await platform.auth("admin")
    before = await get_json(client, "/departments/tjj")
    response = await client.patch(
        f"{API}/departments/tjj", json={"phone": "0511-84429999", "name": "市统计局（新）"}, headers=admin
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["phone"] == "0511-84429999" and body["name"] == "市统计局（新）"
    assert body["short_name"] == before["short_name"]
    assert body["version"] == before["version"] + 1
    assert await get_json(client, "/departments/tjj") == body


async def test_department_may_keep_its_own_name(platform: Platform, client: httpx.AsyncClient) -> None:
    admin = await platform.auth("admin")
    response = await client.patch(f"{API}/departments/tjj", json={"name": "市统计局"}, headers=admin)
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    ("patch", "status", "code"),
    [
        ({"name": "市财政局"}, 409, "duplicate_name"),
        ({"name": ""}, 422, "validation_error"),
        ({"code": "tjj2"}, 422, "validation_error"),
        ({"status": "withdrawn"}, 422, "validation_error"),
        ({"phone": "abc"}, 422, "validation_error"),
    ],
    ids=["duplicate-name", "empty-name", "code", "status", "phone"],
)
async def test_invalid_department_update_changes_nothing(
    platform: Platform, client: httpx.AsyncClient, patch: dict[str, Any], status: int, code: str
) -> None:
    admin = await platform.auth("admin")
    before = (await _admin_get(client, admin, "tjj")).json()
    body = assert_problem(await client.patch(f"{API}/departments/tjj", json=patch, headers=admin), status, code)
    if status == 422:
        assert [error["loc"][:2] for error in body["errors"]] == [["body", next(iter(patch))]]
    assert (await _admin_get(client, admin, "tjj")).json() == before


async def test_update_unknown_department_is_404(platform: Platform, client: httpx.AsyncClient) -> None:
    admin = await platform.auth("admin")
    assert_problem(
        await client.patch(f"{API}/departments/nosuch", json={"name": "x"}, headers=admin), 404, "department_not_found"
    )


@pytest.mark.parametrize("code", ["jxw", "czj", "zjhg"])
async def test_withdrawing_a_lead_department_is_a_conflict(
    platform: Platform, client: httpx.AsyncClient, code: str
) -> None:
    admin = await platform.auth("admin")
    before = (await _admin_get(client, admin, code)).json()
    body = assert_problem(await action(client, admin, f"/departments/{code}/withdraw"), 409, "in_use")
    assert body["resource_code"] == code and body["items"]
    assert (await _admin_get(client, admin, code)).json() == before
    assert (await get_json(client, f"/departments/{code}"))["status"] == "active"


async def test_withdraw_an_idle_department(platform: Platform, client: httpx.AsyncClient) -> None:
    admin = await platform.auth("admin")
    code = IDLE[0]
    response = await action(client, admin, f"/departments/{code}/withdraw")
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "withdrawn"

    assert_problem(await client.get(f"{API}/departments/{code}"), 404, "department_not_found")
    assert_problem(await client.get(f"{API}/departments/{code}", headers=await platform.auth("supervisor")), 404)
    assert (await _admin_get(client, admin, code)).json()["status"] == "withdrawn"
    assert code not in await codes(client, "/departments")
    assert code in await codes(client, "/departments", headers=admin)
    assert await codes(client, "/departments", headers=admin, status="withdrawn") == [code]
    assert await codes(client, "/departments", status="withdrawn") == []

    again = assert_problem(await action(client, admin, f"/departments/{code}/withdraw"), 409, "invalid_state")
    assert again["state"] == "withdrawn"


async def test_withdraw_department_leading_only_drafts_is_allowed(
    platform: Platform, client: httpx.AsyncClient
) -> None:
    admin = await platform.auth("admin")
    department = await create_department(client, admin)
    item = await client.post(
        f"{API}/items",
        json={
            "code": "DRAFT-LEAD",
            "title": "草稿",
            "category_code": "finance",
            "lead_department_code": department["code"],
        },
        headers=admin,
    )
    assert item.status_code == 201, item.text
    response = await action(client, admin, f"/departments/{department['code']}/withdraw")
    assert response.status_code == 200, response.text


async def test_withdraw_unknown_department_is_404(platform: Platform, client: httpx.AsyncClient) -> None:
    admin = await platform.auth("admin")
    assert_problem(await action(client, admin, "/departments/nosuch/withdraw"), 404, "department_not_found")


async def test_longest_valid_department_fields_round_trip(platform: Platform, client: httpx.AsyncClient) -> None:
    """Every length the schema accepts must also fit the table (PostgreSQL enforces varchar limits)."""
    admin = await platform.auth("admin")
    payload = department_payload(code="d" * 32, name="名" * 100, short_name="简" * 100, phone="0" * 32)
    response = await client.post(f"{API}/departments", json=payload, headers=admin)
    assert response.status_code == 201, response.text
    stored = await get_json(client, f"/departments/{'d' * 32}")
    assert {k: stored[k] for k in payload} == payload


async def test_longest_short_name_on_update_round_trips(platform: Platform, client: httpx.AsyncClient) -> None:
    admin = await platform.auth("admin")
    response = await client.patch(f"{API}/departments/tjj", json={"short_name": "简" * 100}, headers=admin)
    assert response.status_code == 200, response.text
    assert (await get_json(client, "/departments/tjj"))["short_name"] == "简" * 100
