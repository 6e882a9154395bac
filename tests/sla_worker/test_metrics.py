"""The SLA worker's `/metrics` on its own port, from a real worker against the live platform:
a sweep's duration and the steps it took, and the ticket outbox's backlog before and after a relay."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from arq import ArqRedis, create_pool

from services.queue import SLA_QUEUE
from services.redis import arq_redis_settings
from sla_worker.worker import create_worker
from tests.live_platform import LivePlatform
from tests.services.test_metrics import samples
from tests.sla_worker.test_worker_live import Api, enqueue, run_worker, worker_settings
from tests.support import free_port

pytestmark = pytest.mark.live
TIMEOUT_S = 30.0


def figure(text: str, name: str, **labels: str) -> float:
    return samples(text, name).get(tuple(sorted(labels.items())), 0.0)


async def scrape_until(
    scraper: httpx.AsyncClient, url: str, condition: Callable[[str], bool], waited: Callable[[], Awaitable[None]]
) -> str:
    """The first scrape for which `condition` holds, within a bound (the worker may still be starting)."""
    deadline = asyncio.get_running_loop().time() + TIMEOUT_S
    while True:
        try:
            text = (await scraper.get(url)).text
        except httpx.ConnectError as refused:
            text = str(refused)
        if condition(text):
            return text
        assert asyncio.get_running_loop().time() < deadline, text
        await waited()


async def test_the_worker_serves_its_sweeps_and_the_ticket_outbox_backlog(live: LivePlatform) -> None:
    pool: ArqRedis = await create_pool(arq_redis_settings(live.redis_url), default_queue_name=SLA_QUEUE)
    await run_worker(worker_settings(live))  # what earlier tests queued runs before this one's worker
    port = free_port()
    worker = create_worker(worker_settings(live, metrics_port=port), cron_jobs=[], handle_signals=False)
    running = asyncio.create_task(worker.async_run())
    url = f"http://127.0.0.1:{port}/metrics"

    async def pause() -> None:
        await asyncio.sleep(0.1)  # the poll's interval, never what the assertions wait on

    try:
        async with httpx.AsyncClient(base_url=live.gateway_url, timeout=30) as client, httpx.AsyncClient() as scraper:
            before = await scrape_until(scraper, url, lambda text: "sla_sweep_duration_seconds" in text, pause)
            sweeps_before = figure(before, "sla_sweep_duration_seconds_count")
            escalations_before = figure(before, "sla_sweep_steps_total", step="escalate")
            api = Api(client)
            await api.create_ticket(received_at=datetime.now(UTC) - timedelta(days=20), title="指标：逾期工单")
            waiting = (await scraper.get(url)).text
            assert figure(waiting, "outbox_unrelayed_events", outbox="tickets") >= 1
            assert figure(waiting, "outbox_oldest_unrelayed_age_seconds", outbox="tickets") > 0

            await api.queue_sweep()
            swept = await scrape_until(
                scraper, url, lambda text: figure(text, "sla_sweep_duration_seconds_count") > sweeps_before, pause
            )
            assert figure(swept, "sla_sweep_steps_total", step="escalate") > escalations_before
            assert figure(swept, "sla_sweep_duration_seconds_sum") > 0

            await enqueue(pool, "relay_outbox")
            relayed = await scrape_until(
                scraper, url, lambda text: figure(text, "outbox_unrelayed_events", outbox="tickets") == 0, pause
            )
            assert figure(relayed, "outbox_oldest_unrelayed_age_seconds", outbox="tickets") == 0
            assert figure(relayed, "outbox_relayed_events_total") >= 1
    finally:
        await worker.close()
        with contextlib.suppress(asyncio.CancelledError):
            await running
        await pool.aclose()
