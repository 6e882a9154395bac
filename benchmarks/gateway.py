"""Gateway overhead and catalogue hot reads, on PostgreSQL, printed as figures (never asserted).

Starts real uvicorn servers (catalogue, gateway, and a bare FastAPI endpoint returning a
constant) on free ports against a benchmark database, then drives each URL with the same
load generator (wrk if installed, else a small aiohttp client) at the same concurrency.

    python benchmarks/gateway.py [--seconds 10] [--connections 64]
    BENCH_DATABASE_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/bench (default)

Targets (issue 2): through the gateway >= 0.7 x direct; direct item GET >= 0.25 x bare.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from contextlib import ExitStack
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp
from sqlalchemy import text
from sqlalchemy.engine import make_url

from services.cli import migrate, seed
from services.db import create_engine
from services.settings import SharedSettings
from tests.support import free_port, uvicorn_server

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


def run_wrk(url: str, seconds: int, connections: int) -> tuple[float, float, float]:
    output = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
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


async def run_aiohttp(url: str, seconds: int, connections: int) -> tuple[float, float, float]:
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds
    connector = aiohttp.TCPConnector(limit=connections)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def worker() -> None:
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                async with session.get(url) as response:
                    await response.read()
                    if response.status != 200:
                        raise SystemExit(f"{url}: status {response.status}")
                latencies.append((time.perf_counter() - started) * 1000)

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(connections)))
        elapsed = time.perf_counter() - began
    quantiles = statistics.quantiles(latencies, n=100)
    return len(latencies) / elapsed, quantiles[49], quantiles[98]


def measure(url: str, seconds: int, connections: int) -> tuple[float, float, float]:
    if shutil.which("wrk"):
        return run_wrk(url, seconds, connections)
    return asyncio.run(run_aiohttp(url, seconds, connections))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=64)
    args = parser.parse_args()
    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    asyncio.run(ensure_database(url))
    migrate(url)
    env = {"ENVIRONMENT": "development", "DATABASE_URL": url, "LOG_LEVEL": "WARNING", "LOG_JSON": "true"}
    asyncio.run(seed(SharedSettings(database_url=url)))
    ports = {name: free_port() for name in ("catalog", "gateway", "bare", "tickets", "notifications")}
    env.update(
        CATALOG_URL=f"http://127.0.0.1:{ports['catalog']}",
        TICKET_URL=f"http://127.0.0.1:{ports['tickets']}",
        NOTIFICATION_URL=f"http://127.0.0.1:{ports['notifications']}",
        REDIS_URL=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
    )
    tool = "wrk" if shutil.which("wrk") else "aiohttp"
    print(f"load: {tool}, {args.connections} connections, {args.seconds} s each; database {make_url(url).database}")
    with ExitStack() as stack:
        stack.enter_context(uvicorn_server("catalog_service.app:create_app", ports["catalog"], env))
        stack.enter_context(uvicorn_server("gateway.app:create_app", ports["gateway"], env, health=False))
        stack.enter_context(uvicorn_server("benchmarks.bare_app:create_app", ports["bare"], env))
        gateway, catalog, bare = (f"http://127.0.0.1:{ports[n]}" for n in ("gateway", "catalog", "bare"))
        targets = {
            "bare constant": f"{bare}/constant",
            "floor: one Core select": f"{bare}/core-item/LS-001",
            "item GET direct": f"{catalog}/api/v1/items/LS-001",
            "item GET gateway": f"{gateway}/api/v1/items/LS-001",
            "list items direct": f"{catalog}/api/v1/items?limit=20",
            "list items gateway": f"{gateway}/api/v1/items?limit=20",
        }
        results = {}
        for name, target in targets.items():
            measure(target, 1, args.connections)
            results[name] = measure(target, args.seconds, args.connections)
    print(f"{'target':<22}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}")
    for name, (rate, p50, p99) in results.items():
        print(f"{name:<22}{rate:>10.0f}{p50:>10.2f}{p99:>10.2f}")
    item_ratio = results["item GET gateway"][0] / results["item GET direct"][0]
    list_ratio = results["list items gateway"][0] / results["list items direct"][0]
    bare_ratio = results["item GET direct"][0] / results["bare constant"][0]
    print(f"gateway/direct item GET : {item_ratio:.2f}  (target >= 0.70) {'PASS' if item_ratio >= 0.7 else 'MISS'}")
    print(f"gateway/direct list     : {list_ratio:.2f}  (target >= 0.70) {'PASS' if list_ratio >= 0.7 else 'MISS'}")
    print(f"direct item GET / bare  : {bare_ratio:.2f}  (target >= 0.25) {'PASS' if bare_ratio >= 0.25 else 'MISS'}")
    floor = results["floor: one Core select"][0] / results["bare constant"][0]
    print(f"floor (Core select) / bare: {floor:.2f}  (what any database read costs here)")


if __name__ == "__main__":
    main()
