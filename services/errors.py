"""RFC 9457 problem responses: exception classes that carry status and a stable `code`.

Every service installs `install_problem_handlers`, so every error a client can see is an
`application/problem+json` body with `type`, `title`, `status`, `detail` and `code`, and no
traceback ever leaves the process.
"""

from __future__ import annotations

import errno
import json
import logging
import socket
from collections.abc import Iterator, Mapping, Sequence
from http import HTTPStatus
from types import MappingProxyType
from typing import Any, ClassVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm.exc import StaleDataError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import Send

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_TYPE_BASE = "https://965808.example.gov.cn/problems/"

logger = logging.getLogger("services.errors")


def meanings(**codes: str) -> Mapping[str, str]:
    """A problem class's `codes`: each code it may carry and what it means to a client."""
    return MappingProxyType(codes)


class ProblemFields(BaseModel):
    """Fields some problems carry beside RFC 9457's; a subclass names them, and the OpenAPI
    document gives the problems that carry them a schema of that subclass's name."""


class StateProblem(ProblemFields):
    """An action refused because of the resource's state or the caller's relation to it."""

    state: str = Field(description="The resource's status when the action was refused.", examples=["closed"])
    action: str = Field(description="The action that was refused.", examples=["accept"])


class ProblemError(Exception):
    """Base class: raise a subclass (or this with arguments) to answer with a problem.

    `codes` names every `code` instances of the class itself may carry (a subclass lists
    its own) with what it means to a client; the OpenAPI document's closed list of codes
    is read from them. `fields` names the extra body fields the class's problems carry."""

    status: int = 400
    code: str = "bad_request"
    title: str = "Bad request"
    codes: ClassVar[Mapping[str, str]] = meanings(
        internal_error="Something failed inside the platform; it is logged under the request's id.",
        error="An HTTP error with no more specific code.",
    )
    fields: ClassVar[type[ProblemFields] | None] = None

    def __init__(
        self,
        detail: str | None = None,
        *,
        code: str | None = None,
        status: int | None = None,
        title: str | None = None,
        headers: Mapping[str, str] | None = None,
        **extra: Any,
    ) -> None:
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        if title is not None:
            self.title = title
        self.detail = detail or self.title
        self.headers = dict(headers or {})
        self.extra = extra
        super().__init__(self.detail)

    def to_body(self, instance: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": PROBLEM_TYPE_BASE + self.code,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            "code": self.code,
        }
        if instance:
            body["instance"] = instance
        body.update(self.extra)
        if self.status == 422:
            body.setdefault("errors", [])
        return body


class BadRequest(ProblemError):
    status, code, title = 400, "bad_request", "Bad request"
    codes = meanings(
        bad_request="The request is malformed.",
        malformed_json="The request body is not valid JSON.",
        invalid_cursor="The `cursor` is not a `next_cursor` this API issued.",
    )


