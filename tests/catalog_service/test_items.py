"""Service items over HTTP: reads, filters, pagination, search, ETags, writes and state rules."""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any

import httpx
import pytest

from catalog_service.seed_data import ITEMS
from tests.catalog_service.helpers import (
    API,
    SEED_ITEM_COUNT,
    action,
    assert_locs,
    assert_problem,
    assert_validation,
    codes,
    create_category,
    create_department,
    create_item,
    get_json,
    item_code,
    item_payload,
    walk,
)
from tests.conftest import Platform

SEED_CODES = sorted(item.code for item in ITEMS)
CONTRACT_FIELDS = {
    "code",
    "title",
    "category_code",
    "lead_department_code",
    "co_department_codes",
    "eligible_sizes",
    "sla_profile",
    "status",
}


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _matching(needle: str) -> list[str]:
    needle = needle.lower()
    return sorted(
        item.code
        for item in ITEMS
        if needle in item.title.lower() or needle in item.description.lower() or needle in item.code.lower()
    )


async def _admin_item(client: httpx.AsyncClient, admin: dict[str, str], code: str) -> httpx.Response:
    return await client.get(f"{API}/items/{code}", headers=admin)


# Reads


async def test_list_items_first_page_is_sorted_published_and_has_a_cursor(client: httpx.AsyncClient) -> None:
    response = await client.get(f"{API}/items")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert [row["code"] for row in body["items"]] == SEED_CODES[:20]
    assert body["next_cursor"]
    for row in body["items"]:
        assert set(row) >= CONTRACT_FIELDS
        assert row["status"] == "published"


async def test_get_item_returns_the_seeded_contract(client: httpx.AsyncClient) -> None:
    body = await get_json(client, "/items/LS-001")
    assert body["code"] == "LS-001"
    assert body["title"] == "绿色节能技术改造补贴"
    assert body["category_code"] == "green-energy"
    assert body["lead_department_code"] == "jxw"
    assert body["co_department_codes"] == ["fgw", "czj"]
    assert body["eligible_sizes"] == ["large", "medium", "small", "micro"]
    assert body["policy_codes"] == ["POL-PRV-2015-02", "POL-NAT-2015-01"]
    assert body["required_materials"][0] == "节能技改项目申报书"
    assert body["sla_profile"] == "1-3-5"
    assert body["status"] == "published"
    assert isinstance(body["version"], int)
    assert datetime.fromisoformat(body["created_at"]).tzinfo is not None
    assert datetime.fromisoformat(body["updated_at"]).tzinfo is not None


async def test_unknown_item_is_a_404_problem(client: httpx.AsyncClient) -> None:
    assert_problem(await client.get(f"{API}/items/KJ-999"), 404, "item_not_found")


async def test_item_code_in_path_must_match_the_pattern(client: httpx.AsyncClient) -> None:
    body = assert_validation(await client.get(f"{API}/items/ls-001"), "code", where="path")
    assert body["errors"][0]["loc"] == ["path", "code"]


async def test_unsupported_method_and_unknown_subpath_are_problems(
    platform: Platform, client: httpx.AsyncClient
) -> None:
    admin = await platform.auth("admin")
    assert_problem(await client.delete(f"{API}/items/LS-001", headers=admin), 405, "method_not_allowed")
    assert_problem(await client.post(f"{API}/items/LS-001/archive", headers=admin), 404, "not_found")
    assert (await get_json(client, "/items/LS-001"))["status"] == "published"


# Pagination


async def test_walk_all_items_with_limit_7(client: httpx.AsyncClient) -> None:
    rows, pages = await walk(client, "/items", limit=7)
    seen = [row["code"] for row in rows]
    assert len(seen) == len(set(seen)), "duplicates across pages"
    assert seen == SEED_CODES, "gaps or wrong order across pages"
    assert pages == 8


@pytest.mark.parametrize(("limit", "pages"), [(10, 5), (50, 1), (100, 1), (1, 50)])
async def test_page_count_for_exact_and_large_limits(client: httpx.AsyncClient, limit: int, pages: int) -> None:
    rows, walked = await walk(client, "/items", limit=limit)
    assert [row["code"] for row in rows] == SEED_CODES
    assert walked == pages


async def test_cursor_resumes_after_the_last_code(client: httpx.AsyncClient) -> None:
    first = await get_json(client, "/items", limit=3)
    second = await get_json(client, "/items", limit=3, cursor=first["next_cursor"])
    assert [row["code"] for row in second["items"]] == SEED_CODES[3:6]


