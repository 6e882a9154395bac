"""The notification worker: an arq worker on its own queue that sends due webhook deliveries.

Every second a cron tick claims due deliveries from the database (leased, so a killed worker's
claims expire and another worker takes them) and sends them concurrently; ticks overlap, so a
slow endpoint holds up only its own deliveries. Redis carries no delivery state.

Run it with `python -m notification_service.worker`.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import structlog
from arq import cron
from arq.worker import Worker, func

from notification_service import sender
from notification_service.deliveries import Claim, claim_due
from notification_service.metrics import DeliveryWorkerMetrics, create_delivery_worker_metrics
from notification_service.settings import NotificationSettings
from notification_service.ssrf import resolve
from services.db import create_engine, create_sessionmaker, utcnow
from services.metrics import close_worker_metrics, serve_worker_metrics
from services.observability import configure_logging
from services.redis import worker_redis_settings

logger = structlog.get_logger("notification_worker")
Clock = Callable[[], datetime]


async def open_context(ctx: dict[str, Any]) -> dict[str, Any]:
    """Fill `ctx` (holding `settings`) with the engine, sessions, HTTP client, clock, random
    source and DNS resolver a batch needs; tests put their own clock, random source or resolver in first."""
    settings: NotificationSettings = ctx["settings"]
    engine = create_engine(settings.effective_database_url)
    ctx["engine"] = engine
    ctx["sessionmaker"] = create_sessionmaker(engine)
    ctx["http"] = sender.create_session(
        timeout=settings.webhook_timeout_seconds, connections=settings.worker_connections
    )
    ctx.setdefault("clock", utcnow)
    ctx.setdefault("random", random.Random())
    ctx.setdefault("resolver", resolve)
    ctx["metrics"] = create_delivery_worker_metrics(ctx["sessionmaker"], clock=ctx["clock"])
    ctx["metrics"].metrics.watch_pool(engine)
    return ctx


async def close_context(ctx: dict[str, Any]) -> None:
    await close_worker_metrics(ctx)
    if "http" in ctx:
        await ctx["http"].close()
    if "engine" in ctx:
        await ctx["engine"].dispose()


async def startup(ctx: dict[str, Any]) -> None:
    settings: NotificationSettings = ctx["settings"]
    configure_logging(level=settings.log_level, json=settings.log_json, service="notification_worker")
    await open_context(ctx)
    await serve_worker_metrics(
        ctx,
        ctx["metrics"].metrics,
        host=settings.bind_host,
        port=settings.worker_metrics_port,
        token=settings.metrics_token.get_secret_value(),
    )


async def _attempt(ctx: dict[str, Any], claim: Claim, now: datetime | None, body: str) -> sender.Attempted:
    started_at = now or ctx["clock"]()
    outcome = await sender.send(
        ctx["http"], claim, settings=ctx["settings"], now=started_at, resolver=ctx["resolver"], body=body
    )
    return sender.Attempted(claim, outcome, started_at)


async def _settle(ctx: dict[str, Any], attempts: list[sender.Attempted], now: datetime | None) -> list[str]:
    async with ctx["sessionmaker"]() as session, session.begin():
        return await sender.record(
            session, attempts=attempts, settings=ctx["settings"], rng=ctx["random"], now=now or ctx["clock"]()
        )


async def run_batch(ctx: dict[str, Any], *, now: datetime | None = None, limit: int | None = None) -> Counter[str]:
    """Claim the deliveries due at `now` (default: the ctx clock), send them concurrently and
    record each attempt as it finishes; returns how many ended in each status. The attempts
    that finished while the last settlement was being written settle together, in one
    transaction: a slow answer holds up no other attempt's settlement."""
    settings: NotificationSettings = ctx["settings"]
    claimed_at = now or ctx["clock"]()
    lease = timedelta(seconds=settings.worker_lease_seconds)
    async with ctx["sessionmaker"]() as session, session.begin():
        claims = await claim_due(session, now=claimed_at, limit=limit or settings.worker_batch_size, lease=lease)
    # An event going to several subscriptions is masked and encoded once.
    bodies: dict[str, str] = {}
    for claim in claims:
        if claim.envelope["id"] not in bodies:
            bodies[claim.envelope["id"]] = sender.body_of(claim, settings=settings)
    counts: Counter[str] = Counter()
    in_flight = {asyncio.create_task(_attempt(ctx, claim, now, bodies[claim.envelope["id"]])) for claim in claims}
    try:
        while in_flight:
            finished, in_flight = await asyncio.wait(in_flight, return_when=asyncio.FIRST_COMPLETED)
            counts.update(await _settle(ctx, [task.result() for task in finished], now))
    finally:
        for task in in_flight:
            task.cancel()
    metrics: DeliveryWorkerMetrics = ctx["metrics"]
    metrics.record(counts)
    return counts


async def deliver_due(ctx: dict[str, Any]) -> int:
    """Send batches until one is not full (the cron's job), several lines of batches at once so
    that one line claims and settles while another's attempts are in flight."""
    settings: NotificationSettings = ctx["settings"]

    async def line() -> int:
        sent = 0
        while True:
            counts = await run_batch(ctx)
            batch = sum(counts.values())
            sent += batch
            if batch:
                logger.info("deliveries attempted", **counts)
            if batch < settings.worker_batch_size:
                return sent

    return sum(await asyncio.gather(*(line() for _ in range(settings.worker_lines))))


def create_worker(settings: NotificationSettings | None = None, **overrides: Any) -> Worker:
    settings = settings or NotificationSettings()
    # Longer than a full batch of the slowest answers, so arq never cancels a batch midway.
    timeout = int(settings.webhook_timeout_seconds * 2 + 30)
    options: dict[str, Any] = {
        "functions": [func(deliver_due, name="deliver_due", timeout=timeout, max_tries=1)],
        "cron_jobs": [cron(deliver_due, name="cron:deliver_due", second=set(range(60)), unique=True, timeout=timeout)],
        "on_startup": startup,
        "on_shutdown": close_context,
        "redis_settings": worker_redis_settings(settings.effective_redis_url),
        "queue_name": settings.worker_queue_name,
        "job_timeout": timeout,
        "max_jobs": settings.worker_max_jobs,
        "ctx": {"settings": settings},
        "handle_signals": True,
        "health_check_interval": 30,
        # A nudge from the intake is picked up within this, not the default half second.
        "poll_delay": 0.05,
        "keep_result": 60,
    }
    options.update(overrides)
    return Worker(**options)


if __name__ == "__main__":
    create_worker().run()
