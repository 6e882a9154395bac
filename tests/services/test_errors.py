"""Problem rendering: status, stable code, no traceback, malformed JSON as 400."""

from __future__ import annotations

import errno

import httpx
import pytest
from fastapi import FastAPI
from pydantic import BaseModel

from services.errors import Conflict, database_unavailable, install_problem_handlers


class Body(BaseModel):
    name: str
    count: int


def _app() -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("secret internals /etc/passwd")

    @app.get("/conflict")
    async def conflict() -> None:
        raise Conflict("already there", code="duplicate_code", extra_field=1)

    @app.post("/body")
    async def body(payload: Body) -> Body:
        return payload

    return app


async def _client() -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=_app(), raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://test")


async def test_unexpected_exception_is_a_500_problem_without_internals() -> None:
    async with await _client() as client:
        response = await client.get("/boom")
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "internal_error"
    assert "secret" not in response.text
    assert "Traceback" not in response.text


async def test_problem_error_carries_status_code_and_extras() -> None:
    async with await _client() as client:
        response = await client.get("/conflict")
    assert response.status_code == 409
    assert response.json() == {
        "type": "https://965808.example.gov.cn/problems/duplicate_code",
        "title": "Conflict",
        "status": 409,
        "detail": "already there",
        "code": "duplicate_code",
        "instance": "/conflict",
        "extra_field": 1,
    }


async def test_validation_lists_every_bad_field() -> None:
    async with await _client() as client:
        response = await client.post("/body", json={"count": "many"})
    assert response.status_code == 422
    locs = sorted(tuple(error["loc"]) for error in response.json()["errors"])
    assert locs == [("body", "count"), ("body", "name")]
    assert response.json()["code"] == "validation_error"


async def test_malformed_json_is_a_400() -> None:
    async with await _client() as client:
        response = await client.post("/body", content=b'{"name": ', headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json()["code"] == "malformed_json"


async def test_unknown_route_and_method_are_problems() -> None:
    async with await _client() as client:
        missing = await client.get("/nope")
        wrong_method = await client.delete("/body")
    assert (missing.status_code, missing.json()["code"]) == (404, "not_found")
    assert (wrong_method.status_code, wrong_method.json()["code"]) == (405, "method_not_allowed")


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (ConnectionRefusedError(111, "Connect call failed"), "cannot be reached"),
        (OSError(errno.ENOSPC, "No space left on device"), "disk is full"),
        (FileNotFoundError(2, "no such file"), None),
        (ValueError("the field is read-only"), None),
    ],
)
def test_only_errors_of_the_database_itself_are_answered_as_it_being_unavailable(
    error: Exception, reason: str | None
) -> None:
    problem = database_unavailable(error)
    if reason is None:
        assert problem is None
    else:
        assert problem is not None and problem.status == 503 and reason in str(problem.to_body()["detail"])