GARBAGE_CURSORS = {
    "word": "garbage",
    "punctuation": "!!!!",
    "not-ascii": "游标",
    "json-object": _b64(b'{"after": "KJ-001"}'),
    "wrong-arity": _b64(b'["KJ-001", "KJ-002"]'),
    "nested": _b64(b'[["KJ-001"]]'),
    "null": _b64(b"null"),
    "not-json": _b64(b"KJ-001"),
}


@pytest.mark.parametrize("cursor", GARBAGE_CURSORS.values(), ids=GARBAGE_CURSORS.keys())
@pytest.mark.parametrize("path", ["/items", "/departments", "/categories", "/policies", "/menus"])
async def test_garbage_cursor_is_400_invalid_cursor(client: httpx.AsyncClient, path: str, cursor: str) -> None:
    response = await client.get(f"{API}{path}", params={"cursor": cursor})
    assert_problem(response, 400, "invalid_cursor")


async def test_overlong_cursor_is_a_validation_error(client: httpx.AsyncClient) -> None:
    assert_validation(await client.get(f"{API}/items", params={"cursor": "a" * 513}), "cursor", where="query")


@pytest.mark.parametrize("limit", ["0", "101", "-1", "abc", "1.5"])
@pytest.mark.parametrize("path", ["/items", "/departments", "/categories", "/policies", "/menus"])
async def test_limit_out_of_range_is_422_naming_limit(client: httpx.AsyncClient, path: str, limit: str) -> None:
    body = assert_validation(await client.get(f"{API}{path}", params={"limit": limit}), "limit", where="query")
    assert all(error["loc"] == ["query", "limit"] for error in body["errors"])


# Filters


def _seed_filter(**criteria: str) -> list[str]:
    selected = []
    for item in ITEMS:
        if "category_code" in criteria and item.category_code != criteria["category_code"]:
            continue
        if "department_code" in criteria and item.lead_department_code != criteria["department_code"]:
            continue
        if "eligible_size" in criteria and criteria["eligible_size"] not in item.eligible_sizes:
            continue
        selected.append(item.code)
    return sorted(selected)


FILTERS: list[dict[str, str]] = [
    {"category_code": "green-energy"},
    {"category_code": "approval-services"},
    {"department_code": "jxw"},
    {"department_code": "kjj"},
    {"eligible_size": "large"},
    {"eligible_size": "micro"},
    {"category_code": "tech-innovation", "eligible_size": "small"},
    {"category_code": "tech-transformation", "department_code": "jxw", "eligible_size": "large"},
]


@pytest.mark.parametrize("criteria", FILTERS, ids=lambda c: ",".join(f"{k}={v}" for k, v in c.items()))
async def test_item_filters_match_the_seed(client: httpx.AsyncClient, criteria: dict[str, str]) -> None:
    expected = _seed_filter(**criteria)
    assert 0 < len(expected) < SEED_ITEM_COUNT
    params: dict[str, Any] = {"limit": 7, **criteria}
    assert await codes(client, "/items", **params) == expected


async def test_filter_on_unused_but_valid_codes_is_empty(client: httpx.AsyncClient) -> None:
    assert await get_json(client, "/items", category_code="no-such-category") == {"items": [], "next_cursor": None}
    assert await get_json(client, "/items", department_code="gaj") == {"items": [], "next_cursor": None}


async def test_department_filter_is_the_lead_department_only(client: httpx.AsyncClient) -> None:
    # czj is co-handling department of many items but leads only one.
    assert await codes(client, "/items", department_code="czj") == _seed_filter(department_code="czj")
    assert len(_seed_filter(department_code="czj")) == 1


@pytest.mark.parametrize(
    ("param", "value"),
    [
        ("eligible_size", "huge"),
        ("status", "archived"),
        ("category_code", "Green"),
        ("department_code", "J"),
        ("q", ""),
        ("q", "x" * 101),
    ],
)
async def test_bad_filter_values_are_422(client: httpx.AsyncClient, param: str, value: str) -> None:
    body = assert_validation(await client.get(f"{API}/items", params={param: value}), param, where="query")
    assert ["query", param] in [error["loc"] for error in body["errors"]]


async def test_status_filter_published_for_anonymous(client: httpx.AsyncClient) -> None:
    assert await codes(client, "/items", status="published") == SEED_CODES


