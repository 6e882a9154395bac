"""OpenAPI post-processing: what every service's document says the same way.

FastAPI's document is rewritten in one pass per service, from the routes themselves so it
cannot drift from them:

* each operation's `operationId` is its route's name (`list_items`, `create_order`), its
  summary the docstring's first sentence, and its description says who may call it, read
  from the route's bearer-token dependency (anonymous, any caller, or which roles);
* anonymous-readable operations list `{}` among their security requirements;
* success responses say what they hold instead of "Successful Response";
* error responses are `application/problem+json` (422 is a `ValidationProblem`), and the
  400 of a malformed body, the 413 of an oversized one and the 405 of a wrong method are
  declared;
* the headers the platform sends and reads are declared where they apply: `X-Request-ID`
  on every answer, `ETag` with `If-None-Match`/304 and `If-Match`/412, `Idempotency-Key`
  with `Idempotent-Replayed`, `Retry-After` on 429/503 and `Location` on a 201 whose
  resource can be read at its own path.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute, RouteContext, iter_route_contexts
from pydantic import TypeAdapter
from starlette.routing import BaseRoute

from services.auth import BearerPrincipal
from services.errors import PROBLEM_MEDIA_TYPE, FieldError, Problem, ValidationProblem

# A route as FastAPI documents it: an `APIRoute` with the prefix and tags of the routers it is in.
Route = RouteContext
HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
_DEFAULT_RESPONSE_DESCRIPTION = "Successful Response"

HEADERS: dict[str, dict[str, Any]] = {
    "X-Request-ID": {
        "description": "The request's id: the caller's own `X-Request-ID` when it sent a valid one "
        "(1-128 letters, digits, `.`, `_`, `-`), else one the platform made. Quote it when reporting a problem.",
        "schema": {"type": "string", "maxLength": 128},
    },
    "ETag": {
        "description": "The representation's strong entity tag; send it back in `If-None-Match` "
        "(reads) or `If-Match` (ticket actions, where it is the ticket's version in quotes).",
        "schema": {"type": "string", "examples": ['"3"']},
    },
    "Idempotent-Replayed": {
        "description": "`true` when this answer is the stored answer to an earlier request with "
        "the same `Idempotency-Key`: nothing was created again.",
        "schema": {"type": "string", "enum": ["true"]},
    },
    "Retry-After": {
        "description": "Seconds to wait before trying again.",
        "schema": {"type": "integer", "minimum": 0},
    },
    "Location": {
        "description": "The path of the resource just created.",
        "schema": {"type": "string", "format": "uri-reference"},
    },
    "Allow": {
        "description": "The methods this path has.",
        "schema": {"type": "string", "examples": ["GET, POST"]},
    },
    "Cache-Control": {
        "description": "`private, max-age=0, must-revalidate`: keep it, but revalidate with `If-None-Match`.",
        "schema": {"type": "string"},
    },
}

IF_NONE_MATCH = {
    "name": "If-None-Match",
    "in": "header",
    "required": False,
    "description": "An `ETag` from an earlier answer (or several, comma-separated, or `*`): "
    "if the representation is still that one, the answer is 304 with no body.",
    "schema": {"type": "string", "maxLength": 1000},
}

_IF_MATCH_DESCRIPTION = (
    'The ticket version the caller last saw, as the `ETag` of its answers gives it (`"3"`; '
    '`W/"3"` and a bare `3` are accepted too). If the ticket has changed since, the answer is 412 '
    "`version_mismatch` with the `current_version`; without the header the action applies to "
    "whatever version the ticket is at."
)
_IDEMPOTENCY_KEY_DESCRIPTION = (
    "Makes the create safe to retry (1-200 characters, e.g. a UUID; kept 24 h per caller). "
    "The same key with the same body answers the stored 201 again with `Idempotent-Replayed: true` "
    "and creates nothing; with a different body it is 422 `idempotency_key_reused`; while the first "
    "request is still running it is 409 `request_in_flight`."
)

_ERROR_DESCRIPTIONS = {
    "400": "Malformed request: the body is not JSON, a cursor or credential is not one the API issued.",
    "401": "No bearer token, or an invalid or expired one.",
    "403": "The caller's role, or its relation to the resource, does not allow this.",
    "404": "No such resource, or not one the caller may see.",
    "405": "The path exists, but not with this method; `Allow` lists the methods it has.",
    "409": "The resource's state does not allow this, or it conflicts with another change.",
    "412": "`If-Match` names a version the resource is no longer at.",
    "413": "The request body is larger than the platform accepts.",
    "422": "The request is well-formed but some fields are invalid; `errors` lists each.",
    "429": "Too many requests; wait `Retry-After` seconds.",
    "502": "A service behind the gateway could not be reached.",
    "503": "A service or store this request needs is unavailable; nothing was saved. Retry after `Retry-After`.",
    "504": "A service behind the gateway did not answer in time.",
}
# FastAPI's and `problem_responses`' default descriptions, which the ones above replace.
_PHRASES = frozenset(status.phrase for status in HTTPStatus)


def _problem_schemas() -> dict[str, Any]:
    schemas: dict[str, Any] = {}
    for model in (Problem, FieldError, ValidationProblem):
        schema = TypeAdapter(model).json_schema(ref_template="#/components/schemas/{model}")
        schema.pop("$defs", None)
        schemas[model.__name__] = schema
    return schemas


def _ref(name: str) -> dict[str, Any]:
    return {"schema": {"$ref": f"#/components/schemas/{name}"}}


def operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """Every (path, method, operation) of `document`, in its order."""
    for path, path_item in document.get("paths", {}).items():
        for method in HTTP_METHODS:
            if method in path_item:
                yield path, method, path_item[method]


def rewrite_problem_responses(document: dict[str, Any]) -> dict[str, Any]:
    components = document.setdefault("components", {}).setdefault("schemas", {})
    components.update(_problem_schemas())
    components.pop("HTTPValidationError", None)
    components.pop("ValidationError", None)
    for _path, _method, operation in operations(document):
        responses: dict[str, Any] = operation.setdefault("responses", {})
        if "requestBody" in operation:
            responses.setdefault("400", {"description": _ERROR_DESCRIPTIONS["400"]})
            responses.setdefault("413", {"description": _ERROR_DESCRIPTIONS["413"]})
        responses.setdefault("405", {"description": _ERROR_DESCRIPTIONS["405"]})
        for status, response in responses.items():
            if status[:1] not in {"4", "5"}:
                continue
            if status in _ERROR_DESCRIPTIONS and response.get("description") in {None, "", *_PHRASES}:
                response["description"] = _ERROR_DESCRIPTIONS[status]
            name = "ValidationProblem" if status == "422" else "Problem"
            response["content"] = {PROBLEM_MEDIA_TYPE: _ref(name)}
        operation["responses"] = dict(sorted(responses.items()))
    return document


# Who may call an operation, from its route.


def _bearer_dependencies(dependant: Dependant) -> Iterator[BearerPrincipal]:
    for dependency in dependant.dependencies:
        if isinstance(dependency.call, BearerPrincipal):
            yield dependency.call
        yield from _bearer_dependencies(dependency)


def access_rule(route: Route) -> str:
    """Who may call the route, as its bearer-token dependency says."""
    bearers = list(_bearer_dependencies(route.dependant))
    headers = {str(field.alias).lower() for field in route.dependant.header_params}
    if not bearers and "webhook-signature" in headers:
        return (
            "**Who may call:** the sender holding the webhook's shared secret only: no bearer token, but a "
            "valid Standard Webhooks signature (`webhook-id`, `webhook-timestamp` within 5 minutes, "
            "`webhook-signature` over the raw body); anything else is 401 `invalid_webhook_signature`."
        )
    if not bearers and _internal_alternative(route):
        return (
            "**Who may call:** the platform's own services only (the outbox relay, the public board), with "
            "the internal token in `X-Internal-Token`; anything else is 401 `invalid_internal_token`."
        )
    if not bearers:
        return "**Who may call:** anyone; no token is needed."
    if _internal_alternative(route):
        return (
            "**Who may call:** a caller with a bearer token, of the roles said above (any other is 403); "
            "the platform's own services (the public board) use the internal token instead."
        )
    if all(not bearer.required for bearer in bearers):
        return (
            "**Who may call:** anyone; no token is needed. With a bearer token the answer may show "
            "more (see above); a token that is invalid or expired is still 401."
        )
    roles = sorted({role.value for bearer in bearers if bearer.roles for role in bearer.roles})
    if not roles:
        return (
            "**Who may call:** any caller with a bearer token (every role); what each role may see or do is said above."
        )
    named = ", ".join(f"`{role}`" for role in roles)
    return f"**Who may call:** bearer token with role {named}; any other role is 403 `role_not_allowed`."


def _internal_alternative(route: Route) -> bool:
    """The route reads the internal token (through its sub-dependencies too): it is for the
    platform's own services, or (with an optional bearer token) refuses a call with neither,
    so it is never an anonymous operation."""
    return INTERNAL_TOKEN_HEADER in _header_names(route.dependant)


def _header_names(dependant: Dependant) -> set[str]:
    """The headers the route reads, through its sub-dependencies too."""
    names = {str(field.alias).lower() for field in dependant.header_params}
    for dependency in dependant.dependencies:
        names |= _header_names(dependency)
    return names


def _anonymous_allowed(route: Route) -> bool:
    if _internal_alternative(route):
        return False
    return any(not bearer.required for bearer in _bearer_dependencies(route.dependant))


INTERNAL_TOKEN_HEADER = "x-internal-token"
_PARENTHESIS = re.compile(r"\s*\([^()]*\)")


def _summary(route: Route) -> str:
    if route.summary:
        return str(route.summary)
    name = str(route.name or "").replace("_", " ")
    text = _PARENTHESIS.sub("", (route.description or name).strip())
    first = re.split(r"[.;:](?:\s|$)", text, maxsplit=1)[0].strip()
    return first or name.capitalize()


def _success_description(method: str, status: str, operation: dict[str, Any]) -> str:
    schema = operation.get("responses", {}).get(status, {}).get("content", {}).get("application/json", {})
    names = _schema_names(schema.get("schema", {}))
    if status == "201":
        return "Created; the body is the new resource."
    if status == "202":
        return "Accepted; the work is queued and happens shortly."
    if status == "204":
        return "Done; no body."
    if status == "304":
        return "Not modified: the representation is still the one `If-None-Match` names."
    if any(name.startswith("Page_") for name in names):
        return "One page of results, newest or in code order as described; `next_cursor` fetches the next."
    if method == "get":
        return "The requested representation."
    return "Done; the body is the resource as it is now."


def _schema_names(schema: dict[str, Any]) -> list[str]:
    if "$ref" in schema:
        return [schema["$ref"].rsplit("/", 1)[1]]
    return [name for option in schema.get("anyOf", []) for name in _schema_names(option)]


def _routes_by_operation(routes: Sequence[BaseRoute]) -> dict[tuple[str, str], Route]:
    """Each documented operation's route, through included routers too (their full paths)."""
    found: dict[tuple[str, str], Route] = {}
    for route in iter_route_contexts(routes):
        if isinstance(route.original_route, APIRoute) and route.include_in_schema:
            for method in route.methods or ():
                found[(str(route.path_format), method.lower())] = route
    return found


