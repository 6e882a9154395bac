"""Webhooks and the hotline on PostgreSQL, printed as figures (never asserted).

The platform's servers, one notification worker (`python -m notification_service.worker`) and
a fast local receiver run as real processes on a scratch database:

- latency: an event committed at the notification service's intake (the relay's POST has
  returned) until the receiver has it, at a steady 200 events/s;
- fan-out: a burst of events to five subscriptions at once, deliveries per second until the
  receiver has them all, with one worker;
- hotline: signed calls through the gateway at 50 calls/s, each until its ticket number came back.

    python benchmarks/webhooks.py [--seconds 10] [--burst 1000]

Targets (issue 11): latency p99 <= 1 s at 200 events/s; fan-out >= 2,000 deliveries/s with
one worker; hotline call -> ticket number p99 reported.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime, timedelta

import httpx
from common import ensure_database, platform_env, prepare_database
from sqlalchemy.engine import make_url
from standardwebhooks import Webhook

from services.settings import DEFAULT_HOTLINE_SECRET, SharedSettings
from tests.support import DEMO_PASSWORD, free_port, reset_database, uvicorn_server

DEFAULT_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/bench_webhooks"


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


class Receiver:
    """A fast endpoint that notes when each webhook-id first arrived, and wakes whoever waits
    for a number of deliveries. A few lines of HTTP/1.1 on asyncio (keep-alive, bodies with a
    Content-Length, as the worker sends them) rather than a web framework: the figure measured
    is the worker's, not the receiver's (aiohttp's server took about a tenth of the fan-out's
    CPU on the same two cores)."""

    def __init__(self) -> None:
        self.arrived: dict[str, float] = {}
        self.count = 0
        self._waiting: list[tuple[int, asyncio.Event]] = []

    def note(self, webhook_id: str) -> None:
        self.count += 1
        self.arrived.setdefault(webhook_id, time.monotonic())
        for target, event in self._waiting:
            if self.count >= target:
                event.set()

    async def wait_for(self, count: int, patience: float) -> None:
        """Until `count` deliveries in all have arrived, or `patience` seconds."""
        event = asyncio.Event()
        if self.count >= count:
            return
        self._waiting.append((count, event))
        try:
            async with asyncio.timeout(patience):
                await event.wait()
        except TimeoutError:
            print(f"  (gave up waiting: {self.count} of {count} deliveries arrived)")


class _ReceiverConnection(asyncio.Protocol):
    def __init__(self, receiver: Receiver) -> None:
        self.receiver = receiver
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while (end := self.buffer.find(b"\r\n\r\n")) >= 0:
            length, webhook_id = 0, ""
            for line in self.buffer[:end].decode("latin-1").split("\r\n")[1:]:
                name, _, value = line.partition(":")
                if name.lower() == "content-length":
                    length = int(value)
                elif name.lower() == "webhook-id":
                    webhook_id = value.strip()
            if len(self.buffer) < end + 4 + length:
                return
            self.buffer = self.buffer[end + 4 + length :]
            self.receiver.note(webhook_id)
            assert self.transport is not None
            self.transport.write(b"HTTP/1.1 204 No Content\r\n\r\n")


async def _start_receiver(receiver: Receiver, port: int) -> asyncio.Server:
    loop = asyncio.get_running_loop()
    return await loop.create_server(lambda: _ReceiverConnection(receiver), "127.0.0.1", port)


def _event(event_type: str = "ticket.status_changed") -> dict[str, object]:
    ticket_id = uuid.uuid4().hex
    return {
        "id": str(uuid.uuid4()),
        "type": event_type,
        "occurred_at": datetime.now(UTC).isoformat(),
        "data": {
            "id": ticket_id,
            "number": "T20261201000001",
            "status": "submitted",
            "department_code": "jxw",
            "enterprise_id": None,
            "co_department_codes": [],
            "version": 1,
        },
    }


@contextmanager
def worker_process(env: dict[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    process = subprocess.Popen([sys.executable, "-m", "notification_service.worker"], env={**os.environ, **env})
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()


async def _subscribe(gateway: str, url: str, count: int) -> None:
    async with httpx.AsyncClient(base_url=gateway, timeout=10) as client:
        token = (await client.post("/api/v1/auth/token", data={"username": "admin", "password": DEMO_PASSWORD})).json()
        headers = {"Authorization": f"Bearer {token['access_token']}"}
        for n in range(count):
            body = {"url": url, "event_types": ["ticket.*"], "description": f"bench {n}"}
            response = await client.post("/api/v1/webhook-subscriptions", json=body, headers=headers)
            response.raise_for_status()


async def _latency(notifications: str, token: str, receiver: Receiver, *, rate: int, seconds: int) -> list[float]:
    committed: dict[str, float] = {}
    before = receiver.count
    async with httpx.AsyncClient(base_url=notifications, timeout=10) as client:
        started = time.monotonic()
        for n in range(rate * seconds):
            await asyncio.sleep(max(0.0, started + n / rate - time.monotonic()))
            event = _event()
            response = await client.post(
                "/internal/events", json={"events": [event]}, headers={"X-Internal-Token": token}
            )
            response.raise_for_status()
            committed[str(event["id"])] = time.monotonic()
    await receiver.wait_for(before + len(committed), patience=60)
    return [receiver.arrived[key] - at for key, at in committed.items() if key in receiver.arrived]


async def _fan_out(notifications: str, token: str, receiver: Receiver, *, events: int, subscriptions: int) -> float:
    before = receiver.count
    batch = [_event() for _ in range(events)]
    async with httpx.AsyncClient(base_url=notifications, timeout=60) as client:
        started = time.monotonic()
        for n in range(0, events, 500):
            response = await client.post(
                "/internal/events", json={"events": batch[n : n + 500]}, headers={"X-Internal-Token": token}
            )
            response.raise_for_status()
    await receiver.wait_for(before + events * subscriptions, patience=300)
    return (receiver.count - before) / (time.monotonic() - started)


async def _hotline(gateway: str, *, rate: int, seconds: int) -> list[float]:
    hook = Webhook(DEFAULT_HOTLINE_SECRET)
    latencies: list[float] = []

    async def one(client: httpx.AsyncClient) -> None:
        body = json.dumps(
            {
                "call_id": f"bench-{uuid.uuid4().hex}",
                "received_at": (datetime.now(UTC) - timedelta(seconds=5)).isoformat(),
                "caller_phone": "13912345678",
                "content": "咨询技术改造专项资金申报。",
            },
            ensure_ascii=False,
        )
        msg_id = f"msg_{uuid.uuid4().hex}"
        now = datetime.now(UTC)
        headers = {
            "webhook-id": msg_id,
            "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": hook.sign(msg_id, now, body),
            "content-type": "application/json",
        }
        started = time.monotonic()
        response = await client.post("/api/v1/hooks/hotline/calls", content=body.encode(), headers=headers)
        response.raise_for_status()
        latencies.append(time.monotonic() - started)

    async with httpx.AsyncClient(base_url=gateway, timeout=30) as client:
        started = time.monotonic()
        tasks = []
        for n in range(rate * seconds):
            await asyncio.sleep(max(0.0, started + n / rate - time.monotonic()))
            tasks.append(asyncio.create_task(one(client)))
        await asyncio.gather(*tasks)
    return latencies


async def measure(gateway: str, notifications: str, receiver_port: int, args: argparse.Namespace) -> None:
    receiver = Receiver()
    server = await _start_receiver(receiver, receiver_port)
    token = SharedSettings().internal_token.get_secret_value()
    try:
        await _subscribe(gateway, f"http://127.0.0.1:{receiver_port}/hook", 1)
        # Warm up: the worker has started and the first delivery has gone out.
        await _latency(notifications, token, receiver, rate=10, seconds=1)
        latencies = await _latency(notifications, token, receiver, rate=200, seconds=args.seconds)
        print(
            f"latency at 200 events/s: {len(latencies)} delivered, p50 {statistics.median(latencies) * 1000:.0f} ms,"
            f" p99 {percentile(latencies, 0.99) * 1000:.0f} ms (target p99 <= 1000 ms)"
        )
        await _subscribe(gateway, f"http://127.0.0.1:{receiver_port}/hook", 4)
        rate = await _fan_out(notifications, token, receiver, events=args.burst, subscriptions=5)
        print(f"fan-out, {args.burst} events x 5 subscriptions, one worker: {rate:,.0f} deliveries/s (target >= 2,000)")
        calls = await _hotline(gateway, rate=50, seconds=args.seconds)
        print(
            f"hotline at 50 calls/s: {len(calls)} calls, p50 {statistics.median(calls) * 1000:.0f} ms,"
            f" p99 {percentile(calls, 0.99) * 1000:.0f} ms"
        )
    finally:
        server.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--burst", type=int, default=1000)
    args = parser.parse_args()
    if make_url(args.url).get_backend_name() != "postgresql":
        raise SystemExit("benchmarks run on PostgreSQL")
    asyncio.run(ensure_database(args.url))
    asyncio.run(reset_database(args.url))  # a fresh platform: no subscriptions from a run before
    prepare_database(args.url)
    ports = {name: free_port() for name in ("catalog", "tickets", "notifications", "gateway", "receiver")}
    env = platform_env(args.url, ports)
    print(f"database {make_url(args.url).database}; one notification worker")
    with ExitStack() as stack:
        stack.enter_context(uvicorn_server("catalog_service.app:create_app", ports["catalog"], env))
        stack.enter_context(uvicorn_server("ticket_service.app:create_app", ports["tickets"], env))
        stack.enter_context(uvicorn_server("notification_service.app:create_app", ports["notifications"], env))
        stack.enter_context(uvicorn_server("gateway.app:create_app", ports["gateway"], env))
        stack.enter_context(worker_process(env))
        asyncio.run(
            measure(
                f"http://127.0.0.1:{ports['gateway']}",
                f"http://127.0.0.1:{ports['notifications']}",
                ports["receiver"],
                args,
            )
        )


if __name__ == "__main__":
    main()
