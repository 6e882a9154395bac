"""arq's connection settings come from a `REDIS_URL` of either form the platform accepts."""

from __future__ import annotations

import pytest

from services.redis import arq_redis_settings


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
