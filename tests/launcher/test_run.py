"""README's `make run` is `python -m launcher run`: from an empty database and no `REDIS_URL` it
migrates, seeds, serves `/docs` through the gateway, and Ctrl-C (or SIGTERM) stops every
process it started and the embedded Redis."""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
import redis

from launcher.registry import WORKERS
from services.settings import PROJECT_ROOT
from tests.support import DEMO_PASSWORD, create_scratch_database, drop_scratch_database, wait_until

pytestmark = pytest.mark.live

PORT_VARIABLES = {
    "gateway": "GATEWAY_PORT",
    "catalog": "CATALOG_PORT",
    "tickets": "TICKET_PORT",
    "notifications": "NOTIFICATION_PORT",
}
# Chosen by the launcher itself, never inherited from the environment running the tests.
LAUNCHER_CHOSEN = ("REDIS_URL", "CATALOG_URL", "TICKET_URL", "NOTIFICATION_URL", "GATEWAY_URL")


def _unused_ports(count: int) -> list[int]:
    """Free ports below the ephemeral range. The launcher binds them only after migrating and
    seeding; a port from the ephemeral range may by then be some outgoing connection's own."""
    ephemeral_start = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    candidates = range(20000, ephemeral_start)
    ports: list[int] = []
    for candidate in random.Random().sample(candidates, min(200, len(candidates))):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", candidate))
            except OSError:
                continue
        ports.append(candidate)
        if len(ports) == count:
            return ports
    raise RuntimeError("no free ports below the ephemeral range")


def _children(pid: int) -> set[int]:
    children: set[int] = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            children.add(int(stat.parent.name))
    return children


def _gone(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.fixture
def empty_database(database_url: str, tmp_path: Path) -> Iterator[str]:
    scratch = asyncio.run(create_scratch_database(database_url, tmp_path))
    try:
        yield scratch
    finally:
        asyncio.run(drop_scratch_database(database_url, scratch))


def _ctrl_c(launcher: subprocess.Popen[bytes]) -> None:
    """A terminal's Ctrl-C: SIGINT to the whole foreground group, children included."""
    os.killpg(launcher.pid, signal.SIGINT)


def _terminate_launcher_alone(launcher: subprocess.Popen[bytes]) -> None:
    """A supervisor's stop: SIGTERM to the launcher only, which must stop its children itself."""
    launcher.send_signal(signal.SIGTERM)


@pytest.mark.parametrize("stop", [_ctrl_c, _terminate_launcher_alone], ids=["ctrl-c", "sigterm-to-launcher"])
def test_run_starts_the_platform_and_a_stop_signal_stops_all_of_it(
    empty_database: str, tmp_path: Path, stop: Callable[[subprocess.Popen[bytes]], None]
) -> None:
    free = _unused_ports(len(PORT_VARIABLES) + len(WORKERS))
    ports = dict(zip(PORT_VARIABLES, free, strict=False))
    metrics_ports = {
        worker.metrics_port_variable: port for worker, port in zip(WORKERS, free[len(ports) :], strict=True)
    }
    var_dir = tmp_path / "var"
    redis_socket = var_dir / "redis" / "redis.sock"
    env = {key: value for key, value in os.environ.items() if key not in LAUNCHER_CHOSEN}
    env.update({PORT_VARIABLES[name]: str(port) for name, port in ports.items()})
    env.update({variable: str(port) for variable, port in metrics_ports.items()})
    env.update(ENVIRONMENT="development", DATABASE_URL=empty_database, VAR_DIR=str(var_dir), LOG_LEVEL="WARNING")
    gateway = f"http://127.0.0.1:{ports['gateway']}"
    log_path = tmp_path / "run.log"
    children: set[int] = set()
    with log_path.open("wb") as log:
        # Its own process group, so a Ctrl-C reaches the launcher and its children, as in a terminal.
        launcher = subprocess.Popen(
            [sys.executable, "-m", "launcher", "run"],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        ready = f"API docs at {gateway}/docs"
        started = wait_until(lambda: launcher.poll() is not None or ready in log_path.read_text(), timeout=180)
        assert started and launcher.poll() is None, log_path.read_text()
        assert _answers(f"{gateway}/health")
        assert "swagger" in httpx.get(f"{gateway}/docs", timeout=5).text.lower()
        token = httpx.post(
            f"{gateway}/api/v1/auth/token", data={"username": "admin", "password": DEMO_PASSWORD}, timeout=10
        )
        assert token.status_code == 200, token.text
        departments = httpx.get(f"{gateway}/api/v1/departments", params={"limit": 100}, timeout=10)
        assert departments.status_code == 200 and departments.json()["items"], departments.text
        assert redis_socket.exists()
        # Each worker serves its own /metrics on the port the launcher passed it.
        for variable, port in metrics_ports.items():
            assert wait_until(lambda port=port: _answers(f"http://127.0.0.1:{port}/metrics"), timeout=60), variable
        sweeps = httpx.get(f"http://127.0.0.1:{metrics_ports['SLA_METRICS_PORT']}/metrics", timeout=5).text
        assert 'outbox_unrelayed_events{outbox="tickets"}' in sweeps
        deliveries = httpx.get(
            f"http://127.0.0.1:{metrics_ports['NOTIFICATION_WORKER_METRICS_PORT']}/metrics", timeout=5
        )
        assert 'webhook_delivery_backlog{status="pending"}' in deliveries.text
        children = _children(launcher.pid)
        assert len(children) == len(ports) + len(WORKERS), children

        stop(launcher)
        assert launcher.wait(60) == 0, log_path.read_text()
        output = log_path.read_text()
        assert "[run] stopped" in output, output
        assert all(_gone(child) for child in children)
        assert not any(_listening(port) for port in [*ports.values(), *metrics_ports.values()])
        assert not redis_socket.exists()
    finally:
        if launcher.poll() is None:
            os.killpg(launcher.pid, signal.SIGKILL)
            launcher.wait()
        # A launcher that failed to stop what it started must not leave it running after the test.
        for child in children:
            if not _gone(child):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(child, signal.SIGKILL)
        if redis_socket.exists():
            with contextlib.suppress(redis.RedisError):
                redis.Redis(unix_socket_path=str(redis_socket)).shutdown(nosave=True)
