"""The platform's processes: what to start, where they listen, how to wait for and stop them."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from launcher.registry import HTTP_SERVICES, WORKERS, HttpService, Worker


@dataclass(frozen=True, slots=True)
class ProcessSpec:
    name: str
    argv: list[str]


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
    ]


def process_specs(
    host: str,
    ports: Mapping[str, int],
    services: Sequence[HttpService] = HTTP_SERVICES,
    workers: Sequence[Worker] = WORKERS,
) -> list[ProcessSpec]:
    specs = [
        ProcessSpec(service.name, uvicorn_argv(service.app_module, host, ports[service.name])) for service in services
    ]
    specs += [ProcessSpec(worker.name, [sys.executable, "-m", worker.module]) for worker in workers]
    return specs


def service_ports(services: Sequence[HttpService] = HTTP_SERVICES) -> dict[str, int]:
    """Each service's port from its own settings (`GATEWAY_PORT`, `CATALOG_PORT`, ...)."""
    return {service.name: service.settings_class().port for service in services}


def service_urls(ports: Mapping[str, int], services: Sequence[HttpService] = HTTP_SERVICES) -> dict[str, str]:
    """The variables through which the processes find each other (`CATALOG_URL`, ...)."""
    return {service.url_variable: f"http://127.0.0.1:{ports[service.name]}" for service in services}


def wait_healthy(
    url: str,
    processes: Mapping[str, subprocess.Popen[bytes]],
    stop_requested: Callable[[], bool],
    timeout: float = 120,
) -> bool:
    """True once `url` answers 200; False if a process exits, a stop is requested, or time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        # Checked first: a Ctrl-C during start-up also stops the children, which is no failure.
        if stop_requested():
            return False
        for name, process in processes.items():
            if process.poll() is not None:
                print(f"[run] {name} exited with {process.returncode} during start-up", file=sys.stderr)
                return False
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return True
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.5)
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