async def test_status_draft_filter_works_for_admin_only(platform: Platform, client: httpx.AsyncClient) -> None:
    admin = await platform.auth("admin")
    draft = await create_item(client, admin)
    assert await codes(client, "/items", headers=admin, status="draft") == [draft["code"]]
    assert await codes(client, "/items", status="draft") == []
    assert await codes(client, "/items", headers=await platform.auth("supervisor"), status="draft") == []
    assert draft["code"] not in await codes(client, "/items")
    assert draft["code"] in await codes(client, "/items", headers=admin)


# Search


async def test_chinese_search_finds_the_item(client: httpx.AsyncClient) -> None:
    found = await codes(client, "/items", q="节能")
    assert "LS-001" in found
    assert found == _matching("节能")
    body = await get_json(client, "/items", q="节能")
    assert body["items"][[row["code"] for row in body["items"]].index("LS-001")]["title"] == "绿色节能技术改造补贴"


async def test_search_matches_code_case_insensitively(client: httpx.AsyncClient) -> None:
    assert await codes(client, "/items", q="ls-001") == ["LS-001"]


async def test_search_combines_with_filters(client: httpx.AsyncClient) -> None:
    found = await codes(client, "/items", q="节能", department_code="jxw")
    expected = sorted(set(_matching("节能")) & set(_seed_filter(department_code="jxw")))
    assert found == expected and "LS-001" in found


@pytest.mark.parametrize(
    "needle",
    ["%", "_", "15%", "色_能", "节%能", "%%", "\\", "/"],
)
async def test_search_wildcards_are_literal(client: httpx.AsyncClient, needle: str) -> None:
    found = await codes(client, "/items", q=needle)
    assert found == _matching(needle)
    assert len(found) < SEED_ITEM_COUNT


async def test_percent_search_finds_only_the_literal_percent(client: httpx.AsyncClient) -> None:
    assert await codes(client, "/items", q="%") == ["KJ-001"]  # "15%的企业所得税优惠税率"


async def test_search_for_escape_and_wildcard_characters(platform: Platform, client: httpx.AsyncClient) -> None:
    admin = await platform.auth("admin")
    item = await create_item(client, admin, status="published", title="通配测试 A/B_C%D\\E")
    for needle in ["A/B", "/B_C%", "C%D", "D\\E", "A/B_C%D\\E"]:
        assert await codes(client, "/items", q=needle) == [item["code"]], needle
    for needle in ["A_B", "B%D", "A%", "A/_", "C_D", "A//B"]:
        assert await codes(client, "/items", q=needle) == [], needle


async def test_search_without_match_is_empty(client: httpx.AsyncClient) -> None:
    assert await get_json(client, "/items", q="不存在的服务项目") == {"items": [], "next_cursor": None}


async def test_search_finds_drafts_only_for_admin(platform: Platform, client: httpx.AsyncClient) -> None:
    admin = await platform.auth("admin")
    draft = await create_item(client, admin, title="独一无二的草稿项目")
    assert await codes(client, "/items", q="独一无二") == []
    assert await codes(client, "/items", headers=admin, q="独一无二") == [draft["code"]]


# ETag


async def test_etag_and_if_none_match(platform: Platform, client: httpx.AsyncClient) -> None:
    first = await client.get(f"{API}/items/LS-001")
    etag = first.headers["etag"]
    assert etag.startswith('"') and etag.endswith('"') and len(etag) > 2

    again = await client.get(f"{API}/items/LS-001")
    assert again.headers["etag"] == etag, "ETag must be stable for an unchanged item"

    cached = await client.get(f"{API}/items/LS-001", headers={"If-None-Match": etag})
    assert cached.status_code == 304
    assert cached.content == b""
    assert cached.headers["etag"] == etag

    weak = await client.get(f"{API}/items/LS-001", headers={"If-None-Match": f'"nope", W/{etag}'})
    assert weak.status_code == 304

    other = await client.get(f"{API}/items/LS-001", headers={"If-None-Match": '"something-else"'})
    assert other.status_code == 200 and other.json()["code"] == "LS-001"

    admin = await platform.auth("admin")
    patched = await client.patch(f"{API}/items/LS-001", json={"title": "绿色节能技术改造补贴（2016版）"}, headers=admin)
    assert patched.status_code == 200, patched.text

    stale = await client.get(f"{API}/items/LS-001", headers={"If-None-Match": etag})
    assert stale.status_code == 200
    assert stale.json()["title"] == "绿色节能技术改造补贴（2016版）"
    assert stale.headers["etag"] != etag
    fresh = await client.get(f"{API}/items/LS-001", headers={"If-None-Match": stale.headers["etag"]})
    assert fresh.status_code == 304


