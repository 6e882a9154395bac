"""The launcher's embedded Redis: a real server that starts, answers and really stops."""

from __future__ import annotations

from pathlib import Path

from arq import create_pool

from launcher.embedded_redis import EmbeddedRedis
from services.redis import arq_redis_settings


async def test_embedded_redis_serves_arq_and_stops(tmp_path: Path) -> None:
    redis = EmbeddedRedis(tmp_path / "redis").start()
    try:
        assert redis.running
        assert redis.ping()
        assert redis.url.startswith("unix://")
        pool = await create_pool(arq_redis_settings(redis.url))
        job = await pool.enqueue_job("anything", _job_id="embedded-check")
        assert job is not None
        assert await pool.exists("arq:job:embedded-check") == 1
        await pool.aclose()
    finally:
        redis.stop()
    assert not redis.running
    assert not Path(redis.socket_path).exists()


def test_stop_is_safe_twice(tmp_path: Path) -> None:
    redis = EmbeddedRedis(tmp_path / "redis").start()
    redis.stop()
    redis.stop()
    assert not redis.running
