"""The launcher's embedded Redis: a real server that starts, answers and really stops."""

from __future__ import annotations

from pathlib import Path

import pytest
from arq import create_pool

from services.embedded_redis import EmbeddedRedis
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


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("redis://127.0.0.1:6379/2", ("127.0.0.1", 6379, 2, None)),
        ("unix:///tmp/r.sock?db=3", (None, None, 3, "/tmp/r.sock")),
    ],
)
def test_arq_settings_from_urls(url: str, expected: tuple[object, ...]) -> None:
    settings = arq_redis_settings(url)
    host, port, database, socket_path = expected
    assert settings.database == database
    assert settings.unix_socket_path == socket_path
    if host is not None:
        assert (settings.host, settings.port) == (host, port)
