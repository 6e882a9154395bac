"""Enterprises and their unified social credit codes."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Path, Query, Request, Response

from services.auth import Principal, Role, require_roles
from services.db import AutocommitDep, SessionDep
from services.errors import problem_responses
from services.pagination import Page, PageDep
from services.responses import locate
from ticket_service import enterprises as domain
from ticket_service import openapi_examples
from ticket_service.schemas import (
    EnterpriseChangeRead,
    EnterpriseCreate,
    EnterpriseRead,
    EnterpriseSize,
    EnterpriseUpdate,
)

router = APIRouter(prefix="/api/v1/enterprises", tags=["enterprises"])
EnterpriseRegistrar = Annotated[Principal, Depends(require_roles(Role.DISPATCHER, Role.ADMIN))]
EnterpriseReader = Annotated[
    Principal, Depends(require_roles(Role.ENTERPRISE, Role.STAFF, Role.DISPATCHER, Role.SUPERVISOR, Role.ADMIN))
]
EnterpriseEditor = Annotated[Principal, Depends(require_roles(Role.ENTERPRISE, Role.DISPATCHER, Role.ADMIN))]
ChangeReader = Annotated[Principal, Depends(require_roles(Role.SUPERVISOR, Role.ADMIN))]
EnterpriseIdPath = Annotated[str, Path(max_length=36)]


@router.post("", status_code=201, response_model=EnterpriseRead, responses=problem_responses(400, 401, 403, 409, 422))
async def create_enterprise(
    request: Request,
    response: Response,
    session: SessionDep,
    principal: EnterpriseRegistrar,
    body: Annotated[EnterpriseCreate, Body(openapi_examples=openapi_examples.ENTERPRISE)],
) -> Any:
    """Register an enterprise with its unified social credit code (dispatcher, admin)."""
    enterprise = await domain.register_enterprise(session, data=body, principal=principal)
    locate(request, response, enterprise["id"])
    return enterprise


@router.get("", response_model=Page[EnterpriseRead], responses=problem_responses(400, 401, 403, 422))
async def list_enterprises(
    db: AutocommitDep,
    principal: EnterpriseReader,
    page: PageDep,
    q: Annotated[str | None, Query(min_length=1, max_length=100)] = None,
    size: EnterpriseSize | None = None,
) -> Any:
    """List enterprises; an enterprise account sees only its own (enterprise, staff, dispatcher, supervisor, admin)."""
    items, next_cursor = await domain.list_enterprises(db, principal=principal, page=page, q=q, size=size)
    return {"items": items, "next_cursor": next_cursor}


@router.get("/{enterprise_id}", response_model=EnterpriseRead, responses=problem_responses(400, 401, 403, 404, 422))
async def get_enterprise(db: AutocommitDep, principal: EnterpriseReader, enterprise_id: EnterpriseIdPath) -> Any:
    """One enterprise; an enterprise account only its own (enterprise, staff, dispatcher, supervisor, admin)."""
    return await domain.get_enterprise(db, enterprise_id=enterprise_id, principal=principal)


@router.patch("/{enterprise_id}", response_model=EnterpriseRead, responses=problem_responses(400, 401, 403, 404, 422))
async def update_enterprise(
    session: SessionDep, principal: EnterpriseEditor, enterprise_id: EnterpriseIdPath, body: EnterpriseUpdate
) -> Any:
    """Change an enterprise's details; an enterprise only its own contacts (enterprise, dispatcher, admin)."""
    return await domain.update_enterprise(session, enterprise_id=enterprise_id, data=body, principal=principal)


@router.get(
    "/{enterprise_id}/changes",
    response_model=Page[EnterpriseChangeRead],
    responses=problem_responses(400, 401, 403, 404, 422),
)
async def list_enterprise_changes(
    db: AutocommitDep, _: ChangeReader, enterprise_id: EnterpriseIdPath, page: PageDep
) -> Any:
    """Who changed its name, size, Taiwan funding, industry or park, and how (supervisor, admin)."""
    items, next_cursor = await domain.list_changes(db, enterprise_id=enterprise_id, page=page)
    return {"items": items, "next_cursor": next_cursor}
