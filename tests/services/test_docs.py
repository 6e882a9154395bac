"""Swagger UI and ReDoc work with no internet: every asset their pages name is the platform's own."""

from __future__ import annotations

import re

import httpx
import pytest

from services.docs import ASSETS, ASSETS_PATH

_REFERENCES = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']|url:\s*['"]([^'"]+)['"]""", re.IGNORECASE)


def _references(html: str) -> list[str]:
    return [first or second for first, second in _REFERENCES.findall(html)]


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
async def test_a_docs_page_names_only_the_platforms_own_assets(client: httpx.AsyncClient, page: str) -> None:
    response = await client.get(page)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    references = _references(response.text)
    assert references, "the page names no assets"
    assert all(reference.startswith("/") and not reference.startswith("//") for reference in references), references
    assert "http://" not in response.text and "https://" not in response.text
    assert any(reference.startswith(ASSETS_PATH) for reference in references)
    for reference in references:
        assert (await client.get(reference)).status_code == 200, reference


async def test_each_asset_is_served_from_the_package_with_its_media_type(client: httpx.AsyncClient) -> None:
    for name, media_type in ASSETS.items():
        response = await client.get(f"{ASSETS_PATH}/{name}")
        assert response.status_code == 200, name
        assert response.headers["content-type"] == media_type
        assert len(response.content) > 1000, name
    script = (await client.get(f"{ASSETS_PATH}/swagger-ui-bundle.js")).text
    assert "SwaggerUIBundle" in script


async def test_an_unknown_asset_is_a_404_problem(client: httpx.AsyncClient) -> None:
    for name in ("nothing.js", "..%2Fdocs.py", "%2E%2E%2F__init__.py"):
        response = await client.get(f"{ASSETS_PATH}/{name}")
        assert response.status_code == 404, name
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["code"] == "not_found"


async def test_the_swagger_ui_page_loads_the_merged_document(client: httpx.AsyncClient) -> None:
    html = (await client.get("/docs")).text
    assert "url: '/openapi.json'" in html
    assert "oauth2RedirectUrl" in html
    assert (await client.get("/docs/oauth2-redirect")).status_code == 200
