"""The platform's processes: what to start, where they listen, how to wait for and stop them."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from launcher.registry import HTTP_SERVICES, WORKERS, HttpService, Worker

# Replica i of a service listens on its port + i * step: 8001, 8011, 8021 for the catalogue.
DEFAULT_PORT_STEP = 10


@dataclass(frozen=True, slots=True)
class ProcessSpec:
    name: str
    argv: list[str]
    # Settings of this process alone (a worker replica's metrics port); the caller's environment wins.
    defaults: Mapping[str, str] = field(default_factory=dict)

    def environment(self, shared: Mapping[str, str]) -> dict[str, str]:
        return {**self.defaults, **shared}


# The gateway's head and body of an answer leave in one write (gateway.server): about a tenth
# less CPU per proxied request (benchmarks/gateway_cost.py, "one write").
SERVER_OPTIONS: Mapping[str, tuple[str, ...]] = {
    "gateway.app": ("--http", "gateway.server:CoalescingHttpToolsProtocol"),
}


def uvicorn_argv(app_module: str, host: str, port: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "uvicorn",
        f"{app_module}:create_app",
        "--factory",
        "--host",
        host,
        "--port",
        str(port),
        "--no-access-log",
        # The gateway judges X-Forwarded-For itself (gateway.client_address).
        "--no-proxy-headers",
        "--log-level",
        "warning",
        "--timeout-graceful-shutdown",
        "5",
        *SERVER_OPTIONS.get(app_module, ()),
    ]


def replica_name(name: str, index: int, replicas: int) -> str:
    """`catalog` alone, `catalog-1`, `catalog-2`, ... when there are several."""
    return name if replicas == 1 else f"{name}-{index + 1}"


def replica_ports(base: int, replicas: int, port_step: int) -> list[int]:
    """Replica i listens on `base + i * port_step` (8001, 8011, ... with the default step)."""
    return [base + index * port_step for index in range(replicas)]


def process_specs(
    host: str,
    ports: Mapping[str, int],
    services: Sequence[HttpService] = HTTP_SERVICES,
    workers: Sequence[Worker] = WORKERS,
    *,
    replicas: int = 1,
    port_step: int = DEFAULT_PORT_STEP,
) -> list[ProcessSpec]:
    """Every process to start: each HTTP service and each worker `replicas` times."""
    specs = [
        ProcessSpec(replica_name(service.name, index, replicas), uvicorn_argv(service.app_module, host, port))
        for service in services
        for index, port in enumerate(replica_ports(ports[service.name], replicas, port_step))
    ]
    specs += [
        ProcessSpec(
            replica_name(worker.name, index, replicas),
            [sys.executable, "-m", worker.module],
            {worker.metrics_port_variable: str(port)},
        )
        for worker in workers
        for index, port in enumerate(replica_ports(worker.metrics_port, replicas, port_step))
    ]
    return specs


def service_ports(services: Sequence[HttpService] = HTTP_SERVICES) -> dict[str, int]:
    """Each service's port from its own settings (`GATEWAY_PORT`, `CATALOG_PORT`, ...)."""
    return {service.name: service.settings_class().port for service in services}


def service_urls(
    ports: Mapping[str, int],
    services: Sequence[HttpService] = HTTP_SERVICES,
    *,
    replicas: int = 1,
    port_step: int = DEFAULT_PORT_STEP,
) -> dict[str, str]:
    """The variables through which the processes find each other: `CATALOG_URL` (the first
    replica) and, with several, `CATALOG_URLS` listing them all; the same for each service."""
    urls: dict[str, str] = {}
    for service in services:
        listed = [f"http://127.0.0.1:{port}" for port in replica_ports(ports[service.name], replicas, port_step)]
        urls[service.url_variable] = listed[0]
        if replicas > 1:
            urls[service.url_variable + "S"] = ",".join(listed)
    return urls


def health_urls(
    ports: Mapping[str, int],
    services: Sequence[HttpService] = HTTP_SERVICES,
    *,
    replicas: int = 1,
    port_step: int = DEFAULT_PORT_STEP,
) -> list[str]:
    return [
        f"http://127.0.0.1:{port}/health"
        for service in services
        for port in replica_ports(ports[service.name], replicas, port_step)
    ]


def wait_healthy(
    url: str | Sequence[str],
    processes: Mapping[str, subprocess.Popen[bytes]],
    stop_requested: Callable[[], bool],
    timeout: float = 120,
) -> bool:
    """True once every URL answers 200; False if a process exits, a stop is requested, or time runs out."""
    pending = [url] if isinstance(url, str) else list(url)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        # Checked first: a Ctrl-C during start-up also stops the children, which is no failure.
        if stop_requested():
            return False
        for name, process in processes.items():
            if process.poll() is not None:
                print(f"[run] {name} exited with {process.returncode} during start-up", file=sys.stderr)
                return False
        pending = [candidate for candidate in pending if not _answers(candidate)]
        if not pending:
            return True
        time.sleep(0.5)
    return False


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def stop_processes(processes: Mapping[str, subprocess.Popen[bytes]], timeout: float = 10) -> None:
    for process in processes.values():
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for process in processes.values():
        remaining = max(0.1, deadline - time.monotonic())
        try:
            process.wait(remaining)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
