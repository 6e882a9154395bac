"""Accounts: registration links an enterprise account to exactly one enterprise."""

from __future__ import annotations

import uuid

import pytest

from services.credit_code import make_credit_code
from tests.conftest import Platform
from tests.support import bearer, login
from ticket_service.seed import demo_enterprise_ids

PASSWORD = "a-strong-password-1"


async def _new_enterprise(platform: Platform) -> str:
    body = {"name": "镇江新材料测试有限公司", "credit_code": make_credit_code("91321100MA1XY4512"), "size": "micro"}
    response = await platform.client.post("/api/v1/enterprises", json=body, headers=await platform.auth("dispatcher"))
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


@pytest.mark.parametrize("registrar", ["admin", "dispatcher"])
async def test_an_enterprise_account_is_linked_to_its_enterprise(platform: Platform, registrar: str) -> None:
    enterprise_id = await _new_enterprise(platform)
    body = {"username": "ent-new", "password": PASSWORD, "role": "enterprise", "enterprise_id": enterprise_id}
    response = await platform.client.post("/api/v1/accounts", json=body, headers=await platform.auth(registrar))
    assert response.status_code == 201, response.text
    assert response.json()["enterprise_id"] == enterprise_id
    assert "password" not in response.text and "hash" not in response.text
    token = await login(platform.client, "ent-new", PASSWORD)
    me = (await platform.client.get("/api/v1/auth/me", headers=bearer(token))).json()
    assert (me["role"], me["enterprise_id"]) == ("enterprise", enterprise_id)
    own = await platform.client.get(f"/api/v1/enterprises/{enterprise_id}", headers=bearer(token))
    assert own.status_code == 200
    other = demo_enterprise_ids()["enterprise-1"]
    assert (await platform.client.get(f"/api/v1/enterprises/{other}", headers=bearer(token))).status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"role": "enterprise", "enterprise_id": "00000000-0000-0000-0000-000000000000"}, "enterprise_id"),
        ({"role": "enterprise"}, "enterprise_id"),
        ({"role": "enterprise", "enterprise_id": "x", "department_code": "jxw"}, "enterprise_id"),
        ({"role": "staff", "department_code": "nosuchdept"}, "department_code"),
        ({"role": "staff"}, "department_code"),
        ({"role": "supervisor", "department_code": "jxw"}, "role"),
    ],
)
async def test_bad_links_are_rejected(platform: Platform, body: dict[str, str], field: str) -> None:
    payload = {"username": "bad-link", "password": PASSWORD, **body}
    response = await platform.client.post("/api/v1/accounts", json=payload, headers=await platform.auth("admin"))
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "invalid_account_link"
    assert response.json()["errors"][0]["loc"] == ["body", field]
    assert (
        await platform.client.post("/api/v1/auth/token", data={"username": "bad-link", "password": PASSWORD})
    ).status_code == 401


async def test_a_staff_account_belongs_to_one_department(platform: Platform) -> None:
    body = {"username": "staff-new", "password": PASSWORD, "role": "staff", "department_code": "kjj"}
    response = await platform.client.post("/api/v1/accounts", json=body, headers=await platform.auth("admin"))
    assert response.status_code == 201
    token = await login(platform.client, "staff-new", PASSWORD)
    me = (await platform.client.get("/api/v1/auth/me", headers=bearer(token))).json()
    assert me["department_code"] == "kjj"


@pytest.mark.parametrize(("caller", "status"), [("enterprise-1", 403), ("staff-jxw", 403), ("supervisor", 403)])
async def test_who_may_register(platform: Platform, caller: str, status: int) -> None:
    body = {"username": "someone", "password": PASSWORD, "role": "dispatcher"}
    response = await platform.client.post("/api/v1/accounts", json=body, headers=await platform.auth(caller))
    assert response.status_code == status
    anonymous = await platform.client.post("/api/v1/accounts", json=body)
    assert anonymous.status_code == 401


async def test_a_dispatcher_registers_enterprise_accounts_only(platform: Platform) -> None:
    body = {"username": "new-admin", "password": PASSWORD, "role": "admin"}
    response = await platform.client.post("/api/v1/accounts", json=body, headers=await platform.auth("dispatcher"))
    assert response.status_code == 403


async def test_duplicate_username_and_weak_password(platform: Platform) -> None:
    admin = await platform.auth("admin")
    duplicate = {"username": "dispatcher", "password": PASSWORD, "role": "dispatcher"}
    response = await platform.client.post("/api/v1/accounts", json=duplicate, headers=admin)
    assert (response.status_code, response.json()["code"]) == (409, "duplicate_username")
    weak = {"username": "weakling", "password": "short", "role": "dispatcher"}
    response = await platform.client.post("/api/v1/accounts", json=weak, headers=admin)
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["body", "password"]


async def test_listing_and_deactivating(platform: Platform) -> None:
    admin = await platform.auth("admin")
    listing = await platform.client.get("/api/v1/accounts", params={"role": "enterprise"}, headers=admin)
    assert [a["username"] for a in listing.json()["items"]] == ["enterprise-1", "enterprise-2"]
    assert (await platform.client.get("/api/v1/accounts", headers=await platform.auth("dispatcher"))).status_code == 403
    # A fresh account: a deactivation outlives the test's rolled-back transaction on Redis.
    username = f"leaver-{uuid.uuid4().hex[:8]}"
    body = {"username": username, "password": PASSWORD, "role": "dispatcher"}
    assert (await platform.client.post("/api/v1/accounts", json=body, headers=admin)).status_code == 201
    response = await platform.client.post(f"/api/v1/accounts/{username}/deactivate", headers=admin)
    assert response.status_code == 200
    assert response.json()["is_active"] is False
    refused = await platform.client.post("/api/v1/auth/token", data={"username": username, "password": PASSWORD})
    assert refused.status_code == 401
    missing = await platform.client.post("/api/v1/accounts/nobody-here/deactivate", headers=admin)
    assert missing.status_code == 404