async def test_etag_differs_between_items(client: httpx.AsyncClient) -> None:
    one = await client.get(f"{API}/items/LS-001")
    two = await client.get(f"{API}/items/LS-002")
    assert one.headers["etag"] != two.headers["etag"]
    cross = await client.get(f"{API}/items/LS-002", headers={"If-None-Match": one.headers["etag"]})
    assert cross.status_code == 200


async def test_list_endpoint_honours_if_none_match(client: httpx.AsyncClient) -> None:
    first = await client.get(f"{API}/items", params={"limit": 5})
    cached = await client.get(f"{API}/items", params={"limit": 5}, headers={"If-None-Match": first.headers["etag"]})
    assert cached.status_code == 304 and cached.content == b""
    other_page = await client.get(f"{API}/items", params={"limit": 6}, headers={"If-None-Match": first.headers["etag"]})
    assert other_page.status_code == 200


# Create


async def test_admin_creates_a_draft_item(platform: Platform, client: httpx.AsyncClient) -> None:
    admin = await platform.auth("admin")
    payload = item_payload()
    response = await client.post(f"{API}/items", json=payload, headers=admin)
    assert response.status_code == 201, response.text
    body = response.json()
    for key, value in payload.items():
        assert body[key] == value, key
    assert body["version"] == 1
    assert datetime.fromisoformat(body["created_at"]).tzinfo is not None
    assert (await _admin_item(client, admin, payload["code"])).json() == body
    assert_problem(await client.get(f"{API}/items/{payload['code']}"), 404, "item_not_found")


async def test_create_item_defaults(platform: Platform, client: httpx.AsyncClient) -> None:
    admin = await platform.auth("admin")
    code = item_code()
    minimal = {"code": code, "title": "最小项目", "category_code": "finance", "lead_department_code": "jrjgj"}
    response = await client.post(f"{API}/items", json=minimal, headers=admin)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["status"] == "draft"
    assert body["sla_profile"] == "1-3-5"
    assert body["eligible_sizes"] == ["large", "medium", "small", "micro"]
    assert body["co_department_codes"] == [] and body["policy_codes"] == [] and body["required_materials"] == []
    assert body["description"] == ""


async def test_created_published_item_is_public_and_filterable(platform: Platform, client: httpx.AsyncClient) -> None:
    admin = await platform.auth("admin")
    item = await create_item(
        client, admin, status="published", eligible_sizes=["large"], sla_profile="2-5-10", title="  首发项目  "
    )
    assert item["title"] == "首发项目"
    assert item["sla_profile"] == "2-5-10"
    public = await get_json(client, f"/items/{item['code']}")
    assert public["status"] == "published"
    assert item["code"] in await codes(client, "/items", eligible_size="large", category_code="green-energy")
    assert item["code"] not in await codes(client, "/items", eligible_size="small", category_code="green-energy")


async def test_boundary_lengths_are_accepted(platform: Platform, client: httpx.AsyncClient) -> None:
    admin = await platform.auth("admin")
    code = "A" + "B" * 31
    item = await create_item(client, admin, code=code, title="题" * 200, description="述" * 4000)
    assert len(item["title"]) == 200 and len(item["description"]) == 4000
    assert (await _admin_item(client, admin, code)).status_code == 200


