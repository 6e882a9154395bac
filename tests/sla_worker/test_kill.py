"""A worker process killed with SIGKILL in the middle of a sweep, then another one: the killed
job runs again once its in-progress key expires, and every step still happens exactly once
(a chunk's steps commit together or not at all)."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from arq import create_pool
from sqlalchemy import text

from services.db import create_engine
from services.redis import arq_redis_settings
from services.settings import PROJECT_ROOT
from sla_worker.settings import WorkerSettings
from sla_worker.worker import create_worker
from tests.live_platform import LivePlatform
from tests.support import bearer, login
from ticket_service.seed import demo_enterprise_ids

pytestmark = pytest.mark.live
TICKETS = 120
QUEUE = "arq:sla-kill-test"


async def _escalated(engine: object, tag: str) -> int:
    async with engine.connect() as connection:  # type: ignore[attr-defined]
        count = await connection.scalar(
            text(
                "SELECT count(*) FROM ticket_events e JOIN tickets t ON t.id = e.ticket_id"
                " WHERE t.title = :tag AND e.action = 'escalate'"
            ),
            {"tag": tag},
        )
    return int(count)


async def test_sigkill_halfway_then_a_fresh_worker_leaves_no_duplicate(live: LivePlatform) -> None:
    tag = f"kill-test-{time.time_ns()}"
    received = (datetime.now(UTC) - timedelta(days=20)).isoformat()
    async with httpx.AsyncClient(base_url=live.gateway_url, timeout=30) as client:
        headers = bearer(await login(client, "dispatcher"))
        body = {
            "title": tag,
            "description": "SIGKILL test",
            "enterprise_id": demo_enterprise_ids()["enterprise-2"],
            "department_code": "jxw",
            "category_code": "green-energy",
            "channel": "visit",
            "received_at": received,
        }
        for _ in range(TICKETS):
            assert (await client.post("/api/v1/tickets", json=body, headers=headers)).status_code == 201
    env = {
        **os.environ,
        "DATABASE_URL": live.database_url,
        "REDIS_URL": live.redis_url,
        "CATALOG_URL": live.catalog_url,
        "NOTIFICATION_URL": live.notification_url,
        "SLA_QUEUE_NAME": QUEUE,
        "SLA_SWEEP_CHUNK_SIZE": "5",
        # The killed job's in-progress key lives job timeout + 10 s; then the next worker re-runs it.
        "SLA_JOB_TIMEOUT_SECONDS": "5",
        "LOG_LEVEL": "WARNING",
    }
    pool = await create_pool(arq_redis_settings(live.redis_url), default_queue_name=QUEUE)
    await pool.enqueue_job("sweep", None, _job_id=f"kill-sweep-{tag}")
    worker = await asyncio.create_subprocess_exec(sys.executable, "-m", "sla_worker", env=env, cwd=PROJECT_ROOT)
    engine = create_engine(live.database_url)
    try:
        deadline = time.monotonic() + 60
        done = 0
        while time.monotonic() < deadline:
            done = await _escalated(engine, tag)
            if done > 0:
                break
            await asyncio.sleep(0.005)  # poll interval of a bounded wait, not a wait for a race
        worker.send_signal(signal.SIGKILL)
        await asyncio.wait_for(worker.wait(), 10)
        killed_at = await _escalated(engine, tag)
        assert 0 < done <= killed_at < TICKETS, "the kill did not land mid-sweep"
        settings = WorkerSettings(
            database_url=live.database_url,
            redis_url=live.redis_url,
            catalog_url=live.catalog_url,
            notification_url=live.notification_url,
            queue_name=QUEUE,
            job_timeout_seconds=5,
        )
        await pool.enqueue_job("sweep", None, _job_id=f"rerun-sweep-{tag}")
        fresh = create_worker(settings, burst=True, cron_jobs=[], handle_signals=False)
        await asyncio.wait_for(fresh.async_run(), 120)
        await fresh.close()
        async with engine.connect() as connection:
            rows = await connection.execute(
                text(
                    "SELECT e.action, count(*) FROM ticket_events e JOIN tickets t ON t.id = e.ticket_id"
                    " WHERE t.title = :tag GROUP BY e.action"
                ),
                {"tag": tag},
            )
            counts = dict(rows.all())
        assert counts == {"create": TICKETS, "overdue_accept": TICKETS, "joint_review": TICKETS, "escalate": TICKETS}
    finally:
        if worker.returncode is None:
            worker.kill()
            await asyncio.wait_for(worker.wait(), 10)
        await engine.dispose()
        await pool.delete(f"arq:in-progress:kill-sweep-{tag}")
        await pool.aclose()
