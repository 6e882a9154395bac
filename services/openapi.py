"""OpenAPI post-processing: error responses are `application/problem+json`.

FastAPI files declared error schemas under `application/json` and documents 422 with its own
`HTTPValidationError`; this rewrites every 4xx/5xx to the problem media type, points 422 at
`ValidationProblem` and documents the 400 that a malformed JSON body gets.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import TypeAdapter

from services.errors import PROBLEM_MEDIA_TYPE, FieldError, Problem, ValidationProblem

_HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}


def _problem_schemas() -> dict[str, Any]:
    schemas: dict[str, Any] = {}
    for model in (Problem, FieldError, ValidationProblem):
        schema = TypeAdapter(model).json_schema(ref_template="#/components/schemas/{model}")
        schema.pop("$defs", None)
        schemas[model.__name__] = schema
    return schemas


def _ref(name: str) -> dict[str, Any]:
    return {"schema": {"$ref": f"#/components/schemas/{name}"}}


def rewrite_problem_responses(document: dict[str, Any]) -> dict[str, Any]:
    components = document.setdefault("components", {}).setdefault("schemas", {})
    components.update(_problem_schemas())
    components.pop("HTTPValidationError", None)
    components.pop("ValidationError", None)
    for path_item in document.get("paths", {}).values():
        for method, operation in path_item.items():
            if method not in _HTTP_METHODS:
                continue
            responses: dict[str, Any] = operation.setdefault("responses", {})
            if "requestBody" in operation:
                responses.setdefault("400", {"description": "Malformed request body"})
            for status, response in responses.items():
                if status[:1] not in {"4", "5"}:
                    continue
                name = "ValidationProblem" if status == "422" else "Problem"
                response["content"] = {PROBLEM_MEDIA_TYPE: _ref(name)}
    return document


def install_problem_openapi(app: FastAPI, *, tags: list[dict[str, Any]] | None = None) -> None:
    def build() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
                tags=tags,
            )
            app.openapi_schema = rewrite_problem_responses(document)
        return app.openapi_schema

    app.openapi = build  # type: ignore[method-assign]
