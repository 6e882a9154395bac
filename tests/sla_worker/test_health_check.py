"""`python -m sla_worker check`: healthy exactly while a worker has recently reported in."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import time
from pathlib import Path

from arq import create_pool

from services.redis import arq_redis_settings
from services.settings import PROJECT_ROOT
from sla_worker.settings import WorkerSettings
from sla_worker.worker import create_worker


def _check(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sla_worker", "check"],
        env={**os.environ, **env},
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


async def test_the_check_follows_the_workers_heartbeat(redis_url: str, tmp_path: Path) -> None:
    queue = "arq:sla-health-test"
    env = {"REDIS_URL": redis_url, "SLA_QUEUE_NAME": queue}
    pool = await create_pool(arq_redis_settings(redis_url), default_queue_name=queue)
    await pool.delete(f"{queue}:health-check")
    assert _check(env).returncode == 1
    settings = WorkerSettings(
        redis_url=redis_url, database_url=f"sqlite+aiosqlite:///{tmp_path / 'w.db'}", queue_name=queue
    )
    worker = create_worker(settings, cron_jobs=[], handle_signals=False)
    running = asyncio.create_task(worker.main())
    try:
        deadline = time.monotonic() + 30
        healthy = await asyncio.to_thread(_check, env)
        while healthy.returncode != 0 and time.monotonic() < deadline:
            healthy = await asyncio.to_thread(_check, env)
        assert healthy.returncode == 0, healthy.stderr
        assert "j_complete" in healthy.stderr
    finally:
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await running
        await worker.close()
    # A stopped worker removes its sentinel: the check fails again.
    assert (await asyncio.to_thread(_check, env)).returncode == 1
    await pool.aclose()
