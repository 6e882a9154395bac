"""arq worker definition. The sweep, recomputation and outbox relay arrive with the ticket
life cycle; today the worker proves its queue is alive with a heartbeat every minute."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from arq import cron
from arq.connections import RedisSettings
from arq.worker import Worker, func

from services.db import create_engine, create_sessionmaker
from services.observability import configure_logging
from services.redis import arq_redis_settings
from sla_worker.settings import WorkerSettings

HEARTBEAT_KEY = "sla:heartbeat"


async def startup(ctx: dict[str, Any]) -> None:
    settings: WorkerSettings = ctx["settings"]
    configure_logging(level=settings.log_level, json=settings.log_json, service="sla_worker")
    engine = create_engine(settings.effective_database_url)
    ctx["engine"] = engine
    ctx["sessionmaker"] = create_sessionmaker(engine)


async def shutdown(ctx: dict[str, Any]) -> None:
    engine = ctx.get("engine")
    if engine is not None:
        await engine.dispose()


async def heartbeat(ctx: dict[str, Any]) -> str:
    """Records that a worker is consuming the queue; `/api/v1/sla/status` will read it."""
    now = datetime.now(UTC).isoformat()
    await ctx["redis"].set(HEARTBEAT_KEY, now, ex=600)
    return now


def redis_settings(settings: WorkerSettings) -> RedisSettings:
    return arq_redis_settings(settings.redis_url or "redis://127.0.0.1:6379/0")


def create_worker(settings: WorkerSettings | None = None, **overrides: Any) -> Worker:
    settings = settings or WorkerSettings()
    options: dict[str, Any] = {
        "functions": [func(heartbeat, name="heartbeat", timeout=10, max_tries=1)],
        "cron_jobs": [cron(heartbeat, minute=None, second=0, unique=True, timeout=10, run_at_startup=True)],
        "on_startup": startup,
        "on_shutdown": shutdown,
        "redis_settings": redis_settings(settings),
        "queue_name": settings.queue_name,
        "job_timeout": settings.job_timeout_seconds,
        "max_jobs": settings.max_jobs,
        "poll_delay": settings.poll_delay_seconds,
        "ctx": {"settings": settings},
        "handle_signals": True,
    }
    options.update(overrides)
    return Worker(**options)
