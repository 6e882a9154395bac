"""The SLA worker: arq jobs that run the ticket domain's own SLA functions.

- `sweep` (cron every minute, or queued by `POST /api/v1/sla/sweep`): the 1-3-5 clock.
- `relay_outbox` (cron every 5 s): committed outbox events to the notification service.
- `recompute_year` (queued by the relay when a `calendar.changed` event passes): deadlines.

Jobs are idempotent and short: a killed job re-runs after its in-progress key expires
(job timeout + 10 s) and finds nothing left to do twice.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

import structlog
from arq import cron
from arq.connections import RedisSettings
from arq.worker import Worker, func

from services.db import create_engine, create_sessionmaker, database_for
from services.http import create_http_client
from services.metrics import close_worker_metrics, serve_worker_metrics
from services.observability import configure_logging
from services.redis import arq_redis_settings, worker_redis_settings
from sla_worker.metrics import SlaWorkerMetrics, create_sla_worker_metrics
from sla_worker.settings import WorkerSettings
from ticket_service import sla
from ticket_service.calendar_service import CalendarCache
from ticket_service.catalog_client import CatalogClient
from ticket_service.outbox import RelayFailed, relay_batch
from ticket_service.settings import TicketSettings
from ticket_service.sla import HEARTBEAT_KEY, LAST_SWEEP_KEY

RELAY_FAILURES_KEY = "sla:relay:failures"
RELAY_BACKOFF_KEY = "sla:relay:backoff_until"
logger = structlog.get_logger("sla_worker")


async def startup(ctx: dict[str, Any]) -> None:
    settings: WorkerSettings = ctx["settings"]
    tickets = TicketSettings()
    configure_logging(level=settings.log_level, json=settings.log_json, service="sla_worker")
    engine = create_engine(settings.effective_database_url)
    ctx["engine"] = engine
    ctx["sessionmaker"] = create_sessionmaker(engine)
    ctx["database"] = database_for(engine, ctx["sessionmaker"])
    ctx["calendar_cache"] = CalendarCache(day_end=tickets.workday_end, tz=tickets.timezone)
    ctx["policy"] = tickets.sla_policy()
    ctx["catalog_http"] = create_http_client(
        replicas=settings.catalog_replicas, timeout=tickets.catalog_timeout_seconds
    )
    ctx["catalog"] = CatalogClient(ctx["catalog_http"], internal_token=settings.internal_token.get_secret_value())
    ctx["notify_http"] = create_http_client(
        replicas=settings.notification_replicas, timeout=settings.relay_timeout_seconds
    )
    ctx["metrics"] = create_sla_worker_metrics(engine)
    await serve_worker_metrics(
        ctx,
        ctx["metrics"].metrics,
        host=settings.bind_host,
        port=settings.metrics_port,
        token=settings.metrics_token.get_secret_value(),
    )


async def shutdown(ctx: dict[str, Any]) -> None:
    await close_worker_metrics(ctx)
    for name in ("catalog_http", "notify_http"):
        if name in ctx:
            await ctx[name].aclose()
    if "engine" in ctx:
        await ctx["engine"].dispose()


def _bind(request_id: str | None, job: str) -> None:
    structlog.contextvars.bind_contextvars(job=job, request_id=request_id)


async def sweep(ctx: dict[str, Any], as_of: str | None = None, request_id: str | None = None) -> dict[str, Any]:
    """One pass of the 1-3-5 clock at `as_of` (default: now)."""
    _bind(request_id, "sweep")
    now = datetime.fromisoformat(as_of) if as_of else datetime.now(UTC)
    started = time.perf_counter()
    report = await sla.run_sweep(
        ctx["sessionmaker"],
        cache=ctx["calendar_cache"],
        catalog=ctx["catalog"],
        now=now,
        policy=ctx["policy"],
        chunk_size=ctx["settings"].sweep_chunk_size,
    )
    metrics: SlaWorkerMetrics = ctx["metrics"]
    metrics.record_sweep(report, time.perf_counter() - started)
    summary = {
        "as_of": now.isoformat(),
        "finished_at": datetime.now(UTC).isoformat(),
        "due_tickets": report.due_tickets,
        "counts": report.counts(),
        "failed": report.failed,
    }
    await ctx["redis"].set(LAST_SWEEP_KEY, json.dumps(summary), ex=7 * 24 * 3600)
    logger.info("sweep done", **summary)
    return summary


async def relay_outbox(ctx: dict[str, Any]) -> int:
    """Publish committed events until none is left. While the consumer is down, back off
    exponentially (2, 4, ... 60 s between attempts); the events wait in the outbox."""
    _bind(None, "relay")
    settings: WorkerSettings = ctx["settings"]
    redis = ctx["redis"]
    backoff_until = await redis.get(RELAY_BACKOFF_KEY)
    if backoff_until and float(backoff_until) > time.time():
        return 0
    published = 0
    while True:
        try:
            envelopes = await relay_batch(
                ctx["database"],
                http=ctx["notify_http"],
                url="/internal/events",
                token=settings.internal_token.get_secret_value(),
                batch_size=settings.relay_batch_size,
            )
        except RelayFailed as exc:
            failures = int(await redis.incr(RELAY_FAILURES_KEY))
            delay = min(60, 2**failures)
            await redis.set(RELAY_BACKOFF_KEY, str(time.time() + delay), ex=delay)
            logger.warning("relay failed; backing off", error=str(exc), published=published, delay_s=delay)
            return published
        if not envelopes:
            await redis.delete(RELAY_FAILURES_KEY, RELAY_BACKOFF_KEY)
            return published
        published += len(envelopes)
        ctx["metrics"].relayed.inc(len(envelopes))
        for envelope in envelopes:
            if envelope["type"] == "calendar.changed":
                data = envelope["data"]
                await redis.enqueue_job(
                    "recompute_year", int(data["year"]), _job_id=f"recompute:{data['year']}:{data['revision']}"
                )


async def recompute_year(ctx: dict[str, Any], year: int) -> int:
    _bind(None, "recompute")
    changed = await sla.recompute_year(
        ctx["sessionmaker"], cache=ctx["calendar_cache"], year=year, policy=ctx["policy"], now=datetime.now(UTC)
    )
    logger.info("deadlines recomputed", year=year, tickets=changed)
    return changed


async def heartbeat(ctx: dict[str, Any]) -> str:
    """Records that a worker is consuming the queue; `GET /api/v1/sla/status` shows it."""
    now = datetime.now(UTC).isoformat()
    await ctx["redis"].set(HEARTBEAT_KEY, now, ex=600)
    return now


def redis_settings(settings: WorkerSettings) -> RedisSettings:
    return arq_redis_settings(settings.effective_redis_url)


def create_worker(settings: WorkerSettings | None = None, **overrides: Any) -> Worker:
    settings = settings or WorkerSettings()
    timeout = settings.job_timeout_seconds
    options: dict[str, Any] = {
        "functions": [
            func(sweep, name="sweep", timeout=timeout, max_tries=3),
            func(relay_outbox, name="relay_outbox", timeout=timeout, max_tries=1),
            func(recompute_year, name="recompute_year", timeout=timeout, max_tries=3),
            func(heartbeat, name="heartbeat", timeout=10, max_tries=1),
        ],
        "cron_jobs": [
            cron(sweep, name="cron:sweep", second=0, unique=True, timeout=timeout),
            cron(relay_outbox, name="cron:relay", second=set(range(0, 60, 5)), unique=True, timeout=timeout),
            cron(heartbeat, name="cron:heartbeat", second=30, unique=True, timeout=10, run_at_startup=True),
        ],
        "on_startup": startup,
        "on_shutdown": shutdown,
        "redis_settings": worker_redis_settings(settings.effective_redis_url),
        "queue_name": settings.queue_name,
        "job_timeout": timeout,
        "max_jobs": settings.max_jobs,
        "poll_delay": settings.poll_delay_seconds,
        "ctx": {"settings": settings},
        "handle_signals": True,
        "health_check_interval": 30,
    }
    options.update(overrides)
    return Worker(**options)
