"""`python -m launcher run --replicas 2`: two of every service and worker on PostgreSQL and a
real Redis (a cluster and a redis-server of its own), under bounded loopback load while one
replica of each is killed with SIGKILL and restarted by the launcher.

Scale-out is a PostgreSQL deployment: on SQLite the launcher refuses `--replicas` and says why
(`test_replicas_are_refused_on_sqlite_with_the_reason`, run on every backend). The scale-out run
itself is defined only when the suite runs on PostgreSQL, so a SQLite run has nothing to skip.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from launcher.cli import REPLICAS_NEED_POSTGRESQL
from launcher.migrations import migrate
from launcher.seeding import seed
from services.db import create_engine, is_sqlite
from services.settings import PROJECT_ROOT, SharedSettings
from tests.notification_service.receiver import Receiver
from tests.support import DEMO_PASSWORD
from tests.throwaway import ThrowawayPostgres, ThrowawayRedis
from ticket_service.seed import demo_enterprise_ids

pytestmark = pytest.mark.live

API = "/api/v1"
SERVICES = ("catalog", "tickets", "notifications", "gateway")
PORT_VARIABLES = {
    "catalog": "CATALOG_PORT",
    "tickets": "TICKET_PORT",
    "notifications": "NOTIFICATION_PORT",
    "gateway": "GATEWAY_PORT",
}
WORKER_MODULES = {"sla_worker": "sla_worker", "notification_worker": "notification_service.worker"}
# Chosen by the launcher itself, never inherited from the environment running the tests.
LAUNCHER_CHOSEN = ("CATALOG_URL", "TICKET_URL", "NOTIFICATION_URL", "GATEWAY_URL")
CLIENTS = 3
OVERDUE_TICKETS = 12
TRANSIENT = {502, 503, 504}
IN_FLIGHT_PATIENCE_SECONDS = 10


def test_replicas_are_refused_on_sqlite_with_the_reason(tmp_path: Path) -> None:
    env = {key: value for key, value in os.environ.items() if key not in LAUNCHER_CHOSEN}
    env.update(DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'one.db'}", ENVIRONMENT="test", REDIS_URL="")
    finished = subprocess.run(
        [sys.executable, "-m", "launcher", "run", "--replicas", "2"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        timeout=60,
    )
    assert finished.returncode == 2
    assert REPLICAS_NEED_POSTGRESQL in finished.stderr.decode()
    assert not (tmp_path / "one.db").exists(), "nothing is started or migrated before the refusal"


def _free_block(size: int) -> int:
    """The first of `size` consecutive free ports below the ephemeral range."""
    ephemeral_start = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    for base in random.Random().sample(range(20000, ephemeral_start - size), 200):
        sockets = []
        try:
            for port in range(base, base + size):
                probe = socket.socket()
                sockets.append(probe)
                probe.bind(("127.0.0.1", port))
        except OSError:
            continue
        finally:
            for probe in sockets:
                probe.close()
        return base
    raise RuntimeError("no block of free ports below the ephemeral range")


def _children(pid: int) -> dict[int, str]:
    """The launcher's live children by pid, with their command lines."""
    children: dict[int, str] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            cmdline = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            children[int(stat.parent.name)] = cmdline
    return children


@dataclass
class Launched:
    process: subprocess.Popen[bytes]
    ports: dict[str, list[int]]

    def urls(self, service: str) -> list[str]:
        return [f"http://127.0.0.1:{port}" for port in self.ports[service]]

    def matching(self, marker: str) -> list[int]:
        """The live children whose command line holds `marker`."""
        return [pid for pid, cmdline in _children(self.process.pid).items() if marker in cmdline]


def _http_marker(port: int) -> str:
    return f"--port {port} "


def _worker_marker(module: str) -> str:
    return f"-m {module} "


async def _poll(predicate: Any, *, within: float, what: str) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if await predicate():
            return
        await asyncio.sleep(0.1)  # poll interval of a bounded wait
    raise AssertionError(f"not within {within} s: {what}")


async def _healthy(client: httpx.AsyncClient, url: str) -> bool:
    try:
        return (await client.get(f"{url}/health", timeout=2)).status_code == 200
    except httpx.HTTPError:
        return False


@dataclass
class Outcome:
    created: dict[str, dict[str, Any]] = field(default_factory=dict)
    accepted: set[str] = field(default_factory=set)
    transient: list[int] = field(default_factory=list)
    # Creations whose key is held by a request a killed replica was running: their outcome is
    # unknown until the key's in-flight lease ends (409 request_in_flight meanwhile).
    in_doubt: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