def describe_operations(document: dict[str, Any], routes: Sequence[BaseRoute]) -> dict[str, Any]:
    by_operation = _routes_by_operation(routes)
    for path, method, operation in operations(document):
        route = by_operation.get((path, method))
        if route is None:
            continue
        operation["operationId"] = route.operation_id or route.name
        operation["summary"] = _summary(route)
        description = (route.description or "").strip()
        operation["description"] = f"{description}\n\n{access_rule(route)}".strip()
        if _anonymous_allowed(route) and operation.get("security"):
            operation["security"] = [{}, *operation["security"]]
        operation.setdefault("security", [])  # no bearer token at all: said, not left to a default
        for status, response in operation.get("responses", {}).items():
            if status.startswith(("2", "3")) and response.get("description") in {_DEFAULT_RESPONSE_DESCRIPTION, ""}:
                response["description"] = _success_description(method, status, operation)
    return document


# Headers.


def _header_ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/headers/{name}"}


def _resource_paths(document: dict[str, Any]) -> set[str]:
    """Collection paths whose members can be read at `<collection>/{param}`."""
    found = set()
    for path, path_item in document.get("paths", {}).items():
        match = re.fullmatch(r"(?P<base>.+)/\{[a-z_]+\}", path)
        if match and "get" in path_item:
            found.add(match["base"])
    return found


