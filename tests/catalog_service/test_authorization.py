"""Who may write and who may see what: every catalogue write against every kind of caller."""

from __future__ import annotations

import time

import httpx
import jwt
import pytest

from tests.catalog_service.helpers import (
    API,
    SEED_MENU,
    action,
    assert_problem,
    codes,
    create_item,
    create_menu,
    create_policy,
)
from tests.catalog_service.write_ops import BODY_OPS, WRITE_OPS, send, snapshot
from tests.conftest import Platform

NON_ADMIN_ACCOUNTS = ["enterprise-1", "enterprise-2", "staff-jxw", "dispatcher", "supervisor"]
GARBAGE = {"Authorization": "Bearer garbage"}


def _forged_admin_token() -> str:
    """Well-formed and unexpired, with the right claims, but signed with the wrong secret."""
    now = int(time.time())
    claims = {
        "iss": "965808-gateway",
        "aud": "965808-api",
        "sub": "admin",
        "role": "admin",
        "iat": now,
        "nbf": now,
        "exp": now + 600,
    }
    return jwt.encode(claims, "not-the-platform-secret-0123456789abcdef", algorithm="HS256")


async def _headers(platform: Platform, who: str) -> dict[str, str]:
    if who == "anonymous":
        return {}
    if who == "garbage-token":
        return dict(GARBAGE)
    if who == "forged-admin-token":
        return {"Authorization": f"Bearer {_forged_admin_token()}"}
    return await platform.auth(who)


DENIED: dict[str, tuple[int, str]] = {
    "anonymous": (401, "not_authenticated"),
    "garbage-token": (401, "invalid_token"),
    "forged-admin-token": (401, "invalid_token"),
    "enterprise-1": (403, "role_not_allowed"),
    "staff-jxw": (403, "role_not_allowed"),
    "dispatcher": (403, "role_not_allowed"),
    "supervisor": (403, "role_not_allowed"),
}


@pytest.mark.parametrize("who", DENIED.keys())
@pytest.mark.parametrize("op", WRITE_OPS.keys())
async def test_write_is_refused_and_writes_nothing(
    platform: Platform, client: httpx.AsyncClient, op: str, who: str
) -> None:
    admin = await platform.auth("admin")
    request = await WRITE_OPS[op](client, admin)
    before = await snapshot(client, admin, request)

    status, code = DENIED[who]
    response = await send(client, request, await _headers(platform, who))
    assert_problem(response, status, code)
    if status == 401:
        assert response.headers["www-authenticate"].lower().startswith("bearer")
    assert await snapshot(client, admin, request) == before


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("PATCH", "/items/KJ-999"),
        ("POST", "/items/KJ-999/publish"),
        ("PATCH", "/menus/2099-01"),
        ("POST", "/departments/nosuch/withdraw"),
        ("PATCH", "/policies/POL-NONE"),
    ],
)
async def test_authorization_is_checked_before_existence(
    platform: Platform, client: httpx.AsyncClient, method: str, path: str
) -> None:
    """Callers without the role learn nothing about which codes exist."""
    json_body = {"title": "x"} if method == "PATCH" else None
    response = await client.request(method, f"{API}{path}", json=json_body)
    assert_problem(response, 401, "not_authenticated")
    response = await client.request(method, f"{API}{path}", json=json_body, headers=await platform.auth("staff-jxw"))
    assert_problem(response, 403, "role_not_allowed")


async def test_non_bearer_authorization_is_anonymous(client: httpx.AsyncClient) -> None:
    basic = {"Authorization": "Basic YWRtaW46YWRtaW4="}
    assert (await client.get(f"{API}/items/LS-001", headers=basic)).status_code == 200
    response = await client.patch(f"{API}/items/LS-001", json={"title": "x"}, headers=basic)
    assert_problem(response, 401, "not_authenticated")
    assert (await client.get(f"{API}/items/LS-001")).json()["title"] != "x"


@pytest.mark.parametrize("op", WRITE_OPS.keys())
async def test_admin_write_succeeds(platform: Platform, client: httpx.AsyncClient, op: str) -> None:
    admin = await platform.auth("admin")
    request = await WRITE_OPS[op](client, admin)
    before = await snapshot(client, admin, request)

    response = await send(client, request, admin)
    assert response.status_code == request.success, response.text
    assert response.headers["content-type"] == "application/json"
    after = await snapshot(client, admin, request)
    assert after[0] == 200
    assert after != before
    body = response.json()
    for key, value in body.items():
        assert after[1][key] == value, key
    if request.success == 201:
        assert before[0] == 404
    else:
        assert after[1]["version"] == before[1]["version"] + 1


@pytest.mark.parametrize("op", BODY_OPS)
async def test_malformed_json_is_400_and_writes_nothing(platform: Platform, client: httpx.AsyncClient, op: str) -> None:
    admin = await platform.auth("admin")
    request = await WRITE_OPS[op](client, admin)
    before = await snapshot(client, admin, request)
    response = await client.request(
        request.method, f"{API}{request.path}", content=b"{bad", headers={**admin, "Content-Type": "application/json"}
    )
    assert_problem(response, 400, "malformed_json")
    assert await snapshot(client, admin, request) == before