INVALID_CREATES: dict[str, tuple[dict[str, Any], list[str]]] = {
    "title-too-long": ({"title": "长" * 201}, ["title"]),
    "title-empty": ({"title": ""}, ["title"]),
    "title-blank": ({"title": "   "}, ["title"]),
    "title-number": ({"title": 123}, ["title"]),
    "description-too-long": ({"description": "x" * 4001}, ["description"]),
    "description-list": ({"description": ["x"]}, ["description"]),
    "code-lowercase": ({"code": "ls-901"}, ["code"]),
    "code-digit-first": ({"code": "1LS"}, ["code"]),
    "code-too-short": ({"code": "L"}, ["code"]),
    "code-too-long": ({"code": "L" * 33}, ["code"]),
    "code-space": ({"code": "LS 901"}, ["code"]),
    "code-underscore": ({"code": "LS_901"}, ["code"]),
    "code-number": ({"code": 901}, ["code"]),
    "category-pattern": ({"category_code": "Green Energy"}, ["category_code"]),
    "sizes-string": ({"eligible_sizes": "small"}, ["eligible_sizes"]),
    "sizes-unknown": ({"eligible_sizes": ["huge"]}, ["eligible_sizes.0"]),
    "sizes-empty": ({"eligible_sizes": []}, ["eligible_sizes"]),
    "sizes-duplicate": ({"eligible_sizes": ["small", "small"]}, ["eligible_sizes"]),
    "co-departments-string": ({"co_department_codes": "fgw"}, ["co_department_codes"]),
    "co-departments-duplicate": ({"co_department_codes": ["fgw", "fgw"]}, ["co_department_codes"]),
    "policies-bad-code": ({"policy_codes": ["pol-1"]}, ["policy_codes.0"]),
    "materials-not-list": ({"required_materials": {"a": 1}}, ["required_materials"]),
    "status-withdrawn": ({"status": "withdrawn"}, ["status"]),
    "status-bool": ({"status": True}, ["status"]),
    "sla-decreasing": ({"sla_profile": "3-1-5"}, ["sla_profile"]),
    "sla-two-parts": ({"sla_profile": "1-3"}, ["sla_profile"]),
    "sla-letters": ({"sla_profile": "a-b-c"}, ["sla_profile"]),
    "sla-zero": ({"sla_profile": "0-1-2"}, ["sla_profile"]),
    "sla-too-many-days": ({"sla_profile": "1-3-61"}, ["sla_profile"]),
    "sla-fullwidth": ({"sla_profile": "１-３-５"}, ["sla_profile"]),
    "sla-number": ({"sla_profile": 135}, ["sla_profile"]),
    "unknown-field": ({"price": 100}, ["price"]),
    "several-bad-fields": ({"title": "x" * 201, "sla_profile": "1-3", "price": 1}, ["title", "sla_profile", "price"]),
}


@pytest.mark.parametrize(("overrides", "fields"), INVALID_CREATES.values(), ids=INVALID_CREATES.keys())
async def test_invalid_item_create_is_422_and_writes_nothing(
    platform: Platform, client: httpx.AsyncClient, overrides: dict[str, Any], fields: list[str]
) -> None:
    admin = await platform.auth("admin")
    payload = item_payload(**overrides)
    response = await client.post(f"{API}/items", json=payload, headers=admin)
    body = assert_validation(response, *fields)
    if "price" in fields:
        assert any(error["type"] == "extra_forbidden" for error in body["errors"])
    if isinstance(payload["code"], str) and payload["code"]:
        assert (await _admin_item(client, admin, payload["code"])).status_code in (404, 422)
    assert await codes(client, "/items", headers=admin, status="draft") == []


@pytest.mark.parametrize("field", ["code", "title", "category_code", "lead_department_code"])
async def test_missing_required_item_field_is_422(platform: Platform, client: httpx.AsyncClient, field: str) -> None:
    admin = await platform.auth("admin")
    payload = item_payload()
    del payload[field]
    body = assert_validation(await client.post(f"{API}/items", json=payload, headers=admin), field)
    assert any(error["type"] == "missing" for error in body["errors"])
    assert await codes(client, "/items", headers=admin, status="draft") == []


async def test_empty_item_body_lists_every_required_field(platform: Platform, client: httpx.AsyncClient) -> None:
    admin = await platform.auth("admin")
    response = await client.post(f"{API}/items", json={}, headers=admin)
    assert_validation(response, "code", "title", "category_code", "lead_department_code")


@pytest.mark.parametrize("body", [[], "item", 42, None], ids=["list", "string", "number", "null"])
async def test_non_object_item_body_is_422(platform: Platform, client: httpx.AsyncClient, body: Any) -> None:
    admin = await platform.auth("admin")
    response = await client.post(f"{API}/items", json=body, headers=admin)
    assert_problem(response, 422, "validation_error")


async def test_malformed_json_is_400_and_writes_nothing(platform: Platform, client: httpx.AsyncClient) -> None:
    admin = await platform.auth("admin")
    response = await client.post(f"{API}/items", content=b"{bad", headers={**admin, "Content-Type": "application/json"})
    assert_problem(response, 400, "malformed_json")
    truncated = b'{"code": "T-TRUNCATED", "title": "x", "category_code": "finance", "lead_department_code": "jrjgj"'
    response = await client.post(
        f"{API}/items", content=truncated, headers={**admin, "Content-Type": "application/json"}
    )
    assert_problem(response, 400, "malformed_json")
    assert (await _admin_item(client, admin, "T-TRUNCATED")).status_code == 404


