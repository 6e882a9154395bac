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

from common import DEFAULT_URL, load_tool, measure, prepare_database, print_table
from sqlalchemy.engine import make_url

from tests.support import free_port, uvicorn_server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=64)
    args = parser.parse_args()
    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    prepare_database(url)
    env = {"ENVIRONMENT": "development", "DATABASE_URL": url, "LOG_LEVEL": "WARNING", "LOG_JSON": "true"}
    ports = {name: free_port() for name in ("catalog", "gateway", "bare", "tickets", "notifications")}
    env.update(
        CATALOG_URL=f"http://127.0.0.1:{ports['catalog']}",
        TICKET_URL=f"http://127.0.0.1:{ports['tickets']}",
        NOTIFICATION_URL=f"http://127.0.0.1:{ports['notifications']}",
        REDIS_URL=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
    )
    print(
        f"load: {load_tool()}, {args.connections} connections, {args.seconds} s each; database {make_url(url).database}"
    )
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
    print_table(results)
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
