"""The 1-3-5 clock: sweeps by the SLA worker, and their status (督办)."""

from __future__ import annotations

import json
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from redis.exceptions import RedisError

from services.auth import Principal, Role, require_roles
from services.db import SessionDep, SessionFactoryDep, utcnow
from services.errors import UpstreamUnavailable, problem_responses
from services.observability import request_id_var
from ticket_service import sla as sla_service
from ticket_service.context import TicketContextDep
from ticket_service.errors import InvalidInstant
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
async def sweep(
    request: Request,
    factory: SessionFactoryDep,
    context: TicketContextDep,
    _: SlaOperator,
    body: SweepRequest | None = None,
) -> Response:
    """Run the SLA sweep now: queued for the worker (202), or a dry run reported at once (admin, supervisor)."""
    body = body or SweepRequest()
    as_of = body.as_of or utcnow()
    if as_of.tzinfo is None:
        raise InvalidInstant("as_of", "must carry a UTC offset (RFC 3339)")
    if body.dry_run:
        report = await sla_service.run_sweep(
            factory,
            cache=context.calendar_cache,
            catalog=context.catalog,
            now=as_of,
            policy=context.policy,
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


@router.get("/status", response_model=SlaStatus, responses=problem_responses(401, 403))
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