PUBLIC_GETS = [
    "/departments",
    "/departments/jxw",
    "/categories",
    "/categories/finance",
    "/policies",
    "/policies/POL-NAT-2015-01",
    "/items",
    "/items/LS-001",
    "/menus",
    f"/menus/{SEED_MENU}",
    "/menus/current",
]


@pytest.mark.parametrize("path", PUBLIC_GETS)
async def test_public_reads_work_anonymously_and_reject_a_bad_token(client: httpx.AsyncClient, path: str) -> None:
    assert (await client.get(f"{API}{path}")).status_code == 200
    for headers in (GARBAGE, {"Authorization": f"Bearer {_forged_admin_token()}"}):
        response = await client.get(f"{API}{path}", headers=headers)
        assert_problem(response, 401, "invalid_token")
        assert response.headers["www-authenticate"].lower().startswith("bearer")


@pytest.mark.parametrize("who", ["admin", *NON_ADMIN_ACCOUNTS])
async def test_every_account_reads_the_published_catalogue(
    platform: Platform, client: httpx.AsyncClient, who: str
) -> None:
    headers = await platform.auth(who)
    for path in PUBLIC_GETS:
        response = await client.get(f"{API}{path}", headers=headers)
        assert response.status_code == 200, (path, response.text)


async def _hidden_resources(platform: Platform, client: httpx.AsyncClient) -> dict[str, list[str]]:
    """One draft and one withdrawn item, policy and menu, made by admin."""
    admin = await platform.auth("admin")
    draft_item = await create_item(client, admin)
    assert (await action(client, admin, "/items/LS-005/withdraw")).status_code == 200
    draft_policy = await create_policy(client, admin, status="draft")
    assert (await action(client, admin, "/policies/POL-PRV-2015-01/withdraw")).status_code == 200
    draft_menu = await create_menu(client, admin)
    withdrawn_menu = await create_menu(client, admin)
    assert (await action(client, admin, f"/menus/{withdrawn_menu['code']}/publish")).status_code == 200
    assert (await action(client, admin, f"/menus/{withdrawn_menu['code']}/withdraw")).status_code == 200
    return {
        "items": [draft_item["code"], "LS-005"],
        "policies": [draft_policy["code"], "POL-PRV-2015-01"],
        "menus": [draft_menu["code"], withdrawn_menu["code"]],
    }


@pytest.mark.parametrize("who", ["anonymous", *NON_ADMIN_ACCOUNTS])
async def test_drafts_and_withdrawn_are_invisible_to_non_admins(
    platform: Platform, client: httpx.AsyncClient, who: str
) -> None:
    hidden = await _hidden_resources(platform, client)
    headers = await _headers(platform, who)
    kinds = {"items": "item", "policies": "policy", "menus": "menu"}
    for collection, hidden_codes in hidden.items():
        for code in hidden_codes:
            response = await client.get(f"{API}/{collection}/{code}", headers=headers)
            assert_problem(response, 404, f"{kinds[collection]}_not_found")
        listed = await codes(client, f"/{collection}", headers=headers)
        assert not set(hidden_codes) & set(listed), collection
        for status in ("draft", "withdrawn"):
            assert await codes(client, f"/{collection}", headers=headers, status=status) == [], (collection, status)
    assert (await client.get(f"{API}/menus/current", headers=headers)).json()["code"] == SEED_MENU


async def test_drafts_and_withdrawn_are_visible_to_admin(platform: Platform, client: httpx.AsyncClient) -> None:
    hidden = await _hidden_resources(platform, client)
    admin = await platform.auth("admin")
    expected_status = {0: "draft", 1: "withdrawn"}
    for collection, hidden_codes in hidden.items():
        listed = await codes(client, f"/{collection}", headers=admin)
        for index, code in enumerate(hidden_codes):
            response = await client.get(f"{API}/{collection}/{code}", headers=admin)
            assert response.status_code == 200, response.text
            assert response.json()["status"] == expected_status[index]
            assert code in listed
            assert code in await codes(client, f"/{collection}", headers=admin, status=expected_status[index])


async def test_withdrawn_departments_and_categories_are_hidden_from_non_admins(
    platform: Platform, client: httpx.AsyncClient
) -> None:
    admin = await platform.auth("admin")
    category = (
        await client.post(f"{API}/categories", json={"code": "auth-hidden", "name": "隐藏类别"}, headers=admin)
    ).json()
    assert (await action(client, admin, f"/categories/{category['code']}/withdraw")).status_code == 200
    assert (await action(client, admin, "/departments/wb/withdraw")).status_code == 200
    for who in ["anonymous", *NON_ADMIN_ACCOUNTS]:
        headers = await _headers(platform, who)
        assert_problem(await client.get(f"{API}/departments/wb", headers=headers), 404, "department_not_found")
        assert_problem(await client.get(f"{API}/categories/auth-hidden", headers=headers), 404, "category_not_found")
        assert "wb" not in await codes(client, "/departments", headers=headers)
        assert "auth-hidden" not in await codes(client, "/categories", headers=headers)
    assert (await client.get(f"{API}/departments/wb", headers=admin)).json()["status"] == "withdrawn"
    assert (await client.get(f"{API}/categories/auth-hidden", headers=admin)).json()["status"] == "withdrawn"
