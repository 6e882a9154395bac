"""Redis connection settings from a URL (`redis://host:port/db` or `unix:///path.sock`)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

from arq.connections import RedisSettings
from redis.asyncio import Redis


def arq_redis_settings(url: str) -> RedisSettings:
    parsed = urlparse(url)
    if parsed.scheme == "unix":
        database = int(parse_qs(parsed.query).get("db", ["0"])[0])
        return RedisSettings(unix_socket_path=parsed.path, database=database, conn_timeout=2)
    settings = RedisSettings.from_dsn(url)
    settings.conn_timeout = 2
    return settings


def create_redis(url: str, *, timeout_seconds: float = 5.0) -> Redis:
    """`timeout_seconds` bounds each command (and a connection attempt, to at most 2 s)."""
    client: Redis = Redis.from_url(
        url, socket_connect_timeout=min(2.0, timeout_seconds), socket_timeout=timeout_seconds
    )
    return client
