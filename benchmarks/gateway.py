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
import os
from contextlib import ExitStack

from common import DEFAULT_URL, load_tool, measure, platform_env, prepare_database, print_table
from sqlalchemy.engine import make_url

from tests.support import free_port, uvicorn_server


def _ratios(results: dict[str, tuple[float, float, float]], suffix: str) -> None:
    def verdict(value: float, target: float) -> str:
        return "PASS" if value >= target else "MISS"

    item = results[f"item GET gateway{suffix}"][0] / results[f"item GET direct{suffix}"][0]
    listing = results[f"list items gateway{suffix}"][0] / results[f"list items direct{suffix}"][0]
    bare = results[f"item GET direct{suffix}"][0] / results["bare constant"][0]
    print(f"[{suffix.strip() or 'as configured'}]")
    print(f"  gateway/direct item GET : {item:.2f}  (target >= 0.70) {verdict(item, 0.7)}")
    print(f"  gateway/direct list     : {listing:.2f}  (target >= 0.70) {verdict(listing, 0.7)}")
    print(f"  direct item GET / bare  : {bare:.2f}  (target >= 0.25) {verdict(bare, 0.25)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=64)
    args = parser.parse_args()
    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    prepare_database(url)
    names = ("catalog", "gateway", "bare", "tickets", "notifications", "catalog_nc", "gateway_nc")
    ports = {name: free_port() for name in names}
    env = {**platform_env(url, ports), "LOG_JSON": "true"}
    # The same catalogue with its read cache off, behind its own gateway: what Core + ETag give.
    no_cache = {**env, "CATALOG_READ_CACHE_SECONDS": "0", "CATALOG_URL": f"http://127.0.0.1:{ports['catalog_nc']}"}
    print(
        f"load: {load_tool()}, {args.connections} connections, {args.seconds} s each; database {make_url(url).database}"
    )
    with ExitStack() as stack:
        stack.enter_context(uvicorn_server("catalog_service.app:create_app", ports["catalog"], env))
        stack.enter_context(uvicorn_server("gateway.app:create_app", ports["gateway"], env, health=False))
        stack.enter_context(uvicorn_server("catalog_service.app:create_app", ports["catalog_nc"], no_cache))
        stack.enter_context(uvicorn_server("gateway.app:create_app", ports["gateway_nc"], no_cache, health=False))
        stack.enter_context(uvicorn_server("benchmarks.bare_app:create_app", ports["bare"], env))
        urls = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
        targets = {
            "bare constant": f"{urls['bare']}/constant",
            "floor: one Core select": f"{urls['bare']}/core-item/LS-001",
        }
        for suffix, catalog, gateway in (("", "catalog", "gateway"), (" (no cache)", "catalog_nc", "gateway_nc")):
            targets[f"item GET direct{suffix}"] = f"{urls[catalog]}/api/v1/items/LS-001"
            targets[f"item GET gateway{suffix}"] = f"{urls[gateway]}/api/v1/items/LS-001"
            targets[f"list items direct{suffix}"] = f"{urls[catalog]}/api/v1/items?limit=20"
            targets[f"list items gateway{suffix}"] = f"{urls[gateway]}/api/v1/items?limit=20"
        results = {}
        for name, target in targets.items():
            measure(target, 1, args.connections)
            results[name] = measure(target, args.seconds, args.connections)
    print_table(results)
    _ratios(results, "")
    _ratios(results, " (no cache)")
    floor = results["floor: one Core select"][0] / results["bare constant"][0]
    print(f"floor (one Core select) / bare: {floor:.2f}  (what any database read costs on this machine)")


if __name__ == "__main__":
    main()
