"""What the gateway costs, measured honestly (issue 14), printed as figures (never asserted).

One run starts the catalogue (the upstream, answering an item GET from its read cache) and, in
front of it, each proxy under test: the gateway under uvicorn with metrics on and off, and with
its own protocol (gateway.server: a response's head and body in one write), the gateway under
granian (if installed), a minimal aiohttp proxy (benchmarks/minimal_proxy.py, the limit of a
Python proxy), the same bare forwarding as an ASGI app under the gateway's uvicorn and protocol
(benchmarks/minimal_asgi_proxy.py: the server's share of the cost) and nginx (Debian's
package; its config is generated into a temporary directory and it runs as a non-daemon child
on a free port). Then, for the same request:

(a) CPU per proxied request: each proxy's own CPU counters (its process and children, from
    /proc) over a fixed number of requests at a fixed concurrency, in interleaved rounds (the
    median is printed; the spread says how noisy the machine was);
(b) added latency: p50 and p99 at a fixed, unsaturated rate (open loop, timed from each
    request's scheduled instant) through each proxy, minus the same figures straight to the
    catalogue.

Targets: gateway CPU per request <= 1.3 x the minimal aiohttp proxy; added p99 <= 2 ms at
300 req/s; metrics on cost the gateway's hot path <= 5 %.

    flock /tmp/heavy.lock python benchmarks/gateway_cost.py [--requests 4000] [--rounds 3] [--rate 300]
    BENCH_DATABASE_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/bench (default)
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import aiohttp
import uvloop
from asgi_lifespan import LifespanManager
from common import DEFAULT_URL, platform_env, prepare_database

from gateway.app import create_app as create_gateway_app
from gateway.settings import GatewaySettings
from tests.support import PROJECT_ROOT, free_port, uvicorn_server, wait_until

PATH = "/api/v1/items/LS-001"
NGINX_CONFIG = """\
worker_processes 1;
daemon off;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    upstream catalogue {{ server 127.0.0.1:{upstream}; keepalive 64; }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://catalogue;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header X-Forwarded-For $remote_addr;
        }}
    }}
}}
"""


def _stat_fields(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def tree_cpu_seconds(root: int) -> float:
    """User + system CPU of `root` and its live descendants (nginx's and granian's workers)."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parents[int(stat.parent.name)] = int(_stat_fields(int(stat.parent.name))[1])
        except (OSError, IndexError, ValueError):
            continue
    tree, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, ppid in parents.items() if ppid == parent and pid not in tree]
        tree.update(children)
        frontier.extend(children)
    total = 0
    for pid in tree:
        try:
            fields = _stat_fields(pid)
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


@contextmanager
def child(argv: list[str], env: dict[str, str], port: int, health_path: str) -> Iterator[subprocess.Popen[bytes]]:
    process = subprocess.Popen(argv, env={**os.environ, **env}, cwd=PROJECT_ROOT)
    try:

        def ready() -> bool:
            if process.poll() is not None:
                return True
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}{health_path}", timeout=1) as response:
                    return bool(response.status == 200)
            except OSError:
                return False

        if not wait_until(ready, timeout=60) or process.poll() is not None:
            raise RuntimeError(f"{argv[:4]} did not start on port {port}")
        yield process
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


async def closed_loop(url: str, requests: int, concurrency: int) -> None:
    """`requests` GETs, `concurrency` at a time on kept-alive connections."""
    remaining = requests
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def worker() -> None:
            nonlocal remaining
            while remaining > 0:
                remaining -= 1
                async with session.get(url) as response:
                    await response.read()
                    if response.status != 200:
                        raise SystemExit(f"{url}: status {response.status}")

        await asyncio.gather(*(worker() for _ in range(concurrency)))