class NotAuthenticated(ProblemError):
    status, code, title = 401, "not_authenticated", "Authentication required"
    codes = meanings(
        not_authenticated="The operation needs a bearer token and none was sent.",
        invalid_token="The bearer token is not one the platform issued, or names an unknown role.",
        token_expired="The bearer token has expired; get a new one.",
        invalid_internal_token="An internal endpoint was called without the platform's internal token.",
    )

    def __init__(self, detail: str | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("headers", {"WWW-Authenticate": "Bearer"})
        super().__init__(detail, **kwargs)


class Forbidden(ProblemError):
    status, code, title = 403, "forbidden", "Forbidden"
    codes = meanings(
        forbidden="The caller may not do this.",
        role_not_allowed="The caller's role may not call this operation (see its description).",
    )


class NotFound(ProblemError):
    status, code, title = 404, "not_found", "Not found"
    codes = meanings(not_found="No such path or resource.")


class Conflict(ProblemError):
    status, code, title = 409, "conflict", "Conflict"
    codes = meanings(
        conflict="The change conflicts with data saved at the same time; retry.",
        concurrent_update="Another change to this resource was saved first; reload and retry.",
    )


class PreconditionFailed(ProblemError):
    status, code, title = 412, "precondition_failed", "Precondition failed"
    codes = meanings(precondition_failed="A precondition header does not hold.")


class Unprocessable(ProblemError):
    status, code, title = 422, "unprocessable", "Unprocessable request"
    codes = meanings(
        unprocessable="The request cannot be carried out as sent.",
        validation_error="Fields are missing or invalid; `errors` lists each with its location.",
    )


class PayloadTooLarge(ProblemError):
    status, code, title = 413, "payload_too_large", "Payload too large"
    codes = meanings(payload_too_large="The request body is larger than the platform accepts.")


class TooManyRequests(ProblemError):
    status, code, title = 429, "rate_limited", "Too many requests"
    codes = meanings(rate_limited="Too many requests; wait `Retry-After` seconds.")


class UpstreamUnavailable(ProblemError):
    status, code, title = 503, "upstream_unavailable", "A service this request needs is unavailable"
    codes = meanings(
        upstream_unavailable="A service this request needs is unavailable; nothing was saved.",
        queue_unavailable="The job queue is unreachable; nothing was queued.",
    )
    retry_after_seconds: ClassVar[int] = 5

    def __init__(self, detail: str | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("headers", {"Retry-After": str(self.retry_after_seconds)})
        super().__init__(detail, **kwargs)


class MetricsTokenRequired(NotAuthenticated):
    codes = meanings(metrics_token_required="`/metrics` is read from the host itself or with the metrics token.")

    def __init__(self) -> None:
        super().__init__(
            "Metrics are read from this host directly, or with the metrics token.",
            code="metrics_token_required",
            headers={"WWW-Authenticate": "Bearer"},
        )


class DatabaseUnavailable(UpstreamUnavailable):
    code, title = "database_unavailable", "The database is unavailable"
    codes = meanings(
        database_unavailable="The database cannot take the request now (restarting, read-only or full); retry"
        " after `Retry-After` seconds."
    )


# SQLSTATE classes and codes that mean the database cannot take the request now, not that the
# request is wrong: connection exceptions, operator intervention (shutdown, starting up),
# insufficient resources (disk full, out of memory) and a read-only transaction.
UNAVAILABLE_SQLSTATE_PREFIXES = ("08", "57P", "53", "25006")
UNAVAILABLE_SQLITE_MESSAGES = ("disk is full", "readonly database", "unable to open database file", "disk i/o error")
DATABASE_RETRY_AFTER_SECONDS = 5
# What connecting to a database that is down raises before the driver wraps anything.
UNREACHABLE_OS_ERRORS = (ConnectionError, TimeoutError, socket.gaierror)


def database_unavailable(exc: BaseException) -> DatabaseUnavailable | None:
    """The 503 problem for an error that says the database is down, full or read-only, else None."""
    original = exc.orig if isinstance(exc, DBAPIError) else exc
    sqlstate = str(getattr(original, "sqlstate", "") or "")
    if not (sqlstate or isinstance(exc, (DBAPIError, PoolTimeout, OSError))):
        return None
    if isinstance(exc, OSError) and not isinstance(exc, UNREACHABLE_OS_ERRORS) and exc.errno != errno.ENOSPC:
        return None
    message = str(original).lower()
    if sqlstate == "25006" or "read-only" in message or "readonly" in message:
        reason = "it accepts no writes at the moment (read-only). Nothing was changed"
    elif sqlstate == "53100" or "disk is full" in message or "no space left" in message:
        reason = "its disk is full. Nothing was changed"
    elif (
        isinstance(exc, (PoolTimeout, *UNREACHABLE_OS_ERRORS))
        or (isinstance(exc, DBAPIError) and exc.connection_invalidated)
        or sqlstate.startswith(UNAVAILABLE_SQLSTATE_PREFIXES)
        or any(text in message for text in UNAVAILABLE_SQLITE_MESSAGES)
        or type(original).__name__ in {"ConnectionDoesNotExistError", "InterfaceError", "CannotConnectNowError"}
    ):
        # The connection may have dropped during a commit: the write may or may not have happened.
        reason = "it cannot be reached"
    else:
        return None
    return DatabaseUnavailable(
        f"The database is unavailable: {reason}; retry shortly.",
        headers={"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)},
    )


class BadGateway(ProblemError):
    status, code, title = 502, "bad_gateway", "Upstream service unreachable"
    codes = meanings(bad_gateway="The gateway could not reach the service behind this path.")


class GatewayTimeout(ProblemError):
    status, code, title = 504, "gateway_timeout", "Upstream service timed out"
    codes = meanings(gateway_timeout="The service behind this path did not answer in time.")


class MethodNotAllowed(ProblemError):
    status, code, title = 405, "method_not_allowed", "Method not allowed"
    codes = meanings(method_not_allowed="The path exists, but not with this method; `Allow` lists its methods.")


class NotAcceptable(ProblemError):
    status, code, title = 406, "not_acceptable", "Not acceptable"
    codes = meanings(not_acceptable="The API answers JSON only.")


class UnsupportedMediaType(ProblemError):
    status, code, title = 415, "unsupported_media_type", "Unsupported media type"
    codes = meanings(unsupported_media_type="The body's media type is not one the operation reads.")


def problem_classes() -> Iterator[type[ProblemError]]:
    """Every problem class defined so far (import a service's `errors` module to include its own)."""
    pending: list[type[ProblemError]] = [ProblemError]
    while pending:
        cls = pending.pop(0)
        yield cls
        pending.extend(cls.__subclasses__())


def problem_codes() -> dict[str, str]:
    """Every code the loaded problem classes declare, with its meaning, sorted by code."""
    found: dict[str, str] = {}
    for cls in problem_classes():
        for code, meaning in cls.__dict__.get("codes", {}).items():
            found.setdefault(code, meaning)
    return dict(sorted(found.items()))


class Problem(BaseModel):
    """An RFC 9457 problem document."""

    type: str = Field(examples=[PROBLEM_TYPE_BASE + "not_found"])
    title: str = Field(examples=["Not found"])
    status: int = Field(examples=[404])
    detail: str = Field(examples=["item KJ-999 does not exist"])
    code: str = Field(description="Stable machine-readable error code.", examples=["not_found"])
    instance: str | None = None


class FieldError(BaseModel):
    loc: list[str | int]
    msg: str
    type: str


class ValidationProblem(Problem):
    """A problem listing every invalid field."""

    errors: list[FieldError]


async def send_problem(send: Send, problem: ProblemError, path: str) -> None:
    """Answer with `problem` from pure ASGI code, where no exception handler runs."""
    body = json.dumps(problem.to_body(path), ensure_ascii=False).encode()
    headers = [(b"content-type", PROBLEM_MEDIA_TYPE.encode()), (b"content-length", str(len(body)).encode())]
    headers.extend((k.lower().encode(), v.encode()) for k, v in problem.headers.items())
    await send({"type": "http.response.start", "status": problem.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def problem_response(status: int, body: dict[str, Any], headers: Mapping[str, str] | None = None) -> JSONResponse:
    return JSONResponse(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


_STATUS_CODES: dict[int, str] = {
    cls.status: cls.code
    for cls in (
        BadRequest,
        NotAuthenticated,
        Forbidden,
        NotFound,
        MethodNotAllowed,
        NotAcceptable,
        Conflict,
        PayloadTooLarge,
        UnsupportedMediaType,
        TooManyRequests,
    )
}


def _clean_errors(errors: Sequence[Any]) -> list[dict[str, Any]]:
    cleaned = []
    for error in errors:
        cleaned.append(
            {
                "loc": [part if isinstance(part, (str, int)) else str(part) for part in error.get("loc", ())],
                "msg": str(error.get("msg", "")),
                "type": str(error.get("type", "")),
            }
        )
    return cleaned


def _respond(request: Request, problem: ProblemError) -> JSONResponse:
    return problem_response(problem.status, problem.to_body(request.url.path), problem.headers)


async def _handle_problem(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ProblemError)
    return _respond(request, exc)


async def _handle_validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    if any(error.get("type") == "json_invalid" for error in errors):
        return _respond(request, BadRequest("The request body is not valid JSON.", code="malformed_json"))
    cleaned = _clean_errors(errors)
    fields = ", ".join(".".join(str(p) for p in e["loc"]) for e in cleaned)
    problem = Unprocessable(
        f"Invalid request: {fields}." if fields else "Invalid request.",
        code="validation_error",
        errors=cleaned,
    )
    return _respond(request, problem)


async def _handle_http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    status = exc.status_code
    title = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"
    code = _STATUS_CODES.get(status, "error")
    detail = exc.detail if isinstance(exc.detail, str) else title
    headers = getattr(exc, "headers", None)
    return _respond(request, ProblemError(detail, code=code, status=status, title=title, headers=headers))


async def _handle_unexpected(request: Request, exc: Exception) -> JSONResponse:
    unavailable = database_unavailable(exc)
    if unavailable is not None:
        logger.warning("database unavailable on %s %s: %s", request.method, request.url.path, exc)
        return _respond(request, unavailable)
    logger.exception("unhandled error on %s %s", request.method, request.url.path)
    problem = ProblemError(
        "An internal error occurred; it has been logged.",
        code="internal_error",
        status=500,
        title="Internal server error",
    )
    return _respond(request, problem)


async def _handle_integrity(request: Request, exc: Exception) -> JSONResponse:
    # A uniqueness race that the domain checks could not see (two requests at once).
    logger.warning("integrity error on %s %s: %s", request.method, request.url.path, exc)
    return _respond(request, Conflict("The change conflicts with data saved at the same time; retry.", code="conflict"))


async def _handle_stale(request: Request, exc: Exception) -> JSONResponse:
    problem = Conflict("Another change to this resource was saved first; reload and retry.", code="concurrent_update")
    return _respond(request, problem)


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ProblemError, _handle_problem)
    app.add_exception_handler(IntegrityError, _handle_integrity)
    app.add_exception_handler(StaleDataError, _handle_stale)
    # Handled here rather than as 500s, so a database outage logs no traceback per request.
    for storage_error in (DBAPIError, PoolTimeout, OSError):
        app.add_exception_handler(storage_error, _handle_unexpected)
    app.add_exception_handler(RequestValidationError, _handle_validation)
    app.add_exception_handler(StarletteHTTPException, _handle_http)
    app.add_exception_handler(Exception, _handle_unexpected)


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` entries documenting problem statuses of an operation."""
    out: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        model: type[Problem] = ValidationProblem if status == 422 else Problem
        out[status] = {"model": model, "description": HTTPStatus(status).phrase}
    return out
