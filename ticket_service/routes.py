"""Ticket-service endpoints: the working-day calendar and enterprises (tickets: `ticket_routes`)."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import TypeAdapter
from redis.exceptions import RedisError

from services.auth import AdminPrincipal, Principal, Role, require_roles
from services.db import AutocommitDep, SessionDep, SessionFactoryDep, utcnow
from services.errors import UpstreamUnavailable, problem_responses
from services.observability import request_id_var
from services.pagination import Page, PageDep
from services.responses import cached_json
from services.workdays import MAX_YEAR, MIN_YEAR, OverlayDay
from ticket_service import calendar_service, service
from ticket_service import sla as sla_service
from ticket_service.errors import InvalidInstant
from ticket_service.schemas import (
    CalendarChangeRead,
    CalendarYearRead,
    CalendarYearUpdate,
    DeadlinesRead,
    EnterpriseCreate,
    EnterpriseRead,
    EnterpriseSize,
    EnterpriseUpdate,
    SlaStatus,
    SweepAccepted,
    SweepReportRead,
    SweepRequest,
)

calendar = APIRouter(prefix="/api/v1/calendar", tags=["calendar"])

YearPath = Annotated[int, Path(ge=MIN_YEAR, le=MAX_YEAR, description=f"{MIN_YEAR}–{MAX_YEAR}")]
SupervisorOrAdmin = Annotated[Principal, Depends(require_roles(Role.ADMIN, Role.SUPERVISOR))]

_year_adapter: TypeAdapter[CalendarYearRead] = TypeAdapter(CalendarYearRead)


def _cache(request: Request) -> calendar_service.CalendarCache:
    cache: calendar_service.CalendarCache = request.state.calendar_cache
    return cache


@calendar.get("/deadlines", response_model=DeadlinesRead, responses=problem_responses(400, 422))
async def deadlines(
    request: Request,
    db: AutocommitDep,
    received_at: Annotated[
        datetime | None,
        Query(description="RFC 3339 instant with offset; now if omitted.", examples=["2026-09-30T10:00:00+08:00"]),
    ] = None,
    profile: Annotated[str, Query(max_length=16, description="accept-resolve-final working days")] = "1-3-5",
) -> DeadlinesRead:
    """The accept, resolve and final deadlines for a request received at an instant (anyone)."""
    sla = calendar_service.parse_profile(profile)
    instant = received_at or utcnow()
    work_calendar = await calendar_service.load_calendar(db, cache=_cache(request))
    result = calendar_service.compute_deadlines(work_calendar, received_at=instant, profile=sla)
    return DeadlinesRead(
        received_at=instant,
        profile=str(sla),
        accept_due=result.accept_due,
        resolve_due=result.resolve_due,
        final_due=result.final_due,
        provisional=result.provisional,
    )


@calendar.get("/{year}", response_model=CalendarYearRead, responses=problem_responses(400, 422))
async def get_year(request: Request, db: AutocommitDep, year: YearPath) -> Response:
    """Every holiday, make-up working day and overlay row of a year, and whether the year is official (anyone)."""
    work_calendar = await calendar_service.load_calendar(db, cache=_cache(request))
    overlay = await calendar_service.get_year_overlay(db, year=year)
    return cached_json(request, _year_adapter, calendar_service.year_view(work_calendar, year, overlay))


@calendar.put("/{year}", response_model=CalendarYearRead, responses=problem_responses(400, 401, 403, 422))
async def put_year(
    request: Request, session: SessionDep, principal: AdminPrincipal, year: YearPath, body: CalendarYearUpdate
) -> Any:
    """Replace a year's overlay, e.g. load the State Council's notice for a new year (admin)."""
    rows = [OverlayDay(day=row.date, is_workday=row.is_workday, note=row.note) for row in body.days]
    overlay = await calendar_service.replace_year_overlay(
        session, year=year, rows=rows, complete=body.complete, actor=principal
    )
    work_calendar = await calendar_service.load_calendar(session, cache=_cache(request))
    return calendar_service.year_view(work_calendar, year, overlay)


@calendar.get(
    "/{year}/changes", response_model=list[CalendarChangeRead], responses=problem_responses(400, 401, 403, 422)
)
async def year_changes(db: AutocommitDep, _: SupervisorOrAdmin, year: YearPath) -> Any:
    """Who changed a year's overlay, when, and from what to what (admin, supervisor)."""
    return await calendar_service.list_changes(db, year=year)


# Enterprises

enterprises = APIRouter(prefix="/api/v1/enterprises", tags=["enterprises"])
EnterpriseRegistrar = Annotated[Principal, Depends(require_roles(Role.DISPATCHER, Role.ADMIN))]
EnterpriseReader = Annotated[
    Principal, Depends(require_roles(Role.ENTERPRISE, Role.STAFF, Role.DISPATCHER, Role.SUPERVISOR, Role.ADMIN))
]
EnterpriseEditor = Annotated[Principal, Depends(require_roles(Role.ENTERPRISE, Role.DISPATCHER, Role.ADMIN))]
EnterpriseIdPath = Annotated[str, Path(max_length=36)]


