"""A development instance signs and checks tokens with its own generated secret, never with a
constant that anyone can read in the code."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import jwt
from asgi_lifespan import LifespanManager

from catalog_service.app import create_app as create_catalog_app
from catalog_service.settings import CatalogSettings
from services.auth import JWT_ALGORITHM, JWT_AUDIENCE, Principal, Role, issue_token

# The signing secret every development instance used before secrets were generated.
FORMER_PUBLISHED_SECRET = "dev-only-jwt-secret-change-me-0123456789"


def _admin_claims() -> dict[str, object]:
    now = int(time.time())
    return {"iss": "965808-gateway", "aud": JWT_AUDIENCE, "sub": "admin", "role": "admin", "iat": now, "exp": now + 600}


async def test_a_token_forged_with_the_former_constant_is_refused(migrated_database: str, tmp_path: Path) -> None:
    settings = CatalogSettings(
        environment="development", var_dir=tmp_path, database_url=migrated_database, log_json=False
    )
    forged = jwt.encode(_admin_claims(), FORMER_PUBLISHED_SECRET, algorithm=JWT_ALGORITHM)
    genuine, _ = issue_token(settings, Principal(subject="admin", role=Role.ADMIN))
    app = create_catalog_app(settings)
    async with (
        LifespanManager(app) as manager,
        httpx.AsyncClient(transport=httpx.ASGITransport(app=manager.app), base_url="http://catalog") as client,
    ):
        refused = await client.post("/api/v1/departments", json={}, headers={"Authorization": f"Bearer {forged}"})
        accepted = await client.post("/api/v1/departments", json={}, headers={"Authorization": f"Bearer {genuine}"})
    assert refused.status_code == 401
    assert refused.json()["code"] == "invalid_token"
    # Past the token check: the empty body is what it refuses.
    assert accepted.status_code == 422
