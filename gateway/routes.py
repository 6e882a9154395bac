"""The gateway's own endpoints: tokens, who-am-I, health, the merged OpenAPI and /docs."""

from __future__ import annotations

import asyncio
import base64
import binascii
import time
from typing import Annotated, Any

import httpx
from fastapi import APIRouter, Form, Request
from fastapi.responses import JSONResponse

from gateway import service
from gateway.accounts import router as accounts_router
from gateway.board import router as board_router
from gateway.errors import InvalidTokenRequest
from gateway.login_throttle import throttled
from gateway.openapi import merge_documents
from gateway.revocation import copy_ttl_seconds, publish_version
from gateway.schemas import MeRead, TokenRead
from services.app import database_check, health_response
from services.auth import CurrentPrincipal, issue_token
from services.db import SessionDep
from services.docs import docs_router
from services.errors import problem_responses

router = APIRouter()
auth = APIRouter(prefix="/api/v1/auth", tags=["auth"])


def _basic_credentials(request: Request) -> tuple[str, str] | None:
    header = request.headers.get("authorization", "")
    if not header.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise InvalidTokenRequest("Malformed Basic credentials.") from exc
    client_id, _, secret = decoded.partition(":")
    return client_id, secret


@auth.post(
    "/token",
    response_model=TokenRead,
    responses=problem_responses(400, 401, 422, 429),
    summary="Get an access token",
    operation_id="issue_token",
)
async def token(
    request: Request,
    session: SessionDep,
    grant_type: Annotated[str, Form(pattern="^(password|client_credentials)$")] = "password",
    username: Annotated[str | None, Form(max_length=64)] = None,
    password: Annotated[str | None, Form(max_length=256)] = None,
    client_id: Annotated[str | None, Form(max_length=64)] = None,
    client_secret: Annotated[str | None, Form(max_length=256)] = None,
    scope: Annotated[str, Form(max_length=500)] = "",
) -> TokenRead:
    """OAuth2 token endpoint: password flow for people, client credentials for integrations (anyone)."""
    settings = request.state.settings
    address = request.client.host if request.client else "unknown"
    if grant_type == "password":
        if not username or password is None:
            raise InvalidTokenRequest("username and password are required.")
        account, secret = username, password
        principal = await throttled(
            request.state.rate_limiter,
            settings,
            subject=account,
            address=address,
            attempt=lambda: service.authenticate_account(session, username=account, password=secret),
        )
    else:
        basic = _basic_credentials(request)
        if basic is not None:
            client_id, client_secret = basic
        if not client_id or client_secret is None:
            raise InvalidTokenRequest("client_id and client_secret are required.")
        client, client_key = client_id, client_secret
        principal = await throttled(
            request.state.rate_limiter,
            settings,
            subject=f"client:{client}",
            address=address,
            attempt=lambda: service.authenticate_client(session, client_id=client, client_secret=client_key),
        )
    access_token, expires_in = issue_token(settings, principal)
    if principal.token_version:
        # Restores the copy of a raised version that a Redis outage may have lost.
        await publish_version(
            request.state.redis,
            subject=principal.subject,
            version=principal.token_version,
            ttl_seconds=copy_ttl_seconds(settings),
        )
    return TokenRead(access_token=access_token, expires_in=expires_in)


@auth.get("/me", response_model=MeRead, responses=problem_responses(401))
async def get_me(principal: CurrentPrincipal) -> MeRead:
    """The caller's identity as the token states it (any authenticated caller)."""
    return MeRead(
        subject=principal.subject,
        role=principal.role.value,
        department_code=principal.department_code,
        enterprise_id=principal.enterprise_id,
        scopes=list(principal.scopes),
    )


async def _upstream_get(client: httpx.AsyncClient, path: str, limit_seconds: float) -> httpx.Response:
    async with asyncio.timeout(limit_seconds):
        return await client.get(path)


async def _check_upstream(client: httpx.AsyncClient) -> str:
    try:
        response = await _upstream_get(client, "/health", 3.0)
    except (httpx.HTTPError, TimeoutError, OSError) as exc:
        return f"error: {type(exc).__name__}"
    return "ok" if response.status_code == 200 else f"error: status {response.status_code}"


async def _check_redis(request: Request) -> str:
    redis = request.state.redis
    try:
        await asyncio.wait_for(redis.ping(), 2.0)
    except Exception as exc:  # any failure is reported, never raised
        return f"error: {type(exc).__name__}"
    return "ok"


@router.get("/health", tags=["health"], summary="Health of the platform")
async def get_health(request: Request) -> JSONResponse:
    """The gateway's database and Redis and every upstream service; 503 if any is down (anyone)."""
    clients: dict[str, httpx.AsyncClient] = request.state.upstream_clients
    names = list(clients)
    results = await asyncio.gather(
        database_check(request.state.engine),
        _check_redis(request),
        *(_check_upstream(clients[name]) for name in names),
    )
    checks = {"database": results[0], "redis": results[1]}
    checks.update({f"service:{name}": result for name, result in zip(names, results[2:], strict=True)})
    return health_response("gateway", checks)


@router.get("/health/live", tags=["health"], summary="Liveness of the gateway")
async def get_liveness() -> JSONResponse:
    """200 while the gateway process serves requests; checks nothing else (anyone)."""
    return health_response("gateway", {})


@router.get("/health/ready", tags=["health"], summary="Readiness of the gateway")
async def get_readiness(request: Request) -> JSONResponse:
    """The gateway's own database and Redis; 503 if either is down (anyone). A service that is
    down does not take the gateway out of rotation: its routes answer 502 and the rest work."""
    database, redis = await asyncio.gather(database_check(request.state.engine), _check_redis(request))
    return health_response("gateway", {"database": database, "redis": redis})


async def merged_openapi(request: Request) -> dict[str, Any]:
    state = request.state
    cache: dict[str, Any] = state.openapi_cache
    settings = state.settings
    now = time.monotonic()
    if cache.get("document") is not None and now - cache["built_at"] < settings.openapi_cache_seconds:
        return cache["document"]  # type: ignore[no-any-return]
    clients: dict[str, httpx.AsyncClient] = state.upstream_clients
    documents: dict[str, dict[str, Any]] = {}
    missing: list[str] = []
    for name, client in clients.items():
        try:
            response = await _upstream_get(client, "/openapi.json", 5.0)
            response.raise_for_status()
            documents[name] = response.json()
        except (httpx.HTTPError, TimeoutError, OSError, ValueError):
            missing.append(name)
    document = merge_documents(state.gateway_openapi, documents, missing=missing)
    if not missing:
        cache.update(document=document, built_at=now)
    return document


@router.get("/openapi.json", include_in_schema=False)
async def openapi_document(request: Request) -> JSONResponse:
    return JSONResponse(await merged_openapi(request))


router.include_router(auth)
router.include_router(docs_router(title="965808 platform API"))
router.include_router(accounts_router)
router.include_router(board_router)
