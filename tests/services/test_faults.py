"""Faults a deployment meets, each answered as README's operations section says: a full or
read-only database is a 503 problem and writes nothing; PostgreSQL restarted under load costs
503s during the gap (never a hang or a 500) and the pools recover; Redis restarted loses no
ticket and no event, and the worker carries on.

Each fault happens to a server of the test's own (services.errors.database_unavailable is the
one place that maps them): a throwaway PostgreSQL cluster or redis-server, or a throwaway
database, never the machine's shared PostgreSQL or Redis. The PostgreSQL restart is a fault of
a PostgreSQL deployment and is defined only when the suite runs on PostgreSQL; the others run
on either backend, each with that backend's own way to be full or read-only.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text

from launcher.migrations import migrate
from launcher.seeding import seed
from services.auth import issue_token
from services.db import create_engine, is_sqlite
from services.errors import install_problem_handlers
from services.principals import Principal, Role
from services.settings import PROJECT_ROOT, SharedSettings
from tests.support import create_scratch_database, drop_scratch_database, free_port, uvicorn_server, wait_until
from tests.throwaway import ThrowawayPostgres, ThrowawayRedis
from ticket_service.seed import demo_enterprise_ids

API = "/api/v1"
ON_POSTGRESQL = not is_sqlite(os.environ.get("DATABASE_URL") or "sqlite://")
REQUEST = {"title": "故障演练", "description": "数据库故障时提交的诉求"}


def _token(subject: str, role: Role, **claims: Any) -> dict[str, str]:
    token, _ttl = issue_token(SharedSettings(), Principal(subject=subject, role=role, **claims))
    return {"Authorization": f"Bearer {token}"}


def _enterprise() -> dict[str, str]:
    return _token("enterprise-1", Role.ENTERPRISE, enterprise_id=demo_enterprise_ids()["enterprise-1"])


def _assert_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == "database_unavailable"
    assert int(response.headers["retry-after"]) > 0


def _a_full_sqlite_file_app(path: Path) -> FastAPI:
    """An app whose one route writes to a SQLite file that may not grow (`max_page_count`),
    the error SQLite gives on a full disk; the platform's problem handlers answer for it."""
    app = FastAPI()
    install_problem_handlers(app)

    @app.post("/notes")
    async def write_note() -> dict[str, str]:
        engine = create_engine(f"sqlite+aiosqlite:///{path}")
        try:
            async with engine.begin() as connection:
                await connection.execute(text("CREATE TABLE IF NOT EXISTS notes (body TEXT)"))
            async with engine.begin() as connection:
                pages = await connection.scalar(text("PRAGMA page_count"))
                await connection.execute(text(f"PRAGMA max_page_count = {int(pages or 1)}"))
                await connection.execute(text("INSERT INTO notes VALUES (:body)"), {"body": "满" * 100_000})
        finally:
            await engine.dispose()
        return {"written": "yes"}

    return app


async def test_a_full_sqlite_database_is_a_503_problem_and_nothing_is_half_written(tmp_path: Path) -> None:
    path = tmp_path / "full.db"
    transport = httpx.ASGITransport(app=_a_full_sqlite_file_app(path))
    async with httpx.AsyncClient(transport=transport, base_url="http://full") as client:
        response = await client.post("/notes")
    _assert_unavailable(response)
    assert "disk is full" in response.json()["detail"]
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    async with engine.connect() as connection:
        assert await connection.scalar(text("SELECT count(*) FROM notes")) == 0
    await engine.dispose()


if ON_POSTGRESQL:

    @pytest.mark.live
    def test_a_full_postgresql_database_is_a_503_problem_and_nothing_is_half_written(
        scratch_database: str, base_env: dict[str, str]
    ) -> None:
        """PostgreSQL's own disk_full error (SQLSTATE 53100), raised by the server on a new
        ticket's row as a full disk makes it, through the driver and the ticket service."""
        asyncio.run(_refuse_inserts_as_full(scratch_database))
        before = _ticket_count(scratch_database)
        port = free_port()
        with uvicorn_server("ticket_service.app:create_app", port, {**base_env, "DATABASE_URL": scratch_database}):
            response = httpx.post(f"http://127.0.0.1:{port}{API}/tickets", json=REQUEST, headers=_enterprise())
        _assert_unavailable(response)
        assert "disk is full" in response.json()["detail"]
        assert _ticket_count(scratch_database) == before


