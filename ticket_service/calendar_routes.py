"""The working-day calendar (工作日): deadlines, years, and the admin's overlay."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic import TypeAdapter

from services.auth import AdminPrincipal, Principal, Role, require_roles
from services.db import AutocommitDep, SessionDep, utcnow
from services.errors import problem_responses
from services.responses import NOT_MODIFIED, cached_json
from services.workdays import MAX_YEAR, MIN_YEAR, SLA_PROFILE_SCHEMA, OverlayDay
from ticket_service import calendar_service
from ticket_service.context import TicketContext
from ticket_service.schemas import CalendarChangeRead, CalendarYearRead, CalendarYearUpdate, DeadlinesRead

router = APIRouter(prefix="/api/v1/calendar", tags=["calendar"])

YearPath = Annotated[int, Path(ge=MIN_YEAR, le=MAX_YEAR, description=f"{MIN_YEAR}–{MAX_YEAR}", examples=[2027])]
SupervisorOrAdmin = Annotated[Principal, Depends(require_roles(Role.ADMIN, Role.SUPERVISOR))]

_year_adapter: TypeAdapter[CalendarYearRead] = TypeAdapter(CalendarYearRead)


def _cache(request: Request) -> calendar_service.CalendarCache:
    context: TicketContext = request.state.ticket_context
    return context.calendar_cache


@router.get("/deadlines", response_model=DeadlinesRead, responses=problem_responses(400, 422))
async def compute_deadlines(
    request: Request,
    db: AutocommitDep,
    received_at: Annotated[
        datetime | None,
        Query(
            description=f"RFC 3339 instant with offset, in {MIN_YEAR}–{MAX_YEAR}; now if omitted.",
            examples=["2026-09-30T10:00:00+08:00"],
        ),
    ] = None,
    profile: Annotated[
        str,
        Query(
            max_length=16,
            description="accept-resolve-final working days, each 1–60, non-decreasing",
            json_schema_extra=SLA_PROFILE_SCHEMA,
        ),
    ] = "1-3-5",
) -> DeadlinesRead:
    """The accept, resolve and final deadlines for a request received at an instant (anyone)."""
    instant = received_at or utcnow()
    found = await calendar_service.deadlines_for(db, cache=_cache(request), received_at=instant, profile=profile)
    return DeadlinesRead.model_validate(found)


@router.get("/{year}", response_model=CalendarYearRead, responses={**problem_responses(400, 422), **NOT_MODIFIED})
async def get_calendar_year(request: Request, db: AutocommitDep, year: YearPath) -> Response:
    """Every holiday, make-up working day and overlay row of a year, and whether the year is official (anyone)."""
    view = await calendar_service.year_of(db, cache=_cache(request), year=year)
    return cached_json(request, _year_adapter, view)


@router.put("/{year}", response_model=CalendarYearRead, responses=problem_responses(400, 401, 403, 422))
async def put_calendar_year(
    request: Request, session: SessionDep, principal: AdminPrincipal, year: YearPath, body: CalendarYearUpdate
) -> Any:
    """Replace a year's overlay, e.g. load the State Council's notice for a new year (admin)."""
    rows = [OverlayDay(day=row.date, is_workday=row.is_workday, note=row.note) for row in body.days]
    return await calendar_service.replace_year(
        session, cache=_cache(request), year=year, rows=rows, complete=body.complete, actor=principal
    )


@router.get("/{year}/changes", response_model=list[CalendarChangeRead], responses=problem_responses(400, 401, 403, 422))
async def list_calendar_changes(db: AutocommitDep, _: SupervisorOrAdmin, year: YearPath) -> Any:
    """Who changed a year's overlay, when, and from what to what (admin, supervisor)."""
    return await calendar_service.list_changes(db, year=year)
