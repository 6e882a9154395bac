"""Tokens from the gateway, and every service checking them itself."""

from __future__ import annotations

import base64
import time

import httpx
import jwt
import pytest

from services.auth import JWT_ALGORITHM, JWT_AUDIENCE
from services.settings import SharedSettings
from tests.support import DEMO_PASSWORD, bearer


async def test_password_login_returns_a_bearer_token(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v1/auth/token", data={"username": "admin", "password": DEMO_PASSWORD})
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 3600
    me = await client.get("/api/v1/auth/me", headers=bearer(body["access_token"]))
    assert me.json()["role"] == "admin"


@pytest.mark.parametrize(
    ("username", "role", "department_code", "has_enterprise"),
    [
        ("staff-jxw", "staff", "jxw", False),
        ("enterprise-1", "enterprise", None, True),
        ("dispatcher", "dispatcher", None, False),
        ("supervisor", "supervisor", None, False),
    ],
)
async def test_token_carries_role_department_and_enterprise(
    client: httpx.AsyncClient, username: str, role: str, department_code: str | None, has_enterprise: bool
) -> None:
    token = (await client.post("/api/v1/auth/token", data={"username": username, "password": DEMO_PASSWORD})).json()
    me = (await client.get("/api/v1/auth/me", headers=bearer(token["access_token"]))).json()
    assert me["subject"] == username
    assert me["role"] == role
    assert me["department_code"] == department_code
    assert (me["enterprise_id"] is not None) == has_enterprise


@pytest.mark.parametrize(
    ("username", "password"), [("admin", "wrong"), ("nobody", DEMO_PASSWORD), ("admin", DEMO_PASSWORD + " ")]
)
async def test_bad_credentials_are_one_indistinct_401(client: httpx.AsyncClient, username: str, password: str) -> None:
    response = await client.post("/api/v1/auth/token", data={"username": username, "password": password})
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "invalid_credentials"


async def test_missing_username_is_a_400(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v1/auth/token", data={"password": DEMO_PASSWORD})
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_request"


async def test_unknown_grant_type_is_a_422(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v1/auth/token", data={"grant_type": "implicit", "username": "admin"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["body", "grant_type"]


async def test_client_credentials_in_form_and_basic_auth(client: httpx.AsyncClient) -> None:
    form = await client.post(
        "/api/v1/auth/token",
        data={"grant_type": "client_credentials", "client_id": "hotline-965808", "client_secret": DEMO_PASSWORD},
    )
    assert form.status_code == 200
    me = (await client.get("/api/v1/auth/me", headers=bearer(form.json()["access_token"]))).json()
    assert me == {
        "subject": "client:hotline-965808",
        "role": "hotline",
        "department_code": None,
        "enterprise_id": None,
        "scopes": [],
    }
    basic = base64.b64encode(f"frontend-demo:{DEMO_PASSWORD}".encode()).decode()
    response = await client.post(
        "/api/v1/auth/token", data={"grant_type": "client_credentials"}, headers={"Authorization": f"Basic {basic}"}
    )
    assert response.status_code == 200
    me = (await client.get("/api/v1/auth/me", headers=bearer(response.json()["access_token"]))).json()
    assert me["role"] == "integration"


async def test_client_with_wrong_secret_is_rejected(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/v1/auth/token",
        data={"grant_type": "client_credentials", "client_id": "hotline-965808", "client_secret": "nope"},
    )
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_client"


async def test_me_requires_a_token(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/auth/me")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["code"] == "not_authenticated"


def _forge(secret: str | None = None, **claims: object) -> str:
    """A token as the gateway would sign it (with the platform's own secret unless `secret`)."""
    now = int(time.time())
    payload = {
        "iss": "965808-gateway",
        "aud": JWT_AUDIENCE,
        "sub": "admin",
        "role": "admin",
        "iat": now,
        "exp": now + 600,
        **claims,
    }
    signing = secret if secret is not None else SharedSettings().jwt_secret.get_secret_value()
    return jwt.encode(payload, signing, algorithm=JWT_ALGORITHM)


@pytest.mark.parametrize(
    ("token", "code"),
    [
        (_forge(secret="another-secret-of-sufficient-length-123"), "invalid_token"),
        (_forge(exp=int(time.time()) - 10), "token_expired"),
        (_forge(role="superuser"), "invalid_token"),
        (_forge(role="system"), "invalid_token"),
        (_forge(aud="someone-else"), "invalid_token"),
        ("not-a-jwt", "invalid_token"),
    ],
)
async def test_bad_tokens_are_rejected_at_the_gateway_and_by_the_service(
    platform: object, client: httpx.AsyncClient, token: str, code: str
) -> None:
    through_gateway = await client.get("/api/v1/items", headers=bearer(token))
    assert through_gateway.status_code == 401
    assert through_gateway.json()["code"] == code
    catalog = platform.upstreams["catalog"]  # type: ignore[attr-defined]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=catalog), base_url="http://catalog") as direct:
        bypassing = await direct.post("/api/v1/departments", headers=bearer(token), json={})
    assert bypassing.status_code == 401
    assert bypassing.json()["code"] == code
