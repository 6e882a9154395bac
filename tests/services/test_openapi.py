"""Each service's document is written from its routes: who may call, names, headers."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Header, Response

from services.auth import AdminPrincipal, CurrentPrincipal, OptionalPrincipal, Principal, Role, require_roles
from services.errors import problem_responses
from services.internal import InternalCaller
from services.openapi import build_document
from services.responses import NOT_MODIFIED

Staff = Annotated[Principal, Depends(require_roles(Role.STAFF, Role.DISPATCHER))]


def _document() -> dict[str, Any]:
    router = APIRouter(prefix="/api/v1")

    @router.get("/things", responses={**problem_responses(400), **NOT_MODIFIED})
    async def list_things(_: OptionalPrincipal) -> list[str]:
        """List the things (anyone; hidden ones for admin)."""
        return []

    @router.post("/things", status_code=201, responses=problem_responses(401, 403, 503))
    async def create_thing(
        _: AdminPrincipal, body: dict[str, str], key: Annotated[str | None, Header(alias="Idempotency-Key")] = None
    ) -> dict[str, str]:
        """Create a thing. It is kept forever (admin)."""
        return body

    @router.get("/things/{thing_id}")
    async def get_thing(_: CurrentPrincipal, thing_id: str) -> Response:
        """One thing."""
        return Response()

    @router.post("/things/{thing_id}/poke", summary="Poke a thing")
    async def poke_thing(
        _: Staff, thing_id: str, if_match: Annotated[str | None, Header(alias="If-Match")] = None
    ) -> dict[str, str]:
        """Poke it."""
        return {}

    @router.get("/open")
    async def open_data() -> dict[str, str]:
        """Open data."""
        return {}

    @router.post("/relayed")
    async def receive_relayed(_: InternalCaller) -> dict[str, str]:
        """Take what the relay sends."""
        return {}

    app = FastAPI()
    app.include_router(router)
    return build_document(title="t", version="1", description=None, routes=app.routes)


def _operation(document: dict[str, Any], path: str, method: str) -> dict[str, Any]:
    operation: dict[str, Any] = document["paths"][path][method]
    return operation


def test_names_and_summaries_come_from_the_routes() -> None:
    document = _document()
    listed = _operation(document, "/api/v1/things", "get")
    assert listed["operationId"] == "list_things"
    assert listed["summary"] == "List the things"
    assert _operation(document, "/api/v1/things", "post")["summary"] == "Create a thing"
    assert _operation(document, "/api/v1/things/{thing_id}/poke", "post")["summary"] == "Poke a thing"


def test_who_may_call_is_read_from_the_bearer_dependency() -> None:
    document = _document()
    anyone = _operation(document, "/api/v1/things", "get")
    assert "anyone; no token is needed. With a bearer token" in anyone["description"]
    assert anyone["security"] == [{}, {"OAuth2PasswordBearer": []}]
    admin = _operation(document, "/api/v1/things", "post")
    assert "role `admin`;" in admin["description"] and {} not in admin["security"]
    assert "any caller with a bearer token" in _operation(document, "/api/v1/things/{thing_id}", "get")["description"]
    poke = _operation(document, "/api/v1/things/{thing_id}/poke", "post")["description"]
    assert "role `dispatcher`, `staff`;" in poke
    open_data = _operation(document, "/api/v1/open", "get")
    assert open_data["security"] == [] and "no token is needed." in open_data["description"]


def test_an_operation_reading_the_internal_token_is_for_the_platforms_own_services() -> None:
    relayed = _operation(_document(), "/api/v1/relayed", "post")
    assert "the platform's own services only" in relayed["description"]
    assert "no token is needed" not in relayed["description"] and {} not in relayed["security"]


def test_headers_are_declared_where_the_operation_uses_them() -> None:
    document = _document()
    listed = _operation(document, "/api/v1/things", "get")
    assert [p["name"] for p in listed["parameters"]][-1] == "If-None-Match"
    assert {"ETag", "Cache-Control", "X-Request-ID"} <= set(listed["responses"]["304"]["headers"])
    created = _operation(document, "/api/v1/things", "post")["responses"]
    assert {"Idempotent-Replayed", "Location", "X-Request-ID"} <= set(created["201"]["headers"])
    assert "Retry-After" in created["503"]["headers"] and "413" in created and "405" in created
    assert created["201"]["description"] == "Created; the body is the new resource."
    poke = _operation(document, "/api/v1/things/{thing_id}/poke", "post")
    assert "ETag" in poke["responses"]["200"]["headers"]
    assert "version_mismatch" in next(p for p in poke["parameters"] if p["name"] == "If-Match")["description"]
    assert "ETag" not in _operation(document, "/api/v1/open", "get")["responses"]["200"]["headers"]
