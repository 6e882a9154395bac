"""Endpoints for the platform's own services (not in the public document; the gateway does not
route /internal): the hotline's calls and ratings, passed on by the notification service."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from services.db import DatabaseDep, SessionDep
from services.errors import problem_responses
from services.internal import InternalCaller
from ticket_service import hotline
from ticket_service.dependencies import TicketContextDep
from ticket_service.schemas import FeedbackRead, HotlineCallCreate, HotlineCallFiled, HotlineFeedbackCreate

router = APIRouter(prefix="/internal", tags=["internal"], include_in_schema=False)


@router.post("/hotline-calls", response_model=HotlineCallFiled, responses=problem_responses(400, 401, 422, 503))
async def file_hotline_call(
    _: InternalCaller, database: DatabaseDep, context: TicketContextDep, body: HotlineCallCreate
) -> JSONResponse:
    """A verified hotline call becomes a ticket once: 201 the first time, 200 with the same ticket after."""
    receipt = await hotline.file_call(database, context=context, call=body)
    return JSONResponse(
        HotlineCallFiled(**receipt).model_dump(mode="json"), status_code=201 if receipt["created"] else 200
    )


@router.post(
    "/hotline-feedback", status_code=201, response_model=FeedbackRead, responses=problem_responses(401, 404, 409, 422)
)
async def rate_hotline_call(
    _: InternalCaller, session: SessionDep, context: TicketContextDep, body: HotlineFeedbackCreate
) -> Any:
    """The caller's rating from the hotline's follow-up call (回访)."""
    return await hotline.rate_call(session, context=context, rating=body)