@enterprises.post(
    "", status_code=201, response_model=EnterpriseRead, responses=problem_responses(400, 401, 403, 409, 422)
)
async def create_enterprise(session: SessionDep, principal: EnterpriseRegistrar, body: EnterpriseCreate) -> Any:
    """Register an enterprise with its unified social credit code (dispatcher, admin)."""
    enterprise = await service.create_enterprise(session, data=body)
    return service.enterprise_read(enterprise, principal)


@enterprises.get("", response_model=Page[EnterpriseRead], responses=problem_responses(400, 401, 403, 422))
async def list_enterprises(
    db: AutocommitDep,
    principal: EnterpriseReader,
    page: PageDep,
    q: Annotated[str | None, Query(min_length=1, max_length=100)] = None,
    size: EnterpriseSize | None = None,
) -> Any:
    """List enterprises; an enterprise account sees only its own (enterprise, staff, dispatcher, supervisor, admin)."""
    items, next_cursor = await service.list_enterprises(db, principal=principal, page=page, q=q, size=size)
    return {"items": items, "next_cursor": next_cursor}


@enterprises.get(
    "/{enterprise_id}", response_model=EnterpriseRead, responses=problem_responses(400, 401, 403, 404, 422)
)
async def get_enterprise(db: AutocommitDep, principal: EnterpriseReader, enterprise_id: EnterpriseIdPath) -> Any:
    """One enterprise; an enterprise account only its own (enterprise, staff, dispatcher, supervisor, admin)."""
    return await service.get_enterprise(db, enterprise_id=enterprise_id, principal=principal)


@enterprises.patch(
    "/{enterprise_id}", response_model=EnterpriseRead, responses=problem_responses(400, 401, 403, 404, 422)
)
async def update_enterprise(
    session: SessionDep, principal: EnterpriseEditor, enterprise_id: EnterpriseIdPath, body: EnterpriseUpdate
) -> Any:
    """Change an enterprise's details; an enterprise account only its own (enterprise, dispatcher, admin)."""
    enterprise = await service.update_enterprise(session, enterprise_id=enterprise_id, data=body, principal=principal)
    return service.enterprise_read(enterprise, principal)


# The SLA clock

sla = APIRouter(prefix="/api/v1/sla", tags=["sla"])
SlaOperator = Annotated[Principal, Depends(require_roles(Role.ADMIN, Role.SUPERVISOR))]


@sla.post(
    "/sweep",
    status_code=202,
    response_model=SweepAccepted,
    responses={
        200: {"model": SweepReportRead, "description": "The report of a dry run"},
        **problem_responses(400, 401, 403, 422, 503),
    },
)
async def sweep(
    request: Request, factory: SessionFactoryDep, _: SlaOperator, body: SweepRequest | None = None
) -> Response:
    """Run the SLA sweep now: queued for the worker (202), or a dry run reported at once (admin, supervisor)."""
    body = body or SweepRequest()
    as_of = body.as_of or utcnow()
    if as_of.tzinfo is None:
        raise InvalidInstant("as_of", "must carry a UTC offset (RFC 3339)")
    if body.dry_run:
        report = await sla_service.run_sweep(
            factory,
            cache=_cache(request),
            catalog=request.state.catalog,
            now=as_of,
            policy=request.state.sla_policy,
            dry_run=True,
        )
        return JSONResponse(jsonable_encoder(report.as_dict()), status_code=200)
    job_id = await request.state.queue.enqueue(
        "sweep",
        as_of.isoformat() if body.as_of else None,
        request_id=request_id_var.get(),
        job_id=f"sweep:{uuid.uuid4().hex}",
    )
    return JSONResponse({"job_id": job_id}, status_code=202)


@sla.get("/status", response_model=SlaStatus, responses=problem_responses(401, 403))
async def sla_status(request: Request, session: SessionDep, _: SlaOperator) -> Any:
    """The last sweep, the worker's heartbeat, the queue and the outbox backlog (admin, supervisor)."""
    last_sweep = heartbeat = None
    queued: int | None = None
    reachable = True
    try:
        pool = await request.state.queue.pool()
        raw = await pool.get(sla_service.LAST_SWEEP_KEY)
        last_sweep = json.loads(raw) if raw else None
        beat = await pool.get(sla_service.HEARTBEAT_KEY)
        heartbeat = beat.decode() if isinstance(beat, bytes) else beat
        queued = int(await pool.zcard(request.state.queue.queue_name))
    except (UpstreamUnavailable, OSError, ConnectionError, TimeoutError, RedisError):
        reachable = False
    return {
        "last_sweep": last_sweep,
        "worker_heartbeat": heartbeat,
        "queue": {"reachable": reachable, "queued_jobs": queued},
        "outbox_backlog": await sla_service.outbox_backlog(session),
    }


routers = (calendar, enterprises, sla)