async def open_loop(url: str, rate: float, seconds: float) -> tuple[list[float], list[float]]:
    """Latencies (ms) of GETs sent at `rate` per second: from the instant each was sent, and
    from its scheduled instant (so a stall delays the requests behind it in the figures too:
    no coordinated omission). Both on time.perf_counter: uvloop's loop.time() moves in whole
    milliseconds (libuv's clock, read once per turn of the loop), which quantised every figure
    to 1 ms; its timers fire in whole milliseconds too, so a request may leave up to a
    millisecond after its scheduled instant, the same for every target."""
    clock = time.perf_counter
    sent_latencies: list[float] = []
    scheduled_latencies: list[float] = []
    connector = aiohttp.TCPConnector(limit=256)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def warm() -> None:
            async with session.get(url) as response:
                await response.read()

        # Open a few connections before the clock starts.
        await asyncio.gather(*(warm() for _ in range(16)))
        start = clock() + 0.2

        async def one(at: float) -> None:
            await asyncio.sleep(max(0.0, at - clock()))
            sent = clock()
            async with session.get(url) as response:
                await response.read()
                if response.status != 200:
                    raise SystemExit(f"{url}: status {response.status}")
            done = clock()
            sent_latencies.append((done - sent) * 1000)
            scheduled_latencies.append((done - at) * 1000)

        await asyncio.gather(*(one(start + index / rate) for index in range(int(rate * seconds))))
    return sent_latencies, scheduled_latencies


