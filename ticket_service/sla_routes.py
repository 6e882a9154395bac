"""The 1-3-5 clock: sweeps by the SLA worker, and their status (督办)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse

from services.auth import Principal, Role, require_roles
from services.db import SessionDep, SessionFactoryDep, utcnow
from services.errors import problem_responses
from services.observability import request_id_var
from ticket_service import sla_operations
from ticket_service.dependencies import TicketContextDep
from ticket_service.schemas import SlaStatus, SweepAccepted, SweepReportRead, SweepRequest

router = APIRouter(prefix="/api/v1/sla", tags=["sla"])
SlaOperator = Annotated[Principal, Depends(require_roles(Role.ADMIN, Role.SUPERVISOR))]


@router.post(
    "/sweep",
    status_code=202,
    response_model=SweepAccepted,
    responses={
        200: {"model": SweepReportRead, "description": "The report of a dry run"},
        **problem_responses(400, 401, 403, 422, 503),
    },
)
async def run_sla_sweep(
    request: Request,
    factory: SessionFactoryDep,
    context: TicketContextDep,
    _: SlaOperator,
    body: SweepRequest | None = None,
) -> Response:
    """Run the SLA sweep now: queued for the worker (202), or a dry run reported at once (admin, supervisor)."""
    body = body or SweepRequest()
    status, answer = await sla_operations.request_sweep(
        factory,
        context=context,
        queue=request.state.queue,
        as_of=body.as_of,
        now=utcnow(),
        dry_run=body.dry_run,
        request_id=request_id_var.get(),
    )
    return JSONResponse(jsonable_encoder(answer), status_code=status)


@router.get("/status", response_model=SlaStatus, responses=problem_responses(401, 403))
async def get_sla_status(request: Request, session: SessionDep, _: SlaOperator) -> Any:
    """The last sweep, the worker's heartbeat, the queue and the outbox backlog (admin, supervisor)."""
    return await sla_operations.status(session, queue=request.state.queue)
