"""Redis connection settings from a URL (`redis://host:port/db` or `unix:///path.sock`)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

from arq.connections import RedisSettings
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

WORKER_OUTAGE_SECONDS = 60.0


def arq_redis_settings(url: str) -> RedisSettings:
    parsed = urlparse(url)
    if parsed.scheme == "unix":
        database = int(parse_qs(parsed.query).get("db", ["0"])[0])
        return RedisSettings(unix_socket_path=parsed.path, database=database, conn_timeout=2)
    settings = RedisSettings.from_dsn(url)
    settings.conn_timeout = 2
    return settings


def worker_redis_settings(url: str, *, outage_seconds: float = WORKER_OUTAGE_SECONDS) -> RedisSettings:
    """A worker's connection: each command is tried again, backing off up to a second, for
    about `outage_seconds`, so a Redis restart pauses the worker instead of ending it (arq's
    poll loop would exit on the first refused command); a longer outage ends it, and its
    supervisor starts it again."""
    settings = arq_redis_settings(url)
    settings.retry = Retry(ExponentialBackoff(cap=1.0, base=0.05), retries=max(1, int(outage_seconds)))
    settings.retry_on_error = [RedisConnectionError, RedisTimeoutError, OSError]
    return settings


def create_redis(url: str, *, timeout_seconds: float = 5.0) -> Redis:
    """`timeout_seconds` bounds each command (and a connection attempt, to at most 2 s)."""
    client: Redis = Redis.from_url(
        url, socket_connect_timeout=min(2.0, timeout_seconds), socket_timeout=timeout_seconds
    )
    return client
