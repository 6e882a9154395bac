"""The gateway's own behaviour with the services in-process: routing, ids, limits, docs."""

from __future__ import annotations

import httpx

from gateway.openapi import merge_documents
from tests.conftest import Platform


async def test_request_id_is_echoed_and_minted(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/categories", headers={"X-Request-ID": "test-req-42"})
    assert response.status_code == 200
    assert response.headers["x-request-id"] == "test-req-42"
    minted = await client.get("/api/v1/categories")
    assert len(minted.headers["x-request-id"]) == 32


async def test_unsafe_request_id_is_replaced(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/categories", headers={"X-Request-ID": "bad id with spaces"})
    assert response.headers["x-request-id"] != "bad id with spaces"


async def test_unrouted_path_is_a_404_problem(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "not_found"


async def test_oversized_body_is_413_before_the_service(platform: Platform) -> None:
    headers = await platform.auth("admin")
    body = b'{"code": "' + b"x" * (1_048_576 + 10) + b'"}'
    response = await platform.client.post(
        "/api/v1/departments", content=body, headers={**headers, "Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"


async def test_health_reports_every_part(client: httpx.AsyncClient) -> None:
    response = await client.get("/health")
    assert response.status_code == 200
    checks = response.json()["checks"]
    assert checks == {
        "database": "ok",
        "redis": "ok",
        "service:catalog": "ok",
        "service:tickets": "ok",
        "service:notifications": "ok",
    }


async def test_merged_openapi_lists_every_service_operation(client: httpx.AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()
    paths = document["paths"]
    for path in ("/api/v1/auth/token", "/api/v1/items", "/api/v1/items/{code}", "/api/v1/menus/current", "/health"):
        assert path in paths, path
    assert "x-unavailable-services" not in document["info"]
    tags = {tag["name"] for tag in document["tags"]}
    assert {"auth", "items", "menus", "departments", "categories", "policies"} <= tags
    schemas = document["components"]["schemas"]
    assert {"ItemRead", "ItemCreate", "Problem", "ValidationProblem"} <= set(schemas)
    assert "HTTPValidationError" not in schemas
    scheme = document["components"]["securitySchemes"]["OAuth2PasswordBearer"]
    assert scheme["flows"]["password"]["tokenUrl"] == "/api/v1/auth/token"
    for path, item in paths.items():
        for method, operation in item.items():
            assert operation.get("description") or operation.get("summary"), (method, path)
            if "requestBody" in operation:
                assert "400" in operation["responses"], (method, path)
            for status, response in operation["responses"].items():
                if status[0] in "45":
                    assert list(response["content"]) == ["application/problem+json"], (method, path, status)
    create = paths["/api/v1/items"]["post"]
    invalid = create["responses"]["422"]["content"]["application/problem+json"]["schema"]["anyOf"]
    assert {"#/components/schemas/ValidationProblem", "#/components/schemas/UnknownReferenceProblem"} <= {
        option["$ref"] for option in invalid
    }


async def test_docs_serve_swagger_ui_on_the_merged_document(client: httpx.AsyncClient) -> None:
    response = await client.get("/docs")
    assert response.status_code == 200
    assert "swagger-ui" in response.text.lower()
    assert "/openapi.json" in response.text
    assert (await client.get("/docs/oauth2-redirect")).status_code == 200


def test_merge_renames_clashing_schemas_and_follows_references() -> None:
    gateway = {"openapi": "3.1.0", "info": {"title": "g"}, "paths": {}, "components": {"schemas": {}}}
    one = {
        "paths": {
            "/a": {
                "get": {
                    "responses": {
                        "200": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Thing"}}}}
                    }
                }
            }
        },
        "components": {"schemas": {"Thing": {"type": "string"}}},
    }
    two = {
        "paths": {
            "/b": {
                "get": {
                    "responses": {
                        "200": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Thing"}}}}
                    }
                }
            }
        },
        "components": {"schemas": {"Thing": {"type": "integer"}}},
    }
    merged = merge_documents(gateway, {"one": one, "two": two}, missing=["three"])
    assert merged["components"]["schemas"]["Thing"] == {"type": "string"}
    assert merged["components"]["schemas"]["TwoThing"] == {"type": "integer"}
    ref = merged["paths"]["/b"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    assert ref == "#/components/schemas/TwoThing"
    assert merged["info"]["x-unavailable-services"] == ["three"]