class LoadClient:
    """A user of the platform: each request goes to one gateway; a connection error or a 502,
    503 or 504 is tried again on the other gateway, within a bound. Creations carry an
    Idempotency-Key, so a repeat never files a second ticket."""

    def __init__(self, gateways: list[str], tokens: dict[str, str], outcome: Outcome) -> None:
        self.gateways = gateways
        self.tokens = tokens
        self.outcome = outcome
        self.turn = random.randrange(len(gateways))

    async def send(
        self, client: httpx.AsyncClient, method: str, path: str, *, user: str, **kwargs: Any
    ) -> httpx.Response | None:
        headers = {"Authorization": f"Bearer {self.tokens[user]}", **kwargs.pop("headers", {})}
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            self.turn += 1
            gateway = self.gateways[self.turn % len(self.gateways)]
            try:
                response = await client.request(method, gateway + path, headers=headers, timeout=10, **kwargs)
            except httpx.TransportError:
                self.outcome.transient.append(0)
                continue
            if response.status_code not in TRANSIENT:
                return response
            self.outcome.transient.append(response.status_code)
            await asyncio.sleep(0.05)  # a client's retry pause, not a wait for a race
        self.outcome.failures.append(f"{method} {path}: no answer but 5xx within 30 s")
        return None

    async def create_and_accept(self, client: httpx.AsyncClient, *, tag: str, received_at: str | None) -> None:
        body: dict[str, Any] = {
            "title": tag,
            "description": "scale-out run",
            "enterprise_id": demo_enterprise_ids()["enterprise-2"],
            "department_code": "jxw",
            "category_code": "green-energy",
            "channel": "visit",
        }
        if received_at is not None:
            body["received_at"] = received_at
        key = {"Idempotency-Key": uuid.uuid4().hex}
        deadline = time.monotonic() + IN_FLIGHT_PATIENCE_SECONDS
        while True:
            created = await self.send(client, "POST", f"{API}/tickets", user="dispatcher", json=body, headers=key)
            if created is None:
                return
            if created.status_code != 409 or created.json().get("code") != "request_in_flight":
                break
            # The first try still runs (its answer to a killed gateway was lost), or it died
            # with a killed ticket replica and holds its key until the lease ends.
            if time.monotonic() > deadline:
                self.outcome.in_doubt.append(key["Idempotency-Key"])
                return
            await asyncio.sleep(0.2)  # the documented "retry later", not a wait for a race
        if created.status_code != 201:
            self.outcome.failures.append(f"create: {created.status_code} {created.text[:200]}")
            return
        ticket = created.json()
        self.outcome.created[ticket["id"]] = ticket
        if received_at is not None:
            return
        accepted = await self.send(
            client, "POST", f"{API}/tickets/{ticket['id']}/accept", user="staff-jxw", json={"note": "受理"}
        )
        if accepted is None:
            return
        if accepted.status_code == 200:
            self.outcome.accepted.add(ticket["id"])
        elif accepted.status_code != 409:
            # 409: an earlier try took effect though its answer was lost (a 502 is never re-sent).
            self.outcome.failures.append(f"accept: {accepted.status_code} {accepted.text[:200]}")


@pytest.fixture
def own_postgresql() -> Iterator[str]:
    """A PostgreSQL cluster of the test's own: eight services and four workers hold well over a
    hundred pooled connections, more than a server shared with other test runs can spare."""
    server = ThrowawayPostgres().init()
    try:
        server.start()
        yield server.url()
    finally:
        server.remove()


