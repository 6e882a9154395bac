"""Ordering from the menu (点菜单)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from services.auth import Principal, Role, require_roles
from services.db import DatabaseDep
from services.errors import problem_responses
from ticket_service import creation
from ticket_service.context import TicketContextDep
from ticket_service.schemas import OrderCreate, OrderRead
from ticket_service.ticket_routes import IdempotencyKeyHeader, created_response, once

router = APIRouter(prefix="/api/v1")
OrderPlacer = Annotated[Principal, Depends(require_roles(Role.ENTERPRISE))]


@router.post(
    "/orders",
    status_code=201,
    response_model=OrderRead,
    tags=["orders"],
    responses=problem_responses(400, 401, 403, 409, 422, 503),
)
async def create_order(
    request: Request,
    database: DatabaseDep,
    principal: OrderPlacer,
    context: TicketContextDep,
    body: OrderCreate,
    idempotency_key: IdempotencyKeyHeader = None,
) -> Any:
    """Order items from the current menu; each becomes a ticket for its lead department (enterprise)."""
    created = await creation.place_order(
        database,
        context=context,
        principal=principal,
        lines=[(line.item_code, line.note) for line in body.items],
        once=once(request, principal, idempotency_key, body),
    )
    return created_response(created)