def _parameter(operation: dict[str, Any], name: str) -> dict[str, Any] | None:
    for parameter in operation.get("parameters", []):
        if parameter.get("in") == "header" and parameter.get("name", "").lower() == name.lower():
            return parameter  # type: ignore[no-any-return]
    return None


def declare_headers(document: dict[str, Any]) -> dict[str, Any]:
    document.setdefault("components", {})["headers"] = dict(HEADERS)
    versioned_schemas = _versioned_schemas(document)
    collections = _resource_paths(document)
    for path, _method, operation in operations(document):
        responses: dict[str, Any] = operation.get("responses", {})
        conditional_read = "304" in responses
        if conditional_read and _parameter(operation, "If-None-Match") is None:
            operation.setdefault("parameters", []).append(dict(IF_NONE_MATCH))
        if_match = _parameter(operation, "If-Match")
        if if_match is not None:
            if_match["description"] = _IF_MATCH_DESCRIPTION
        idempotency_key = _parameter(operation, "Idempotency-Key")
        if idempotency_key is not None:
            idempotency_key["description"] = _IDEMPOTENCY_KEY_DESCRIPTION
        for status, response in responses.items():
            names = _response_headers(
                status,
                conditional_read=conditional_read,
                versioned=if_match is not None or bool(versioned_schemas & set(_response_schema_names(response))),
                idempotent=idempotency_key is not None,
                located=path in collections,
            )
            response.setdefault("headers", {}).update({name: _header_ref(name) for name in names})
    return document


