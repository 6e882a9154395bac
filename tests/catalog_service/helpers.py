"""Plain helpers for the catalogue HTTP tests: payload factories, problem checks, page walks."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Sequence
from typing import Any

import httpx

API = "/api/v1"
PROBLEM = "application/problem+json"
PROBLEM_KEYS = ("type", "title", "status", "detail", "code")

SEED_ITEM_COUNT = 50
SEED_POLICY_COUNT = 13
SEED_CATEGORY_COUNT = 8
SEED_DEPARTMENT_COUNT = 36
SEED_MENU = "2016-01"

_counter = itertools.count(1)


def unique(prefix: str = "T") -> str:
    """A fresh suffix, valid in every code pattern once prefixed."""
    return f"{prefix}{next(_counter)}{uuid.uuid4().hex[:6]}"


def item_code() -> str:
    return unique("T-").upper()


def lower_code(prefix: str = "t") -> str:
    return unique(prefix + "-").lower()


def assert_problem(response: httpx.Response, status: int, code: str | None = None) -> dict[str, Any]:
    """An RFC 9457 body with the stable keys, no traceback, and (optionally) the given code."""
    assert response.status_code == status, f"{response.status_code}: {response.text}"
    assert response.headers["content-type"].split(";")[0] == PROBLEM, response.headers["content-type"]
    body: dict[str, Any] = response.json()
    for key in PROBLEM_KEYS:
        assert key in body, (key, body)
    assert body["status"] == status
    assert isinstance(body["title"], str) and body["title"]
    assert isinstance(body["detail"], str) and body["detail"]
    assert body["type"].endswith("/" + body["code"]), body["type"]
    assert "Traceback" not in response.text
    if code is not None:
        assert body["code"] == code, body
    return body


def error_locs(body: dict[str, Any]) -> list[tuple[Any, ...]]:
    return [tuple(error["loc"]) for error in body["errors"]]


def assert_validation(response: httpx.Response, *fields: str, where: str = "body") -> dict[str, Any]:
    """422 `validation_error` listing each of `fields` (dotted paths under `where`) in errors[].loc."""
    body = assert_problem(response, 422, "validation_error")
    assert_locs(body, *fields, where=where)
    return body


def assert_locs(body: dict[str, Any], *fields: str, where: str = "body") -> None:
    """`errors` lists each of `fields` (dotted paths under `where`)."""
    assert isinstance(body.get("errors"), list) and body["errors"], body
    for error in body["errors"]:
        assert set(error) >= {"loc", "msg", "type"}, error
    locs = error_locs(body)
    for field in fields:
        wanted = (where, *(int(p) if p.isdigit() else p for p in field.split(".")))
        assert any(loc[: len(wanted)] == wanted for loc in locs), (field, locs)


def item_payload(**overrides: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "code": item_code(),
        "title": "测试服务项目",
        "description": "用于接口测试的服务项目。",
        "category_code": "green-energy",
        "lead_department_code": "jxw",
        "co_department_codes": ["fgw"],
        "eligible_sizes": ["small", "micro"],
        "required_materials": ["申请表"],
        "policy_codes": ["POL-NAT-2015-01"],
        "sla_profile": "1-3-5",
        "status": "draft",
    }
    payload.update(overrides)
    return payload


def policy_payload(**overrides: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "code": unique("POL-T-").upper(),
        "title": "测试政策文件",
        "level": "municipal",
        "issuer": "镇江市人民政府",
        "document_number": "镇政发〔2016〕1号",
        "issued_on": "2016-01-15",
        "summary": "测试摘要。",
        "status": "draft",
    }
    payload.update(overrides)
    return payload


def department_payload(**overrides: Any) -> dict[str, Any]:
    code = lower_code("d")
    payload: dict[str, Any] = {
        "code": code,
        "name": f"测试部门{code}",
        "short_name": "测试部门",
        "phone": "0511-80000000",
    }
    payload.update(overrides)
    return payload


def category_payload(**overrides: Any) -> dict[str, Any]:
    code = lower_code("c")
    payload: dict[str, Any] = {
        "code": code,
        "name": f"测试类别{code}",
        "description": "测试类别说明",
        "sort_order": 90,
        "default_co_department_codes": ["jxw", "czj"],
    }
    payload.update(overrides)
    return payload


def menu_payload(item_codes: Sequence[str], **overrides: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "code": unique("M").upper(),
        "title": "测试服务菜单",
        "description": "测试版",
        "item_codes": list(item_codes),
    }
    payload.update(overrides)
    return payload


async def _create(
    client: httpx.AsyncClient, path: str, headers: dict[str, str], payload: dict[str, Any]
) -> dict[str, Any]:
    response = await client.post(f"{API}{path}", json=payload, headers=headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def create_item(client: httpx.AsyncClient, headers: dict[str, str], **overrides: Any) -> dict[str, Any]:
    return await _create(client, "/items", headers, item_payload(**overrides))


async def create_policy(client: httpx.AsyncClient, headers: dict[str, str], **overrides: Any) -> dict[str, Any]:
    return await _create(client, "/policies", headers, policy_payload(**overrides))


async def create_department(client: httpx.AsyncClient, headers: dict[str, str], **overrides: Any) -> dict[str, Any]:
    return await _create(client, "/departments", headers, department_payload(**overrides))


async def create_category(client: httpx.AsyncClient, headers: dict[str, str], **overrides: Any) -> dict[str, Any]:
    return await _create(client, "/categories", headers, category_payload(**overrides))


async def create_menu(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    item_codes: Sequence[str] = ("KJ-001", "LS-001"),
    **overrides: Any,
) -> dict[str, Any]:
    return await _create(client, "/menus", headers, menu_payload(item_codes, **overrides))


async def action(client: httpx.AsyncClient, headers: dict[str, str], path: str, json: Any = None) -> httpx.Response:
    return await client.post(f"{API}{path}", headers=headers, json=json)


async def get_json(client: httpx.AsyncClient, path: str, headers: dict[str, str] | None = None, **params: Any) -> Any:
    response = await client.get(f"{API}{path}", headers=headers or {}, params=params)
    assert response.status_code == 200, response.text
    return response.json()


async def walk(
    client: httpx.AsyncClient, path: str, *, headers: dict[str, str] | None = None, limit: int = 100, **params: Any
) -> tuple[list[dict[str, Any]], int]:
    """Every row of a list endpoint, following next_cursor; also the number of pages."""
    rows: list[dict[str, Any]] = []
    cursor: str | None = None
    pages = 0
    while True:
        query = {"limit": limit, **params}
        if cursor is not None:
            query["cursor"] = cursor
        body = await get_json(client, path, headers, **query)
        assert set(body) == {"items", "next_cursor"}, body.keys()
        pages += 1
        assert len(body["items"]) <= limit
        rows.extend(body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            return rows, pages
        assert body["items"], "a page with a next_cursor must not be empty"
        assert pages < 1000, "pagination does not terminate"


async def codes(
    client: httpx.AsyncClient, path: str, headers: dict[str, str] | None = None, **params: Any
) -> list[str]:
    rows, _ = await walk(client, path, headers=headers, **params)
    return [row["code"] for row in rows]
