"""The limit of a Python proxy, for benchmarks/gateway_cost.py: an aiohttp server and client on
uvloop that forward every request to one upstream and do nothing else (no auth, no request
id, no limits, no metrics).

    python benchmarks/minimal_proxy.py --port 9000 --upstream http://127.0.0.1:8001
"""

from __future__ import annotations

import argparse
import asyncio

import aiohttp
import uvloop
from aiohttp import web
from yarl import URL

DROPPED = frozenset({"connection", "keep-alive", "transfer-encoding", "host", "content-length", "date", "server"})


async def serve(port: int, upstream: str) -> None:
    session = aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=200), auto_decompress=False, skip_auto_headers=("User-Agent",)
    )

    async def forward(request: web.Request) -> web.Response:
        body = await request.read()
        headers = [(key, value) for key, value in request.headers.items() if key.lower() not in DROPPED]
        url = URL(upstream + request.rel_url.raw_path_qs, encoded=True)
        async with session.request(
            request.method, url, headers=headers, data=body or None, allow_redirects=False
        ) as response:
            payload = await response.read()
            answer = [(key, value) for key, value in response.headers.items() if key.lower() not in DROPPED]
            return web.Response(status=response.status, body=payload, headers=answer)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", forward)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        await asyncio.Event().wait()
    finally:
        await session.close()
        await runner.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--upstream", required=True)
    args = parser.parse_args()
    uvloop.run(serve(args.port, args.upstream.rstrip("/")))


if __name__ == "__main__":
    main()