def _response_schema_names(response: dict[str, Any]) -> list[str]:
    return _schema_names(response.get("content", {}).get("application/json", {}).get("schema", {}))


def _versioned_schemas(document: dict[str, Any]) -> set[str]:
    """The resources changed under `If-Match` (the ticket): every answer holding one sends its `ETag`."""
    return {
        name
        for _path, _method, operation in operations(document)
        if _parameter(operation, "If-Match") is not None
        for status, response in operation.get("responses", {}).items()
        if status.startswith("2")
        for name in _response_schema_names(response)
    }


def _response_headers(
    status: str, *, conditional_read: bool, versioned: bool, idempotent: bool, located: bool
) -> list[str]:
    names = ["X-Request-ID"]
    if status in {"429", "503"}:
        names.append("Retry-After")
    if status == "405":
        names.append("Allow")
    if (status in {"200", "304"} and (conditional_read or versioned)) or (status == "201" and versioned):
        names.append("ETag")
    if status in {"200", "304"} and conditional_read:
        names.append("Cache-Control")
    if status == "201" and idempotent:
        names.append("Idempotent-Replayed")
    if status == "201" and located:
        names.append("Location")
    return names


def build_document(
    *,
    title: str,
    version: str,
    description: str | None,
    routes: Sequence[BaseRoute],
    tags: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """A service's document, described, with its problems and headers."""
    document = get_openapi(title=title, version=version, description=description, routes=routes, tags=tags)
    describe_operations(document, routes)
    rewrite_problem_responses(document)
    return declare_headers(document)


def install_problem_openapi(app: FastAPI, *, tags: list[dict[str, Any]] | None = None) -> None:
    def build() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = build_document(
                title=app.title, version=app.version, description=app.description, routes=app.routes, tags=tags
            )
        return app.openapi_schema

    app.openapi = build  # type: ignore[method-assign]
