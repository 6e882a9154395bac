"""Shared scaffolding of the HTTP benchmarks: the database, the servers, the load generator.

The load generator is wrk when installed (the same one for every target), else a small
aiohttp client; a request may carry a method, headers and a body (wrk gets a Lua script).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp
from sqlalchemy import text
from sqlalchemy.engine import make_url

from launcher.migrations import migrate
from launcher.seeding import seed
from services.db import create_engine
from services.settings import SharedSettings


@dataclass(frozen=True)
class Target:
    url: str
    method: str = "GET"
    headers: dict[str, str] = field(default_factory=dict)
    body: str | None = None


DEFAULT_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/bench"


async def ensure_database(url: str) -> None:
    parsed = make_url(url)
    admin = parsed.set(database="postgres").render_as_string(hide_password=False)
    engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    async with engine.connect() as connection:
        exists = await connection.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": parsed.database})
        if not exists:
            await connection.execute(text(f'CREATE DATABASE "{parsed.database}"'))
    await engine.dispose()


def _lua(target: Target) -> str:
    lines = [f"wrk.method = {json.dumps(target.method)}"]
    for name, value in target.headers.items():
        lines.append(f"wrk.headers[{json.dumps(name)}] = {json.dumps(value)}")
    if target.body is not None:
        lines.append(f"wrk.body = {json.dumps(target.body, ensure_ascii=False)}")
    return "\n".join(lines) + "\n"


def run_wrk(target: Target, seconds: int, connections: int) -> tuple[float, float, float]:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(_lua(target))
    output = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", script.name, target.url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    os.unlink(script.name)
    url = target.url
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]

    def percentile(label: str) -> float:
        match = re.search(rf"\s{label}%\s+([\d.]+)(us|ms|s)", output)
        assert match, output
        value, unit = float(match.group(1)), match.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if non_2xx:
        raise SystemExit(f"{url}: {non_2xx.group(1)} error responses")
    return rate, percentile("50"), percentile("99")


async def run_aiohttp(target: Target, seconds: int, connections: int) -> tuple[float, float, float]:
    url = target.url
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds
    connector = aiohttp.TCPConnector(limit=connections)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def worker() -> None:
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                async with session.request(target.method, url, headers=target.headers, data=target.body) as response:
                    await response.read()
                    if response.status >= 300:
                        raise SystemExit(f"{url}: status {response.status}")
                latencies.append((time.perf_counter() - started) * 1000)

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(connections)))
        elapsed = time.perf_counter() - began
    quantiles = statistics.quantiles(latencies, n=100)
    return len(latencies) / elapsed, quantiles[49], quantiles[98]


def measure(target: Target | str, seconds: int, connections: int) -> tuple[float, float, float]:
    """requests/s, p50 ms, p99 ms."""
    if isinstance(target, str):
        target = Target(target)
    if shutil.which("wrk"):
        return run_wrk(target, seconds, connections)
    return asyncio.run(run_aiohttp(target, seconds, connections))


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def postgres_cpu_seconds() -> float:
    """CPU time used so far by every local PostgreSQL process (backends come and go, so the
    total is a lower bound when connections close during the run)."""
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        if "(postgres)" in text:
            fields = text.rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def measure_with_cpu(
    target: Target, seconds: int, connections: int, pids: dict[str, int]
) -> tuple[tuple[float, float, float], dict[str, float]]:
    """`measure`, plus each named process's CPU milliseconds per request while it ran."""

    def snapshot() -> dict[str, float]:
        return {**{name: cpu_seconds(pid) for name, pid in pids.items()}, "postgres": postgres_cpu_seconds()}

    before = snapshot()
    started = time.perf_counter()
    result = measure(target, seconds, connections)
    requests = result[0] * (time.perf_counter() - started)
    after = snapshot()
    used = {name: (after[name] - before[name]) * 1000 / max(requests, 1) for name in after}
    return result, {name: ms for name, ms in used.items() if ms >= 0.05}


def platform_env(url: str, ports: dict[str, int]) -> dict[str, str]:
    """The environment of the platform's servers on `url`, each service on its port in `ports`."""
    return {
        "ENVIRONMENT": "development",
        "DATABASE_URL": url,
        "LOG_LEVEL": "WARNING",
        "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
        "CATALOG_URL": f"http://127.0.0.1:{ports['catalog']}",
        "TICKET_URL": f"http://127.0.0.1:{ports['tickets']}",
        "NOTIFICATION_URL": f"http://127.0.0.1:{ports['notifications']}",
        # The load comes from one address and a few callers: the limiter runs, but never refuses.
        "GATEWAY_RATE_LIMIT_BURST_PER_IP": "100000000",
        "GATEWAY_RATE_LIMIT_BURST_PER_PRINCIPAL": "100000000",
    }


def prepare_database(url: str) -> None:
    asyncio.run(ensure_database(url))
    migrate(url)
    asyncio.run(seed(SharedSettings(database_url=url)))


def print_table(results: dict[str, tuple[float, float, float]]) -> None:
    print(f"{'target':<28}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}")
    for name, (rate, p50, p99) in results.items():
        print(f"{name:<28}{rate:>10.0f}{p50:>10.2f}{p99:>10.2f}")


def load_tool() -> str:
    return "wrk" if shutil.which("wrk") else "aiohttp"