async def test_duplicate_item_code_is_409_and_leaves_original(platform: Platform, client: httpx.AsyncClient) -> None:
    admin = await platform.auth("admin")
    before = (await _admin_item(client, admin, "LS-001")).json()
    response = await client.post(f"{API}/items", json=item_payload(code="LS-001", title="冒名项目"), headers=admin)
    assert_problem(response, 409, "duplicate_code")
    assert (await _admin_item(client, admin, "LS-001")).json() == before


UNKNOWN_REFERENCES: dict[str, tuple[dict[str, Any], str, list[str]]] = {
    "category": ({"category_code": "no-such-category"}, "category_code", ["no-such-category"]),
    "lead-department": (
        {"lead_department_code": "nodept", "co_department_codes": []},
        "lead_department_code",
        ["nodept"],
    ),
    "co-department": ({"co_department_codes": ["fgw", "nodept"]}, "co_department_codes", ["nodept"]),
    "policy": ({"policy_codes": ["POL-NAT-2015-01", "POL-NONE"]}, "policy_codes", ["POL-NONE"]),
}


@pytest.mark.parametrize(("overrides", "field", "unknown"), UNKNOWN_REFERENCES.values(), ids=UNKNOWN_REFERENCES.keys())
async def test_unknown_reference_on_create_names_the_field(
    platform: Platform, client: httpx.AsyncClient, overrides: dict[str, Any], field: str, unknown: list[str]
) -> None:
    admin = await platform.auth("admin")
    payload = item_payload(**overrides)
    body = assert_problem(await client.post(f"{API}/items", json=payload, headers=admin), 422, "unknown_reference")
    assert body["field"] == field
    assert body["unknown"] == unknown
    assert unknown[0] in body["detail"]
    assert (await _admin_item(client, admin, payload["code"])).status_code == 404


async def test_lead_department_in_co_departments_is_invalid_reference(
    platform: Platform, client: httpx.AsyncClient
) -> None:
    admin = await platform.auth("admin")
    payload = item_payload(lead_department_code="jxw", co_department_codes=["fgw", "jxw"])
    body = assert_problem(await client.post(f"{API}/items", json=payload, headers=admin), 422, "invalid_reference")
    assert body["field"] == "co_department_codes"
    assert (await _admin_item(client, admin, payload["code"])).status_code == 404


async def test_withdrawn_references_are_unknown(platform: Platform, client: httpx.AsyncClient) -> None:
    admin = await platform.auth("admin")
    department = await create_department(client, admin)
    category = await create_category(client, admin)
    assert (await action(client, admin, f"/departments/{department['code']}/withdraw")).status_code == 200
    assert (await action(client, admin, f"/categories/{category['code']}/withdraw")).status_code == 200
    assert (await action(client, admin, "/policies/POL-NAT-2015-03/withdraw")).status_code == 200

    cases = [
        ({"lead_department_code": department["code"]}, "lead_department_code"),
        ({"co_department_codes": [department["code"]]}, "co_department_codes"),
        ({"category_code": category["code"]}, "category_code"),
        ({"policy_codes": ["POL-NAT-2015-03"]}, "policy_codes"),
    ]
    for overrides, field in cases:
        payload = item_payload(**overrides)
        body = assert_problem(await client.post(f"{API}/items", json=payload, headers=admin), 422, "unknown_reference")
        assert body["field"] == field
        assert (await _admin_item(client, admin, payload["code"])).status_code == 404


# Update