def _start_launcher(env: dict[str, str], step: int, log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as output:
        return subprocess.Popen(
            [sys.executable, "-m", "launcher", "run", "--replicas", "2", "--port-step", str(step)],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


@asynccontextmanager
async def launched(database: str, redis_url: str, base_env: dict[str, str], log: Path) -> AsyncIterator[Launched]:
    base = _free_block(8)
    step = 4
    ports = {name: [base + offset, base + offset + step] for offset, name in enumerate(SERVICES)}
    env = {key: value for key, value in os.environ.items() if key not in LAUNCHER_CHOSEN}
    env.update(base_env)
    env.update({PORT_VARIABLES[name]: str(ports[name][0]) for name in SERVICES})
    env.update(
        DATABASE_URL=database,
        REDIS_URL=redis_url,
        UPSTREAM_TIMEOUT_SECONDS="5",
        GATEWAY_REPLICA_DOWN_SECONDS="2",
        GATEWAY_LOGIN_FAILURES_BURST_PER_IP="100000",
        NOTIFICATION_WORKER_LEASE_SECONDS="20",
        CATALOG_RELAY_INTERVAL_SECONDS="0.5",
    )
    process = _start_launcher(env, step, log)
    try:
        yield Launched(process, ports)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


async def _login(client: httpx.AsyncClient, gateway: str, username: str) -> str:
    response = await client.post(
        f"{gateway}{API}/auth/token", data={"username": username, "password": DEMO_PASSWORD}, timeout=10
    )
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


async def _kill_one_of_each(platform: Launched, client: httpx.AsyncClient) -> None:
    """SIGKILL the first replica of every service and worker; wait (bounded) until the launcher
    has started each again and the HTTP ones answer /health."""
    markers = [_http_marker(platform.ports[name][0]) for name in SERVICES]
    markers += [_worker_marker(module) for module in WORKER_MODULES.values()]
    killed: dict[str, tuple[int, int]] = {}
    for marker in markers:
        running = platform.matching(marker)
        assert running, f"no process {marker!r} to kill"
        os.kill(running[0], signal.SIGKILL)
        killed[marker] = (running[0], len(running))

    async def restarted() -> bool:
        for marker, (old, count) in killed.items():
            running = platform.matching(marker)
            if old in running or len(running) != count:
                return False
        return all([await _healthy(client, platform.urls(name)[0]) for name in SERVICES])

    await _poll(restarted, within=120, what="every killed replica restarted and healthy")


async def _scalar(database: str, query: str, **params: Any) -> Any:
    engine = create_engine(database)
    try:
        async with engine.connect() as connection:
            return (await connection.execute(text(query), params)).all()
    finally:
        await engine.dispose()


if not is_sqlite(os.environ.get("DATABASE_URL") or "sqlite://"):

    async def test_two_of_everything_keep_serving_while_one_of_each_is_killed(
        own_postgresql: str, base_env: dict[str, str], tmp_path: Path
    ) -> None:
        database = own_postgresql
        await asyncio.to_thread(migrate, database)
        await seed(SharedSettings(**{**{k.lower(): v for k, v in base_env.items()}, "database_url": database}))
        redis_server = ThrowawayRedis(tmp_path / "redis").start()
        receiver = await Receiver().start()
        tag = f"scaleout-{uuid.uuid4().hex[:8]}"
        outcome = Outcome()
        try:
            async with (
                launched(database, redis_server.url, base_env, tmp_path / "run.log") as platform,
                httpx.AsyncClient() as client,
            ):
                every = [url for name in SERVICES for url in platform.urls(name)]

                async def all_healthy() -> bool:
                    assert platform.process.poll() is None, (tmp_path / "run.log").read_text()[-3000:]
                    return all([await _healthy(client, url) for url in every])

                await _poll(all_healthy, within=240, what="two replicas of every service healthy")
                gateways = platform.urls("gateway")
                tokens = {
                    name: await _login(client, gateways[0], name) for name in ("dispatcher", "staff-jxw", "admin")
                }
                subscribed = await client.post(
                    f"{gateways[1]}{API}/webhook-subscriptions",
                    json={"url": receiver.url, "event_types": ["ticket.*"], "description": "scale-out"},
                    headers={"Authorization": f"Bearer {tokens['admin']}"},
                )
                assert subscribed.status_code == 201, subscribed.text
                users = [LoadClient(gateways, tokens, outcome) for _ in range(CLIENTS)]
                overdue = (datetime.now(UTC) - timedelta(days=20)).isoformat()
                stop = asyncio.Event()

                async def load(user: LoadClient, index: int) -> None:
                    made = 0
                    while not stop.is_set():
                        received_at = overdue if made * CLIENTS + index < OVERDUE_TICKETS else None
                        await user.create_and_accept(client, tag=tag, received_at=received_at)
                        made += 1

                loops = [asyncio.create_task(load(user, index)) for index, user in enumerate(users)]
                try:
                    await _poll(lambda: _at_least(outcome, 20), within=60, what="20 tickets before the kill")
                    await _kill_one_of_each(platform, client)
                    after_kill = len(outcome.created)
                    await _poll(lambda: _at_least(outcome, after_kill + 15), within=60, what="15 tickets after it")
                finally:
                    stop.set()
                    await asyncio.gather(*loops)
                assert outcome.failures == []
                # Only the requests a killed replica was running can be in doubt.
                assert len(outcome.in_doubt) <= CLIENTS, outcome.in_doubt
                admin = {"Authorization": f"Bearer {tokens['admin']}"}
                await _assert_nothing_lost(client, gateways[1], admin, outcome)
                await _assert_sla_steps_once(client, gateways, admin, database, tag)
                await _assert_each_event_delivered_once(database, receiver, list(outcome.created))
                for ticket_id in outcome.created:
                    verified = await client.get(f"{gateways[0]}{API}/tickets/{ticket_id}/events/verify", headers=admin)
                    assert verified.status_code == 200 and verified.json()["ok"] is True, verified.text
        finally:
            await receiver.stop()
            redis_server.stop()


async def _at_least(outcome: Outcome, count: int) -> bool:
    assert outcome.failures == [], outcome.failures
    return len(outcome.created) >= count


async def _assert_nothing_lost(
    client: httpx.AsyncClient, gateway: str, admin: dict[str, str], outcome: Outcome
) -> None:
    """Every ticket whose creation or acceptance the client saw succeed is there, as it saw it."""
    for ticket_id, created in outcome.created.items():
        response = await client.get(f"{gateway}{API}/tickets/{ticket_id}", headers=admin)
        assert response.status_code == 200, response.text
        assert response.json()["number"] == created["number"]
        if ticket_id in outcome.accepted:
            assert response.json()["status"] != created["status"]


async def _assert_sla_steps_once(
    client: httpx.AsyncClient, gateways: list[str], admin: dict[str, str], database: str, tag: str
) -> None:
    """Two sweeps queued at once, through each gateway, for the two SLA workers: every overdue
    ticket takes each of its steps exactly once."""
    answers = await asyncio.gather(*(client.post(f"{g}{API}/sla/sweep", headers=admin) for g in gateways))
    assert [answer.status_code for answer in answers] == [202, 202]
    query = (
        "SELECT e.action, count(*) FROM ticket_events e JOIN tickets t ON t.id = e.ticket_id"
        " WHERE t.title = :tag AND t.received_at < now() - interval '10 days' GROUP BY e.action"
    )

    async def escalated() -> bool:
        counts = dict(await _scalar(database, query, tag=tag))
        return counts.get("escalate", 0) >= OVERDUE_TICKETS

    await _poll(escalated, within=30, what="every overdue ticket escalated")
    counts = dict(await _scalar(database, query, tag=tag))
    assert counts == {
        "create": OVERDUE_TICKETS,
        "overdue_accept": OVERDUE_TICKETS,
        "joint_review": OVERDUE_TICKETS,
        "escalate": OVERDUE_TICKETS,
    }


async def _assert_each_event_delivered_once(database: str, receiver: Receiver, ticket_ids: list[str]) -> None:
    """Every event of the run's tickets is relayed and delivered, one delivery each, and two
    workers never both send it. A delivery the killed worker had sent but not yet recorded goes
    again with the same webhook-id once its lease ends (receivers drop repeats by it)."""
    query = (
        "SELECT o.event_id, d.id AS delivery, d.status, d.attempts FROM outbox o"
        " LEFT JOIN webhook_deliveries d ON d.event_id = o.event_id"
        " WHERE o.aggregate_id = ANY(:ids) AND o.event_type LIKE 'ticket.%'"
    )
    rows: list[Any] = []

    async def delivered() -> bool:
        nonlocal rows
        rows = list(await _scalar(database, query, ids=ticket_ids))
        return bool(rows) and all(row.status == "delivered" for row in rows)

    await _poll(delivered, within=90, what="every ticket event delivered")
    ids = [str(row.event_id) for row in rows]
    assert len(ids) == len(set(ids)) >= len(ticket_ids), "one delivery per event, at least a creation per ticket"
    seen = [request.headers.get("webhook-id") for request in receiver.requests]
    assert set(ids) <= set(seen)
    # Each send is a recorded attempt (a slow answer is a failed attempt, sent again later),
    # but for the one a killed worker made and could not record.
    unrecorded = {row.event_id: (seen.count(row.event_id), row.attempts) for row in rows}
    assert all(count <= attempts + 1 for count, attempts in unrecorded.values()), unrecorded
