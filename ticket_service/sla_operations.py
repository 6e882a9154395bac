"""What an operator asks of the SLA clock over the API: a sweep now, and how the worker is."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

from redis.exceptions import RedisError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.errors import UpstreamUnavailable
from services.queue import LazyQueue
from ticket_service import sla
from ticket_service.context import TicketContext
from ticket_service.errors import InvalidInstant


async def request_sweep(
    sessionmaker: async_sessionmaker[AsyncSession],
    *,
    context: TicketContext,
    queue: LazyQueue,
    as_of: datetime | None,
    now: datetime,
    dry_run: bool,
    request_id: str | None,
) -> tuple[int, dict[str, Any]]:
    """A dry run's report at once (200), or the worker's job for a real sweep (202)."""
    instant = as_of or now
    if instant.tzinfo is None:
        raise InvalidInstant("as_of", "must carry a UTC offset (RFC 3339)")
    if dry_run:
        report = await sla.run_sweep(
            sessionmaker,
            cache=context.calendar_cache,
            catalog=context.catalog,
            now=instant,
            policy=context.policy,
            dry_run=True,
        )
        return 200, report.as_dict()
    job_id = await queue.enqueue(
        "sweep",
        instant.isoformat() if as_of else None,
        request_id=request_id,
        job_id=f"sweep:{uuid.uuid4().hex}",
    )
    return 202, {"job_id": job_id}


async def status(session: AsyncSession, *, queue: LazyQueue) -> dict[str, Any]:
    """The last sweep, the worker's heartbeat, the queue and the outbox backlog; Redis being
    unreachable is reported, not raised."""
    last_sweep = heartbeat = None
    queued: int | None = None
    reachable = True
    try:
        pool = await queue.pool()
        raw = await pool.get(sla.LAST_SWEEP_KEY)
        last_sweep = json.loads(raw) if raw else None
        beat = await pool.get(sla.HEARTBEAT_KEY)
        heartbeat = beat.decode() if isinstance(beat, bytes) else beat
        queued = int(await pool.zcard(queue.queue_name))
    except (UpstreamUnavailable, OSError, ConnectionError, TimeoutError, RedisError):
        reachable = False
    return {
        "last_sweep": last_sweep,
        "worker_heartbeat": heartbeat,
        "queue": {"reachable": reachable, "queued_jobs": queued},
        "outbox_backlog": await sla.outbox_backlog(session),
    }