async def _refuse_inserts_as_full(database: str) -> None:
    engine = create_engine(database)
    async with engine.begin() as connection:
        await connection.execute(
            text(
                "CREATE FUNCTION refuse_as_full() RETURNS trigger LANGUAGE plpgsql AS"
                " $$BEGIN RAISE EXCEPTION 'could not extend file: No space left on device'"
                " USING ERRCODE = 'disk_full'; END$$"
            )
        )
        await connection.execute(
            text(
                "CREATE TRIGGER refuse_as_full BEFORE INSERT ON tickets FOR EACH ROW EXECUTE FUNCTION refuse_as_full()"
            )
        )
    await engine.dispose()


def _ticket_count(database: str) -> int:
    async def count() -> int:
        engine = create_engine(database)
        try:
            async with engine.connect() as connection:
                return int(await connection.scalar(text("SELECT count(*) FROM tickets")) or 0)
        finally:
            await engine.dispose()

    return asyncio.run(count())


@pytest.fixture
def read_only_database(database_url: str, base_env: dict[str, str], tmp_path: Path) -> Iterator[str]:
    """A migrated, seeded throwaway database that then accepts no writes: on PostgreSQL every
    new transaction is read-only (ALTER DATABASE), on SQLite the file is opened read-only."""
    scratch = asyncio.run(create_scratch_database(database_url, tmp_path))
    try:
        migrate(scratch)
        asyncio.run(seed(SharedSettings(**{**{k.lower(): v for k, v in base_env.items()}, "database_url": scratch})))
        if is_sqlite(scratch):
            yield scratch.replace(":///", ":///file:", 1) + "?mode=ro&uri=true"
            return
        name = scratch.rsplit("/", 1)[1]

        async def set_read_only() -> None:
            engine = create_engine(scratch, isolation_level="AUTOCOMMIT")
            async with engine.connect() as admin:
                await admin.execute(text(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on'))
            await engine.dispose()

        asyncio.run(set_read_only())
        yield scratch
    finally:
        asyncio.run(drop_scratch_database(database_url, scratch))


@pytest.mark.live
def test_a_read_only_database_answers_writes_with_a_503_problem_and_reads_still_work(
    read_only_database: str, base_env: dict[str, str]
) -> None:
    port = free_port()
    env = {**base_env, "DATABASE_URL": read_only_database, "TICKET_CATALOG_TIMEOUT_SECONDS": "1"}
    with uvicorn_server("ticket_service.app:create_app", port, env):
        url = f"http://127.0.0.1:{port}{API}/tickets"
        written = httpx.post(url, json=REQUEST, headers=_enterprise(), timeout=10)
        _assert_unavailable(written)
        assert "read-only" in written.json()["detail"]
        read = httpx.get(url, headers=_token("admin", Role.ADMIN), timeout=10)
        assert read.status_code == 200, read.text


def _worker(module: str, env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", module], env={**os.environ, **env}, cwd=PROJECT_ROOT)


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _received(database: str, ticket_ids: list[str]) -> set[str]:
    """The tickets whose creation event the notification service holds."""

    async def query() -> set[str]:
        engine = create_engine(database)
        try:
            async with engine.connect() as connection:
                rows = await connection.execute(
                    text(
                        "SELECT o.aggregate_id FROM outbox o JOIN received_events r ON r.event_id = o.event_id"
                        " WHERE o.event_type = 'ticket.created'"
                    )
                )
                return {row[0] for row in rows} & set(ticket_ids)
        finally:
            await engine.dispose()

    return asyncio.run(query())


@pytest.fixture
def scratch_database(database_url: str, base_env: dict[str, str], tmp_path: Path) -> Iterator[str]:
    scratch = asyncio.run(create_scratch_database(database_url, tmp_path))
    try:
        migrate(scratch)
        asyncio.run(seed(SharedSettings(**{**{k.lower(): v for k, v in base_env.items()}, "database_url": scratch})))
        yield scratch
    finally:
        asyncio.run(drop_scratch_database(database_url, scratch))


@pytest.mark.live
def test_redis_restarted_loses_no_ticket_and_no_event_and_the_worker_carries_on(
    scratch_database: str, base_env: dict[str, str], tmp_path: Path
) -> None:
    redis_server = ThrowawayRedis(tmp_path / "redis").start()
    ports = {"tickets": free_port(), "notifications": free_port()}
    env = {
        **base_env,
        "DATABASE_URL": scratch_database,
        "REDIS_URL": redis_server.url,
        "TICKET_URL": f"http://127.0.0.1:{ports['tickets']}",
        "NOTIFICATION_URL": f"http://127.0.0.1:{ports['notifications']}",
    }
    tickets_url = f"http://127.0.0.1:{ports['tickets']}{API}/tickets"
    created: list[str] = []

    def file_tickets(count: int) -> None:
        for _ in range(count):
            response = httpx.post(tickets_url, json=REQUEST, headers=_enterprise(), timeout=10)
            assert response.status_code == 201, response.text
            created.append(response.json()["id"])

    with ExitStack() as stack:
        stack.callback(redis_server.stop)
        stack.enter_context(uvicorn_server("ticket_service.app:create_app", ports["tickets"], env))
        stack.enter_context(uvicorn_server("notification_service.app:create_app", ports["notifications"], env))
        worker = _worker("sla_worker", env)
        stack.callback(_stop, worker)
        file_tickets(3)
        assert wait_until(lambda: _received(scratch_database, created) == set(created), timeout=60)
        redis_server.kill()
        file_tickets(3)
        redis_server.start()
        file_tickets(3)
        # The relay runs every 5 s once the worker is back on Redis: every event arrives.
        assert wait_until(lambda: _received(scratch_database, created) == set(created), timeout=60)
        assert worker.poll() is None, "the worker rode out the restart"


if ON_POSTGRESQL:

    @pytest.mark.live
    def test_postgresql_restarted_under_load_costs_503s_in_the_gap_and_the_pools_recover(
        base_env: dict[str, str], tmp_path: Path
    ) -> None:
        server = ThrowawayPostgres().init()
        server.start()
        database = server.url()
        migrate(database)
        asyncio.run(seed(SharedSettings(**{**{k.lower(): v for k, v in base_env.items()}, "database_url": database})))
        port = free_port()
        env = {**base_env, "DATABASE_URL": database, "UPSTREAM_TIMEOUT_SECONDS": "5"}
        try:
            with uvicorn_server("ticket_service.app:create_app", port, env):
                answers = asyncio.run(_load_through_a_restart(f"http://127.0.0.1:{port}", server))
        finally:
            server.remove()
        statuses = [status for _phase, status, _code, _seconds in answers]
        assert set(statuses) <= {200, 201, 503}, sorted(set(statuses))
        assert {code for _phase, status, code, _seconds in answers if status == 503} == {"database_unavailable"}
        assert max(seconds for *_, seconds in answers) < 10, "no request hangs"
        gap = [status for phase, status, *_ in answers if phase == "down"]
        assert gap and set(gap) == {503}
        after = [status for phase, status, *_ in answers if phase == "after"]
        # A pooled connection from before the restart fails once and the pool is renewed.
        assert len(after) >= 10 and set(after[-10:]) <= {200, 201}, after


async def _load_through_a_restart(base: str, server: ThrowawayPostgres) -> list[tuple[str, int, str, float]]:
    """Readers and writers against one ticket service while its PostgreSQL stops, stays down a
    moment, and starts again: each answer with the phase it was sent and answered in."""
    answers: list[tuple[str, int, str, float]] = []
    phase = "before"
    stop = asyncio.Event()
    admin, enterprise = _token("admin", Role.ADMIN), _enterprise()

    async def user(client: httpx.AsyncClient, writes: bool) -> None:
        while not stop.is_set():
            sent_in, started = phase, time.monotonic()
            if writes:
                response = await client.post(f"{base}{API}/tickets", json=REQUEST, headers=enterprise)
            else:
                response = await client.get(f"{base}{API}/tickets", params={"limit": 5}, headers=admin)
            code = response.json().get("code", "") if response.status_code >= 400 else ""
            # An answer to a request sent in one phase and answered in the next belongs to neither.
            answered_in = sent_in if phase == sent_in else "between"
            answers.append((answered_in, response.status_code, code, time.monotonic() - started))
            await asyncio.sleep(0.02)  # a user's pace, not a wait for a race

    def count(wanted: str) -> int:
        return sum(1 for sent_in, *_ in answers if sent_in == wanted)

    async def until(predicate: Any, within: float) -> None:
        deadline = time.monotonic() + within
        while not predicate():
            assert time.monotonic() < deadline, f"stuck in phase {phase}: {answers[-5:]}"
            await asyncio.sleep(0.05)  # poll interval of a bounded wait

    async with httpx.AsyncClient(timeout=15) as client:
        users = [asyncio.create_task(user(client, writes=index == 0)) for index in range(3)]
        try:
            await until(lambda: count("before") >= 10, 30)
            await asyncio.to_thread(server.stop, "fast")
            phase = "down"
            await until(lambda: count("down") >= 6, 30)
            phase = "starting"
            await asyncio.to_thread(server.start)
            phase = "after"
            await until(lambda: sum(1 for p, s, *_ in answers if p == "after" and s < 300) >= 10, 30)
            # Everything sent after that first run of successes succeeds too.
            await until(lambda: count("after") >= 20, 30)
        finally:
            stop.set()
            await asyncio.gather(*users)
    return answers
