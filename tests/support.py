"""Plain helpers shared by the tests: databases, live servers, logins."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from sqlalchemy import text
from sqlalchemy.engine import make_url

from services.db import create_engine, is_sqlite
from services.settings import DEFAULT_DEMO_PASSWORD, PROJECT_ROOT

DEMO_PASSWORD = os.environ.get("DEMO_PASSWORD", DEFAULT_DEMO_PASSWORD)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def reset_database(url: str) -> None:
    """Empty the test database so `alembic upgrade head` starts from nothing."""
    if is_sqlite(url):
        database = make_url(url).database
        if database:
            for suffix in ("", "-wal", "-shm"):
                Path(database + suffix).unlink(missing_ok=True)
        return
    engine = create_engine(url)
    async with engine.begin() as connection:
        await connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        await connection.execute(text("CREATE SCHEMA public"))
    await engine.dispose()


async def create_scratch_database(base_url: str, tmp_dir: Path) -> str:
    """A new empty database beside the test one (SQLite file or PostgreSQL database)."""
    if is_sqlite(base_url):
        return f"sqlite+aiosqlite:///{tmp_dir / f'scratch-{uuid.uuid4().hex[:8]}.db'}"
    url = make_url(base_url)
    name = f"scratch_{uuid.uuid4().hex[:10]}"
    engine = create_engine(base_url, isolation_level="AUTOCOMMIT")
    async with engine.connect() as connection:
        await connection.execute(text(f'CREATE DATABASE "{name}"'))
    await engine.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


async def drop_scratch_database(base_url: str, scratch_url: str) -> None:
    if is_sqlite(base_url):
        return
    name = make_url(scratch_url).database
    engine = create_engine(base_url, isolation_level="AUTOCOMMIT")
    async with engine.connect() as connection:
        await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    await engine.dispose()


def wait_until(predicate: object, *, timeout: float = 30.0, interval: float = 0.1) -> bool:
    """Poll `predicate()` until it is truthy or `timeout` passes (never a bare sleep)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return True
        time.sleep(interval)
    return False


def _healthy(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1.0).status_code == 200
    except httpx.HTTPError:
        return False


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


@contextmanager
def uvicorn_server(
    target: str, port: int, env: dict[str, str], *, health: bool = True
) -> Iterator[subprocess.Popen[bytes]]:
    """A real uvicorn process on 127.0.0.1:`port`, stopped (and reaped) on exit.

    With `health=False` it waits for the port to accept connections instead of a 200 from
    /health (for a gateway whose upstreams are deliberately broken)."""
    argv = [
        sys.executable,
        "-m",
        "uvicorn",
        target,
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--no-access-log",
        # The gateway judges X-Forwarded-For itself (gateway.client_address).
        "--no-proxy-headers",
        "--log-level",
        "warning",
        "--timeout-graceful-shutdown",
        "2",
    ]
    process = subprocess.Popen(argv, env={**os.environ, **env}, cwd=PROJECT_ROOT)
    try:

        def ready() -> bool:
            return _healthy(f"http://127.0.0.1:{port}/health") if health else _listening(port)

        if not wait_until(lambda: process.poll() is not None or ready(), timeout=60):
            raise RuntimeError(f"{target} did not start on port {port}")
        if process.poll() is not None:
            raise RuntimeError(f"{target} exited with {process.returncode}")
        yield process
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


async def login(client: httpx.AsyncClient, username: str, password: str = DEMO_PASSWORD) -> str:
    response = await client.post("/api/v1/auth/token", data={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
