"""The arq queue as the HTTP services see it: created on first use, never required to start.

Redis being down must not stop a service from answering (ticket creation never touches it);
only an operation that needs the queue answers 503.
"""

from __future__ import annotations

from typing import Any

from arq import ArqRedis, create_pool
from redis.exceptions import RedisError

from services.errors import UpstreamUnavailable
from services.redis import arq_redis_settings

SLA_QUEUE = "arq:sla"


class LazyQueue:
    def __init__(self, redis_url: str, *, queue_name: str = SLA_QUEUE) -> None:
        self.redis_url = redis_url
        self.queue_name = queue_name
        self._pool: ArqRedis | None = None

    async def pool(self) -> ArqRedis:
        if self._pool is None:
            try:
                settings = arq_redis_settings(self.redis_url)
                settings.conn_retries = 0
                self._pool = await create_pool(settings, default_queue_name=self.queue_name)
            except (OSError, ConnectionError, TimeoutError, RedisError) as exc:
                raise UpstreamUnavailable("The job queue (Redis) is unreachable.", code="queue_unavailable") from exc
        return self._pool

    async def enqueue(self, function: str, *args: Any, job_id: str | None = None, **kwargs: Any) -> str | None:
        pool = await self.pool()
        try:
            job = await pool.enqueue_job(function, *args, _job_id=job_id, **kwargs)
        except (OSError, ConnectionError, TimeoutError, RedisError) as exc:
            raise UpstreamUnavailable("The job queue (Redis) is unreachable.", code="queue_unavailable") from exc
        return job.job_id if job is not None else None

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.aclose()
            self._pool = None