async def test_admin_patches_an_item(platform: Platform, client: httpx.AsyncClient) -> None:
    admin = await platform.auth("admin")
    before = await get_json(client, "/items/LS-002")
    response = await client.patch(
        f"{API}/items/LS-002",
        json={"title": "  能源审计（新）  ", "eligible_sizes": ["large"], "sla_profile": "1-5-10"},
        headers=admin,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["title"] == "能源审计（新）"
    assert body["eligible_sizes"] == ["large"]
    assert body["sla_profile"] == "1-5-10"
    assert body["version"] == before["version"] + 1
    assert body["description"] == before["description"]
    assert body["created_at"] == before["created_at"]
    assert datetime.fromisoformat(body["updated_at"]) >= datetime.fromisoformat(before["updated_at"])
    assert await get_json(client, "/items/LS-002") == body
    assert "LS-002" not in await codes(client, "/items", eligible_size="micro")
    assert "LS-002" in await codes(client, "/items", eligible_size="large")


async def test_patch_can_move_lead_department_and_co_departments_together(
    platform: Platform, client: httpx.AsyncClient
) -> None:
    admin = await platform.auth("admin")
    response = await client.patch(
        f"{API}/items/LS-001", json={"lead_department_code": "fgw", "co_department_codes": ["jxw"]}, headers=admin
    )
    assert response.status_code == 200, response.text
    assert response.json()["lead_department_code"] == "fgw"
    assert "LS-001" in await codes(client, "/items", department_code="fgw")
    assert "LS-001" not in await codes(client, "/items", department_code="jxw")


INVALID_PATCHES: dict[str, tuple[dict[str, Any], int, str, str]] = {
    "title-too-long": ({"title": "x" * 201}, 422, "validation_error", "title"),
    "description-too-long": ({"description": "x" * 4001}, 422, "validation_error", "description"),
    "sla-bad": ({"sla_profile": "3-1-5"}, 422, "validation_error", "sla_profile"),
    "sizes-empty": ({"eligible_sizes": []}, 422, "validation_error", "eligible_sizes"),
    "code-not-patchable": ({"code": "LS-999"}, 422, "validation_error", "code"),
    "status-not-patchable": ({"status": "withdrawn"}, 422, "validation_error", "status"),
    "unknown-field": ({"colour": "green"}, 422, "validation_error", "colour"),
    "unknown-category": ({"category_code": "no-such"}, 422, "unknown_reference", "category_code"),
    "unknown-lead": ({"lead_department_code": "nodept"}, 422, "unknown_reference", "lead_department_code"),
    "unknown-policy": ({"policy_codes": ["POL-NONE"]}, 422, "unknown_reference", "policy_codes"),
    # LS-001 has co-departments fgw and czj: making fgw the lead keeps it a co-department.
    "lead-is-existing-co": ({"lead_department_code": "fgw"}, 422, "invalid_reference", "co_department_codes"),
    "co-includes-lead": ({"co_department_codes": ["jxw"]}, 422, "invalid_reference", "co_department_codes"),
}


@pytest.mark.parametrize(("patch", "status", "code", "field"), INVALID_PATCHES.values(), ids=INVALID_PATCHES.keys())
async def test_invalid_item_patch_changes_nothing(
    platform: Platform, client: httpx.AsyncClient, patch: dict[str, Any], status: int, code: str, field: str
) -> None:
    admin = await platform.auth("admin")
    before = (await _admin_item(client, admin, "LS-001")).json()
    body = assert_problem(await client.patch(f"{API}/items/LS-001", json=patch, headers=admin), status, code)
    if code == "validation_error":
        assert_locs(body, field)
    else:
        assert body["field"] == field
    assert (await _admin_item(client, admin, "LS-001")).json() == before


async def test_patch_malformed_json_changes_nothing(platform: Platform, client: httpx.AsyncClient) -> None:
    admin = await platform.auth("admin")
    before = (await _admin_item(client, admin, "LS-001")).json()
    response = await client.patch(
        f"{API}/items/LS-001", content=b"{bad", headers={**admin, "Content-Type": "application/json"}
    )
    assert_problem(response, 400, "malformed_json")
    assert (await _admin_item(client, admin, "LS-001")).json() == before


async def test_patch_unknown_item_is_404(platform: Platform, client: httpx.AsyncClient) -> None:
    admin = await platform.auth("admin")
    assert_problem(await client.patch(f"{API}/items/KJ-999", json={"title": "x"}, headers=admin), 404, "item_not_found")
    assert_problem(await client.get(f"{API}/items/KJ-999", headers=admin), 404, "item_not_found")


# State rules


async def test_publish_a_draft_then_publishing_again_is_409(platform: Platform, client: httpx.AsyncClient) -> None:
    admin = await platform.auth("admin")
    draft = await create_item(client, admin)
    published = await action(client, admin, f"/items/{draft['code']}/publish")
    assert published.status_code == 200, published.text
    assert published.json()["status"] == "published"
    assert published.json()["version"] == 2
    assert (await get_json(client, f"/items/{draft['code']}"))["status"] == "published"

    again = await action(client, admin, f"/items/{draft['code']}/publish")
    body = assert_problem(again, 409, "invalid_state")
    assert body["state"] == "published"
    assert (await _admin_item(client, admin, draft["code"])).json()["version"] == 2


async def test_publishing_a_seeded_published_item_is_409(platform: Platform, client: httpx.AsyncClient) -> None:
    admin = await platform.auth("admin")
    before = (await _admin_item(client, admin, "KJ-001")).json()
    assert_problem(await action(client, admin, "/items/KJ-001/publish"), 409, "invalid_state")
    assert (await _admin_item(client, admin, "KJ-001")).json() == before


async def test_withdraw_hides_item_and_blocks_patch(platform: Platform, client: httpx.AsyncClient) -> None:
    admin = await platform.auth("admin")
    withdrawn = await action(client, admin, "/items/LS-003/withdraw")
    assert withdrawn.status_code == 200, withdrawn.text
    assert withdrawn.json()["status"] == "withdrawn"
    version = withdrawn.json()["version"]

    assert_problem(await client.get(f"{API}/items/LS-003"), 404, "item_not_found")
    assert "LS-003" not in await codes(client, "/items")
    assert "LS-003" in await codes(client, "/items", headers=admin, status="withdrawn")

    body = assert_problem(
        await client.patch(f"{API}/items/LS-003", json={"title": "改名"}, headers=admin), 409, "invalid_state"
    )
    assert body["state"] == "withdrawn"
    assert_problem(await action(client, admin, "/items/LS-003/withdraw"), 409, "invalid_state")
    after = (await _admin_item(client, admin, "LS-003")).json()
    assert after["version"] == version and after["title"] != "改名"

    republished = await action(client, admin, "/items/LS-003/publish")
    assert republished.status_code == 200
    assert (await get_json(client, "/items/LS-003"))["status"] == "published"


async def test_publish_fails_when_lead_department_was_withdrawn(platform: Platform, client: httpx.AsyncClient) -> None:
    admin = await platform.auth("admin")
    department = await create_department(client, admin)
    draft = await create_item(client, admin, lead_department_code=department["code"], co_department_codes=[])
    assert (await action(client, admin, f"/departments/{department['code']}/withdraw")).status_code == 200
    body = assert_problem(await action(client, admin, f"/items/{draft['code']}/publish"), 422, "unknown_reference")
    assert body["field"] == "lead_department_code"
    assert (await _admin_item(client, admin, draft["code"])).json() == draft


async def test_publish_fails_when_category_was_withdrawn(platform: Platform, client: httpx.AsyncClient) -> None:
    admin = await platform.auth("admin")
    category = await create_category(client, admin)
    draft = await create_item(client, admin, category_code=category["code"])
    assert (await action(client, admin, f"/categories/{category['code']}/withdraw")).status_code == 200
    body = assert_problem(await action(client, admin, f"/items/{draft['code']}/publish"), 422, "unknown_reference")
    assert body["field"] == "category_code"
    assert (await _admin_item(client, admin, draft["code"])).json()["status"] == "draft"


@pytest.mark.parametrize("verb", ["publish", "withdraw"])
async def test_action_on_unknown_item_is_404(platform: Platform, client: httpx.AsyncClient, verb: str) -> None:
    admin = await platform.auth("admin")
    assert_problem(await action(client, admin, f"/items/KJ-999/{verb}"), 404, "item_not_found")


async def test_longest_valid_item_lists_round_trip(platform: Platform, client: httpx.AsyncClient) -> None:
    admin = await platform.auth("admin")
    materials = [f"{i:02d}" + "材" * 198 for i in range(20)]
    co = ["fgw", "czj", "kjj", "swj", "swuj", "xzspj", "sthjj", "jrjgj", "rsj", "scjgj"]
    item = await create_item(
        client,
        admin,
        required_materials=materials,
        co_department_codes=co,
        sla_profile="60-60-60",
        eligible_sizes=["micro", "small", "medium", "large"],
    )
    stored = (await _admin_item(client, admin, item["code"])).json()
    assert stored["required_materials"] == materials
    assert stored["co_department_codes"] == co
    assert stored["sla_profile"] == "60-60-60"
    assert stored["eligible_sizes"] == ["micro", "small", "medium", "large"]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"required_materials": ["x"] * 21}, "required_materials"),
        ({"required_materials": ["x" * 201]}, "required_materials.0"),
        ({"required_materials": ["  "]}, "required_materials.0"),
        ({"co_department_codes": [f"d{i}x" for i in range(11)]}, "co_department_codes"),
        ({"policy_codes": [f"P-{i}" for i in range(11)]}, "policy_codes"),
    ],
    ids=["materials-too-many", "material-too-long", "material-blank", "co-too-many", "policies-too-many"],
)
async def test_list_limits_on_items(
    platform: Platform, client: httpx.AsyncClient, overrides: dict[str, Any], field: str
) -> None:
    admin = await platform.auth("admin")
    assert_validation(await client.post(f"{API}/items", json=item_payload(**overrides), headers=admin), field)
    assert await codes(client, "/items", headers=admin, status="draft") == []
