"""不满意研判: a supervisor rules an unsatisfied rating unreasonable."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Path

from services.auth import Principal, Role, require_roles
from services.db import SessionDep
from services.errors import problem_responses
from ticket_service import adjudication, openapi_examples
from ticket_service.dependencies import TicketContextDep
from ticket_service.stats_schemas import AdjudicationBody, AdjudicationRead

router = APIRouter(prefix="/api/v1", tags=["tickets"])
Supervisor = Annotated[Principal, Depends(require_roles(Role.SUPERVISOR))]


@router.post(
    "/tickets/{ticket_id}/feedback/{resolution_round}/adjudication",
    operation_id="rule_out_rating",
    summary="Rule an unsatisfied rating unreasonable (不满意研判)",
    description="The rating stays on the record and in the audit trail (the department and the enterprise see the "
    "reason); it leaves the satisfaction denominator. Once per rating. Supervisors only.",
    status_code=201,
    response_model=AdjudicationRead,
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def rule_out_rating(
    session: SessionDep,
    principal: Supervisor,
    context: TicketContextDep,
    ticket_id: Annotated[str, Path(min_length=1, max_length=64)],
    resolution_round: Annotated[int, Path(ge=1, le=1000)],
    body: Annotated[AdjudicationBody, Body(openapi_examples=openapi_examples.ADJUDICATION)],
) -> Any:
    """Rule an unsatisfied rating unreasonable (supervisor)."""
    return await adjudication.rule_out(
        session,
        context=context,
        ticket_id=ticket_id,
        resolution_round=resolution_round,
        principal=principal,
        reason=body.reason,
    )
