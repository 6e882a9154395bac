"""Deactivating an account or changing its role stops its earlier tokens on their next request
(issue 14, gap 2), though the gateway remembers the tokens it accepted."""

from __future__ import annotations

import uuid

import httpx

from gateway.revocation import version_key
from services.redis import create_redis
from tests.catalog_service.helpers import assert_problem
from tests.conftest import Platform
from tests.support import bearer, login

PASSWORD = "a-strong-password-1"


async def _new_account(platform: Platform, role: str = "dispatcher") -> str:
    # Fresh names: a raised version outlives the test's rolled-back transaction on Redis.
    username = f"{role}-{uuid.uuid4().hex[:8]}"
    body = {"username": username, "password": PASSWORD, "role": role}
    response = await platform.client.post("/api/v1/accounts", json=body, headers=await platform.auth("admin"))
    assert response.status_code == 201, response.text
    return username


async def _works(client: httpx.AsyncClient, token: str) -> None:
    """The token works on the gateway's own routes and on a proxied one."""
    me = await client.get("/api/v1/auth/me", headers=bearer(token))
    assert me.status_code == 200, me.text
    tickets = await client.get("/api/v1/tickets", headers=bearer(token))
    assert tickets.status_code == 200, tickets.text


async def _revoked(client: httpx.AsyncClient, token: str) -> None:
    for path in ("/api/v1/auth/me", "/api/v1/tickets", "/api/v1/accounts"):
        response = await client.get(path, headers=bearer(token))
        assert_problem(response, 401, "token_revoked")
        assert response.headers["www-authenticate"] == "Bearer"


async def test_a_deactivated_accounts_token_stops_on_the_next_request(platform: Platform) -> None:
    username = await _new_account(platform)
    token = await login(platform.client, username, PASSWORD)
    await _works(platform.client, token)  # the gateway now remembers the token as accepted
    response = await platform.client.post(
        f"/api/v1/accounts/{username}/deactivate", headers=await platform.auth("admin")
    )
    assert response.status_code == 200 and response.json()["is_active"] is False
    await _revoked(platform.client, token)
    order = await platform.client.post("/api/v1/orders", json={"items": []}, headers=bearer(token))
    assert_problem(order, 401, "token_revoked")
    # Other accounts are untouched, and deactivating twice changes nothing.
    await _works(platform.client, await platform.token("dispatcher"))
    again = await platform.client.post(f"/api/v1/accounts/{username}/deactivate", headers=await platform.auth("admin"))
    assert again.status_code == 200
    await _revoked(platform.client, token)


async def test_a_role_change_stops_the_earlier_tokens_and_the_next_login_has_the_new_role(platform: Platform) -> None:
    username = await _new_account(platform)
    old = await login(platform.client, username, PASSWORD)
    await _works(platform.client, old)
    response = await platform.client.put(
        f"/api/v1/accounts/{username}/role", json={"role": "supervisor"}, headers=await platform.auth("admin")
    )
    assert response.status_code == 200, response.text
    assert response.json()["role"] == "supervisor"
    await _revoked(platform.client, old)
    new = await login(platform.client, username, PASSWORD)
    me = await platform.client.get("/api/v1/auth/me", headers=bearer(new))
    assert me.status_code == 200 and me.json()["role"] == "supervisor"
    # The same role again is no change: the new token keeps working.
    same = await platform.client.put(
        f"/api/v1/accounts/{username}/role", json={"role": "supervisor"}, headers=await platform.auth("admin")
    )
    assert same.status_code == 200
    await _works(platform.client, new)


async def test_a_role_change_to_staff_needs_a_real_department(platform: Platform) -> None:
    username = await _new_account(platform)
    admin = await platform.auth("admin")
    unlinked = await platform.client.put(f"/api/v1/accounts/{username}/role", json={"role": "staff"}, headers=admin)
    assert_problem(unlinked, 422, "invalid_account_link")
    missing = {"role": "staff", "department_code": "no-such-dept"}
    assert_problem(
        await platform.client.put(f"/api/v1/accounts/{username}/role", json=missing, headers=admin),
        422,
        "invalid_account_link",
    )
    staff = await platform.client.put(
        f"/api/v1/accounts/{username}/role", json={"role": "staff", "department_code": "fgw"}, headers=admin
    )
    assert staff.status_code == 200, staff.text
    assert staff.json()["department_code"] == "fgw"


async def test_only_an_admin_changes_roles_or_deactivates(platform: Platform) -> None:
    username = await _new_account(platform)
    token = await login(platform.client, username, PASSWORD)
    for caller in ("dispatcher", "supervisor", "staff-fgw", "enterprise-1"):
        headers = await platform.auth(caller)
        change = await platform.client.put(f"/api/v1/accounts/{username}/role", json={"role": "admin"}, headers=headers)
        assert_problem(change, 403, "role_not_allowed")
        deactivation = await platform.client.post(f"/api/v1/accounts/{username}/deactivate", headers=headers)
        assert_problem(deactivation, 403, "role_not_allowed")
    assert_problem(await platform.client.put(f"/api/v1/accounts/{username}/role", json={"role": "admin"}), 401)
    admin = await platform.auth("admin")
    bad = await platform.client.put(f"/api/v1/accounts/{username}/role", json={"role": "system"}, headers=admin)
    assert_problem(bad, 422)
    nobody = await platform.client.put("/api/v1/accounts/nobody-here/role", json={"role": "admin"}, headers=admin)
    assert_problem(nobody, 404, "account_not_found")
    await _works(platform.client, token)


async def test_a_version_lost_from_redis_comes_back_at_the_next_login(platform: Platform, redis_url: str) -> None:
    username = await _new_account(platform)
    old = await login(platform.client, username, PASSWORD)
    admin = await platform.auth("admin")
    changed = await platform.client.put(f"/api/v1/accounts/{username}/role", json={"role": "supervisor"}, headers=admin)
    assert changed.status_code == 200
    redis = create_redis(redis_url)
    try:
        assert await redis.get(version_key(username)) == b"1"
        await redis.delete(version_key(username))  # as a Redis that lost its data would
        await _works(platform.client, old)
        await login(platform.client, username, PASSWORD)
        assert await redis.get(version_key(username)) == b"1"
        ttl = await redis.ttl(version_key(username))
        assert 3600 <= ttl <= 3660  # as long as a token lives
    finally:
        await redis.aclose()
    await _revoked(platform.client, old)


async def test_an_admin_cannot_lock_itself_out(platform: Platform) -> None:
    admin = await _new_account(platform, role="admin")
    token = await login(platform.client, admin, PASSWORD)
    own = [
        await platform.client.post(f"/api/v1/accounts/{admin}/deactivate", headers=bearer(token)),
        await platform.client.put(f"/api/v1/accounts/{admin}/role", json={"role": "dispatcher"}, headers=bearer(token)),
    ]
    for response in own:
        assert_problem(response, 409, "own_account")
    await _works(platform.client, token)
    # Another admin may do either.
    other = await platform.client.put(
        f"/api/v1/accounts/{admin}/role", json={"role": "supervisor"}, headers=await platform.auth("admin")
    )
    assert other.status_code == 200 and other.json()["role"] == "supervisor"
    await _revoked(platform.client, token)