def cpu_per_request(pid: int, url: str, requests: int, concurrency: int) -> float:
    """Microseconds of the process tree's CPU per request."""
    uvloop.run(closed_loop(url, requests // 10, concurrency))
    before = tree_cpu_seconds(pid)
    uvloop.run(closed_loop(url, requests, concurrency))
    return (tree_cpu_seconds(pid) - before) * 1e6 / requests


async def _constant_upstream(_scope: dict[str, Any], receive: Any, send: Any) -> None:
    await receive()
    headers = [(b"content-type", b"application/json"), (b"content-length", b"2")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": b"{}"})


async def in_process_cost(database_url: str, *, metrics_enabled: bool, requests: int) -> float:
    """Microseconds of this process's CPU per request through the gateway's app alone (its
    middleware and proxy routing, no server, no network) to a constant in-process upstream:
    the best of five runs, so what metrics add is seen without the machine's noise."""
    # The allowances the served gateways get (benchmarks.common.platform_env): with the default
    # ones nearly every request here would be a 429 past the first burst, and measure that.
    settings = GatewaySettings(
        database_url=database_url,
        metrics_enabled=metrics_enabled,
        log_level="WARNING",
        log_json=True,
        rate_limit_burst_per_ip=100_000_000,
        rate_limit_burst_per_principal=100_000_000,
    )
    app = create_gateway_app(
        settings, upstreams=dict.fromkeys(("catalog", "tickets", "notifications"), _constant_upstream)
    )
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": PATH,
        "raw_path": PATH.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"gateway"), (b"user-agent", b"bench"), (b"accept", b"*/*")],
        "client": ("127.0.0.1", 40000),
        "server": ("127.0.0.1", 8000),
    }

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(_message: dict[str, Any]) -> None:
        return None

    async with LifespanManager(app) as manager:
        for _ in range(requests // 5):
            await manager.app(dict(scope), receive, send)
        best = float("inf")
        for _ in range(5):
            started = time.process_time()
            for _ in range(requests):
                await manager.app(dict(scope), receive, send)
            best = min(best, (time.process_time() - started) * 1e6 / requests)
    return best


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=4000, help="requests per CPU measurement")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--rate", type=float, default=300.0)
    parser.add_argument("--seconds", type=float, default=8.0, help="length of each fixed-rate run")
    args = parser.parse_args()
    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    prepare_database(url)
    names = (
        "catalog",
        "tickets",
        "notifications",
        "gateway",
        "gateway_off",
        "gateway_one_write",
        "granian",
        "aiohttp",
        "asgi",
        "nginx",
    )
    ports = {name: free_port() for name in names}
    # Only the catalogue runs behind the proxies; its relay has no notification service to reach.
    env = {**platform_env(url, ports), "LOG_JSON": "true", "CATALOG_RELAY_INTERVAL_SECONDS": "0"}
    upstream = f"http://127.0.0.1:{ports['catalog']}"
    load_before = os.getloadavg()
    print(
        f"machine: {os.cpu_count()} cores; load average {load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f}"
    )
    with ExitStack() as stack, tempfile.TemporaryDirectory(prefix="gateway-cost-") as tmp:
        stack.enter_context(uvicorn_server("catalog_service.app:create_app", ports["catalog"], env))
        pids: dict[str, int] = {}
        pids["gateway (uvicorn, metrics on)"] = stack.enter_context(
            uvicorn_server("gateway.app:create_app", ports["gateway"], env, health=False)
        ).pid
        pids["gateway (uvicorn, metrics off)"] = stack.enter_context(
            uvicorn_server(
                "gateway.app:create_app", ports["gateway_off"], {**env, "METRICS_ENABLED": "false"}, health=False
            )
        ).pid
        # The same gateway with its own protocol (gateway.server): head and body in one write.
        coalescing = {**env, "UVICORN_HTTP": "gateway.server:CoalescingHttpToolsProtocol"}
        pids["gateway (uvicorn, one write)"] = stack.enter_context(
            uvicorn_server("gateway.app:create_app", ports["gateway_one_write"], coalescing, health=False)
        ).pid
        urls = {
            "gateway (uvicorn, metrics on)": f"http://127.0.0.1:{ports['gateway']}{PATH}",
            "gateway (uvicorn, metrics off)": f"http://127.0.0.1:{ports['gateway_off']}{PATH}",
            "gateway (uvicorn, one write)": f"http://127.0.0.1:{ports['gateway_one_write']}{PATH}",
        }
        granian = shutil.which("granian", path=str(Path(sys.executable).parent))
        if granian:
            argv = [granian, "--interface", "asgi", "--factory", "--host", "127.0.0.1", "--port", str(ports["granian"])]
            argv += [
                "--workers",
                "1",
                "--loop",
                "uvloop",
                "--no-ws",
                "--log-level",
                "warning",
                "gateway.app:create_app",
            ]
            pids["gateway (granian, metrics on)"] = stack.enter_context(
                child(argv, env, ports["granian"], "/health/live")
            ).pid
            urls["gateway (granian, metrics on)"] = f"http://127.0.0.1:{ports['granian']}{PATH}"
        minimal = [
            sys.executable,
            "benchmarks/minimal_proxy.py",
            "--port",
            str(ports["aiohttp"]),
            "--upstream",
            upstream,
        ]
        pids["minimal aiohttp proxy"] = stack.enter_context(child(minimal, env, ports["aiohttp"], PATH)).pid
        # The same bare forwarding as an ASGI app under the gateway's server and protocol: what
        # the server costs, apart from the gateway's app.
        bare_asgi = {**coalescing, "MINIMAL_PROXY_UPSTREAM": upstream}
        pids["minimal ASGI proxy (uvicorn, one write)"] = stack.enter_context(
            uvicorn_server("benchmarks.minimal_asgi_proxy:create_app", ports["asgi"], bare_asgi, health=False)
        ).pid
        urls["minimal ASGI proxy (uvicorn, one write)"] = f"http://127.0.0.1:{ports['asgi']}{PATH}"
        urls["minimal aiohttp proxy"] = f"http://127.0.0.1:{ports['aiohttp']}{PATH}"
        nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
        if nginx:
            config = Path(tmp) / "nginx.conf"
            config.write_text(NGINX_CONFIG.format(tmp=tmp, upstream=ports["catalog"], port=ports["nginx"]))
            argv = [nginx, "-e", f"{tmp}/error.log", "-p", tmp, "-c", str(config)]
            pids["nginx"] = stack.enter_context(child(argv, env, ports["nginx"], PATH)).pid
            urls["nginx"] = f"http://127.0.0.1:{ports['nginx']}{PATH}"
        else:
            print("nginx not installed (apt-get install -y nginx): its column is missing")

        print(
            f"(a) CPU per proxied GET {PATH}: {args.requests} requests x {args.rounds} rounds,"
            f" {args.concurrency} at a time"
        )
        cpu: dict[str, list[float]] = {name: [] for name in urls}
        for _ in range(args.rounds):
            for name, target in urls.items():
                cpu[name].append(cpu_per_request(pids[name], target, args.requests, args.concurrency))
        medians = {name: statistics.median(values) for name, values in cpu.items()}
        for name, values in cpu.items():
            spread = f"{min(values):.0f}-{max(values):.0f}"
            print(f"  {name:<34}{medians[name]:>8.0f} us/request  (rounds {spread})")
        limit = medians["minimal aiohttp proxy"]
        for name in urls:
            if name.startswith("gateway"):
                ratio = medians[name] / limit
                # Each round's own ratio too: the machine's speed drifts between rounds, less
                # within one, where the proxies are measured seconds apart.
                paired = [value / base for value, base in zip(cpu[name], cpu["minimal aiohttp proxy"], strict=True)]
                print(
                    f"  {name} / minimal aiohttp: {ratio:.2f}; per round {statistics.median(paired):.2f}"
                    f" ({min(paired):.2f}-{max(paired):.2f})  (target <= 1.30) {verdict(ratio <= 1.3)}"
                )
        server_limit = medians["minimal ASGI proxy (uvicorn, one write)"]
        app_share = medians["gateway (uvicorn, one write)"] / server_limit
        print(
            f"  minimal ASGI proxy (uvicorn, one write) / minimal aiohttp: {server_limit / limit:.2f}"
            f" (the server's share); gateway (uvicorn, one write) / it: {app_share:.2f} (the app's)"
        )
        overhead = medians["gateway (uvicorn, metrics on)"] / medians["gateway (uvicorn, metrics off)"] - 1
        print(
            f"  metrics on vs off (uvicorn gateway): {overhead * 100:+.1f} %"
            f"  (target <= +5 %) {verdict(overhead <= 0.05)}"
        )
        scratch = f"sqlite+aiosqlite:///{tmp}/in-process.db"
        on = uvloop.run(in_process_cost(scratch, metrics_enabled=True, requests=args.requests))
        off = uvloop.run(in_process_cost(scratch, metrics_enabled=False, requests=args.requests))
        added = (on - off) / medians["gateway (uvicorn, metrics off)"]
        print(
            f"  the gateway's app alone (in-process, best of 5): metrics on {on:.1f} us, off {off:.1f} us;"
            f" the {on - off:.1f} us added are {added * 100:+.1f} % of a proxied request's CPU"
            f" (target <= +5 %) {verdict(added <= 0.05)}"
        )

        print(
            f"(b) latency at {args.rate:.0f} req/s for {args.seconds:.0f} s each"
            " (ms from each request's sending; p99s from its scheduled instant in brackets)"
        )
        direct_url = f"{upstream}{PATH}"
        latencies = {"catalogue directly": uvloop.run(open_loop(direct_url, args.rate, args.seconds))}
        for name, target in urls.items():
            latencies[name] = uvloop.run(open_loop(target, args.rate, args.seconds))
        # Directly again at the end: the machine's drift shows in the two direct runs.
        latencies["catalogue directly (again)"] = uvloop.run(open_loop(direct_url, args.rate, args.seconds))
        directs = ("catalogue directly", "catalogue directly (again)")
        base50 = min(percentile(latencies[n][0], 0.5) for n in directs)
        base99 = min(percentile(latencies[n][0], 0.99) for n in directs)
        scheduled99 = min(percentile(latencies[n][1], 0.99) for n in directs)
        print(f"  {'target':<34}{'p50':>8}{'p99':>8}{'+p50':>8}{'+p99':>8}  {'(p99':>6}{'+p99)':>7}")
        for name, (sent, scheduled) in latencies.items():
            p50, p99, late99 = percentile(sent, 0.5), percentile(sent, 0.99), percentile(scheduled, 0.99)
            direct = name.startswith("catalogue")
            added = "" if direct else f"{p50 - base50:>8.2f}{p99 - base99:>8.2f}"
            added = f"{added:<16}" if not direct else " " * 16
            bracket = f"  ({late99:>5.2f}" + ("" if direct else f" {late99 - scheduled99:+6.2f}") + ")"
            mark = f"  {verdict(p99 - base99 <= 2.0)} (+p99 <= 2 ms)" if name.startswith("gateway") else ""
            print(f"  {name:<34}{p50:>8.2f}{p99:>8.2f}{added}{bracket}{mark}")
    load_after = os.getloadavg()
    print(f"load average after: {load_after[0]:.2f} {load_after[1]:.2f} {load_after[2]:.2f}")
    print(f"run took until {time.strftime('%H:%M:%S')}")


if __name__ == "__main__":
    main()
