"""The SLA worker for real: arq workers in burst mode, in-process, against the live platform.

The `live` fixture runs the gateway, catalogue, ticket and notification services as uvicorn
processes on a scratch database and a real Redis. Here the worker runs in this process
(`create_worker(..., burst=True)`: it takes every job queued, then stops), reading and writing
that same scratch database. Jobs are queued the way production queues them: the ticket
service's `POST /api/v1/sla/sweep`, or the relay itself (`recompute_year`), or the arq pool
(`relay_outbox`, as its cron would). Before each test one burst run drains the queue so no test
sees another's jobs.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from arq import ArqRedis, create_pool
from arq.jobs import Job
from arq.worker import Worker
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from services.db import create_engine
from services.queue import SLA_QUEUE
from services.redis import arq_redis_settings
from sla_worker.settings import WorkerSettings
from sla_worker.worker import LAST_SWEEP_KEY, RELAY_BACKOFF_KEY, RELAY_FAILURES_KEY, create_worker
from tests.live_platform import LivePlatform
from tests.support import bearer, free_port, login, uvicorn_server
from ticket_service.seed import demo_enterprise_ids

pytestmark = pytest.mark.live

API = "/api/v1"
SHANGHAI = ZoneInfo("Asia/Shanghai")
E1 = demo_enterprise_ids()["enterprise-1"]
WORKER_TIMEOUT_S = 30.0
ESCALATION_STEPS = ("overdue_accept", "joint_review", "escalate")


# Plumbing


def worker_settings(live: LivePlatform, **overrides: Any) -> WorkerSettings:
    fields: dict[str, Any] = {
        "database_url": live.database_url,
        "redis_url": live.redis_url,
        "catalog_url": live.catalog_url,
        "notification_url": live.notification_url,
        "environment": "test",
        "log_json": False,
        "log_level": "WARNING",
    }
    return WorkerSettings(**{**fields, **overrides})


async def run_worker(settings: WorkerSettings) -> Worker:
    """One burst run: take every queued job, wait for them, stop. Bounded: a job deferred into
    the future would keep a burst worker polling, and a test must fail rather than hang."""
    worker = create_worker(settings, burst=True, cron_jobs=[], handle_signals=False)
    try:
        await asyncio.wait_for(worker.async_run(), WORKER_TIMEOUT_S)
    finally:
        await worker.close()
    return worker


async def run_workers(*settings: WorkerSettings) -> list[Worker]:
    return list(await asyncio.gather(*(run_worker(one) for one in settings)))


async def job_result(pool: ArqRedis, job_id: str) -> Any:
    """The finished job's return value; re-raises the job's exception if it failed."""
    return await Job(job_id, pool, _queue_name=SLA_QUEUE).result(timeout=5, poll_delay=0.05)


async def enqueue(pool: ArqRedis, function: str, *args: Any) -> str:
    job_id = f"{function}:test:{uuid.uuid4().hex}"
    job = await pool.enqueue_job(function, *args, _job_id=job_id)
    assert job is not None, f"{job_id} was not queued"
    return job_id


async def rows(engine: AsyncEngine, sql: str, **params: Any) -> list[Any]:
    async with engine.connect() as connection:
        return list((await connection.execute(text(sql), params)).all())


async def outbox_ids(engine: AsyncEngine, *, published: bool | None = None) -> list[str]:
    where = {None: "", True: " WHERE published_at IS NOT NULL", False: " WHERE published_at IS NULL"}[published]
    return [row[0] for row in await rows(engine, f"SELECT event_id FROM outbox{where} ORDER BY seq")]


async def received_ids(engine: AsyncEngine) -> list[str]:
    """What the notification service received from the ticket service (the catalogue relays its
    own announcements to it too)."""
    query = "SELECT event_id FROM received_events WHERE event_id NOT IN (SELECT event_id FROM catalog_outbox)"
    return [row[0] for row in await rows(engine, query)]


class Api:
    """The gateway, with a token per demo account."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        self._tokens: dict[str, str] = {}

    async def auth(self, username: str) -> dict[str, str]:
        if username not in self._tokens:
            self._tokens[username] = await login(self.client, username)
        return bearer(self._tokens[username])

    async def create_ticket(
        self, *, received_at: datetime | None = None, title: str = "节能改造补贴申报进度", base_url: str | None = None
    ) -> dict[str, Any]:
        """A visit a dispatcher records for enterprise-1, routed at once to jxw (经信委)."""
        body: dict[str, Any] = {
            "title": title,
            "description": "企业来访：节能技术改造补贴申报后一直没有答复。",
            "enterprise_id": E1,
            "channel": "visit",
            "category_code": "green-energy",
            "department_code": "jxw",
        }
        if received_at is not None:
            body["received_at"] = received_at.isoformat()
        url = f"{base_url or ''}{API}/tickets"
        response = await self.client.post(url, json=body, headers=await self.auth("dispatcher"))
        assert response.status_code == 201, response.text
        return dict(response.json())

    async def ticket(self, ticket_id: str) -> dict[str, Any]:
        response = await self.client.get(f"{API}/tickets/{ticket_id}", headers=await self.auth("supervisor"))
        assert response.status_code == 200, response.text
        return dict(response.json())

    async def events(self, ticket_id: str) -> list[dict[str, Any]]:
        response = await self.client.get(f"{API}/tickets/{ticket_id}/events", headers=await self.auth("supervisor"))
        assert response.status_code == 200, response.text
        return list(response.json())

    async def sweep(self, body: dict[str, Any] | None = None, **headers: str) -> httpx.Response:
        return await self.client.post(f"{API}/sla/sweep", json=body, headers={**await self.auth("admin"), **headers})

    async def queue_sweep(self) -> str:
        response = await self.sweep()
        assert response.status_code == 202, response.text
        return str(response.json()["job_id"])

    async def sla_status(self) -> dict[str, Any]:
        response = await self.client.get(f"{API}/sla/status", headers=await self.auth("supervisor"))
        assert response.status_code == 200, response.text
        return dict(response.json())


def actions(events: list[dict[str, Any]]) -> list[str]:
    return [event["action"] for event in events]


def instant(value: str) -> datetime:
    return datetime.fromisoformat(value)


# Fixtures


@pytest.fixture(scope="module")
async def pool(live: LivePlatform) -> AsyncIterator[ArqRedis]:
    redis = await create_pool(arq_redis_settings(live.redis_url), default_queue_name=SLA_QUEUE)
    yield redis
    await redis.aclose()


@pytest.fixture(scope="module")
async def db(live: LivePlatform) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(live.database_url)
    yield engine
    await engine.dispose()


@pytest.fixture(scope="module")
async def api(live: LivePlatform) -> AsyncIterator[Api]:
    async with httpx.AsyncClient(base_url=live.gateway_url, timeout=30) as client:
        yield Api(client)


@pytest.fixture
def settings(live: LivePlatform) -> WorkerSettings:
    return worker_settings(live)


@pytest.fixture(autouse=True)
async def drained(live: LivePlatform, pool: ArqRedis) -> None:
    """Whatever an earlier test (or another live suite) queued runs now, not inside this test;
    and a relay back-off left by an earlier failure does not hold this test's relay back."""
    await pool.delete(RELAY_BACKOFF_KEY, RELAY_FAILURES_KEY)
    await run_worker(worker_settings(live))
    assert await pool.zcard(SLA_QUEUE) == 0


# 1. The 1-3-5 clock runs by itself, each step once


async def test_ticket_ten_working_days_old_is_flagged_reassigned_and_escalated_exactly_once(
    api: Api, pool: ArqRedis, settings: WorkerSettings
) -> None:
    # Received on a Sunday 20 calendar days ago: every deadline (1, 3 and 5 working days) passed.
    received_at = datetime.now(UTC) - timedelta(days=20)
    ticket = await api.create_ticket(received_at=received_at, title="十个工作日未办结")
    assert instant(ticket["final_due"]) < datetime.now(UTC)
    assert actions(await api.events(ticket["id"])) == ["create"]

    job_id = await api.queue_sweep()
    heartbeat_job = await enqueue(pool, "heartbeat")
    (worker,) = await run_workers(settings)
    assert worker.jobs_failed == 0
    summary = await job_result(pool, job_id)
    assert await job_result(pool, heartbeat_job)
    for step in ESCALATION_STEPS:
        assert summary["counts"].get(step, 0) >= 1, summary

    trail = await api.events(ticket["id"])
    counted = Counter(actions(trail))
    assert {step: counted[step] for step in ESCALATION_STEPS} == dict.fromkeys(ESCALATION_STEPS, 1), actions(trail)
    by_action = {event["action"]: event for event in trail}
    for step in ESCALATION_STEPS:
        assert by_action[step]["actor"] == "sla-worker"
    assert by_action["joint_review"]["to_status"] == "joint_review"
    assert by_action["escalate"]["to_status"] == "escalated"
    assert actions(trail).index("overdue_accept") < actions(trail).index("joint_review")
    assert actions(trail).index("joint_review") < actions(trail).index("escalate")
    current = await api.ticket(ticket["id"])
    assert current["status"] == "escalated"
    assert sorted(current["overdue"]) == sorted(["accept", "resolve", "final"])
    # Joint review: the lead department stays; green-energy's default co-handlers minus the lead.
    assert current["department_code"] == "jxw"
    assert sorted(current["co_department_codes"]) == ["fgw", "sthjj"]

    status = await api.sla_status()
    assert status["last_sweep"] == summary
    assert status["worker_heartbeat"]
    assert status["queue"] == {"reachable": True, "queued_jobs": 0}

    # However often the sweep runs, and with two workers at the same time: nothing more happens.
    second, third = await api.queue_sweep(), await api.queue_sweep()
    workers = await run_workers(settings, settings)
    assert sum(w.jobs_failed for w in workers) == 0
    assert sum(w.jobs_complete for w in workers) == 2
    for job in (second, third):
        result = await job_result(pool, job)
        assert all(step["ticket_id"] != ticket["id"] for step in result.get("steps", [])), result
    assert await api.events(ticket["id"]) == trail
    assert (await api.ticket(ticket["id"]))["version"] == current["version"]

    status = await api.sla_status()
    assert status["queue"] == {"reachable": True, "queued_jobs": 0}
    assert set(status["last_sweep"]) >= {"as_of", "finished_at", "due_tickets", "counts"}
    assert instant(status["last_sweep"]["as_of"]) > instant(summary["as_of"])


# 2. A dry run reports and changes nothing


async def test_dry_run_with_a_future_instant_reports_steps_and_changes_nothing(
    api: Api, pool: ArqRedis, db: AsyncEngine
) -> None:
    ticket = await api.create_ticket(title="试运行")
    before_events = await api.events(ticket["id"])
    before_outbox = await outbox_ids(db)
    before_last_sweep = await pool.get(LAST_SWEEP_KEY)
    as_of = datetime.now(UTC) + timedelta(days=40)

    response = await api.sweep({"dry_run": True, "as_of": as_of.isoformat()})

    assert response.status_code == 200, response.text
    report = response.json()
    assert report["dry_run"] is True
    assert instant(report["as_of"]) == as_of
    mine = [step for step in report["steps"] if step["ticket_id"] == ticket["id"]]
    assert [step["step"] for step in mine if step["step"] in ESCALATION_STEPS] == list(ESCALATION_STEPS), mine
    assert {step["outcome"] for step in mine} == {"would run"}
    assert all(step["number"] == ticket["number"] for step in mine)
    assert report["due_tickets"] >= 1
    assert report["counts"]["escalate"] >= 1

    assert await api.events(ticket["id"]) == before_events
    after = await api.ticket(ticket["id"])
    assert (after["status"], after["overdue"], after["version"]) == (ticket["status"], [], ticket["version"])
    assert await outbox_ids(db) == before_outbox
    assert await pool.get(LAST_SWEEP_KEY) == before_last_sweep
    assert await pool.zcard(SLA_QUEUE) == 0


async def test_dry_run_needs_an_instant_with_an_offset(api: Api) -> None:
    response = await api.sweep({"dry_run": True, "as_of": "2026-12-01T10:00:00"})
    assert response.status_code in (400, 422), response.text


# 3. The relay: at least once, survives the consumer being down, loses nothing


async def test_relay_publishes_every_outbox_row_and_survives_the_notification_service_down(
    api: Api, pool: ArqRedis, db: AsyncEngine, live: LivePlatform, settings: WorkerSettings
) -> None:
    await api.create_ticket(title="待转发事件")
    assert await outbox_ids(db, published=False)

    job_id = await enqueue(pool, "relay_outbox")
    (worker,) = await run_workers(settings)
    assert worker.jobs_failed == 0
    assert await job_result(pool, job_id) >= 1
    assert await outbox_ids(db, published=False) == []
    everything = await outbox_ids(db)
    assert len(everything) == len(set(everything))
    assert sorted(await received_ids(db)) == sorted(everything)

    # The notification service is down (a closed port): the relay fails quietly and backs off.
    ticket = await api.create_ticket(title="通知服务宕机时的事件")
    waiting = await outbox_ids(db, published=False)
    assert waiting
    down = worker_settings(live, notification_url=f"http://127.0.0.1:{free_port()}")
    job_id = await enqueue(pool, "relay_outbox")
    (worker,) = await run_workers(down)
    assert worker.jobs_failed == 0
    assert await job_result(pool, job_id) == 0
    failed = await rows(
        db, "SELECT event_id, attempts, last_error, published_at FROM outbox WHERE published_at IS NULL"
    )
    assert sorted(row[0] for row in failed) == sorted(waiting)
    assert all(row[1] > 0 and row[2] for row in failed), failed
    assert await pool.exists(RELAY_BACKOFF_KEY)
    assert await pool.get(RELAY_FAILURES_KEY) is not None
    assert not set(waiting) & set(await received_ids(db))

    # While the back-off lasts, a relay does not even try (even with the consumer back).
    job_id = await enqueue(pool, "relay_outbox")
    await run_workers(settings)
    assert await job_result(pool, job_id) == 0
    assert await rows(db, "SELECT event_id, attempts, last_error, published_at FROM outbox WHERE published_at IS NULL")
    assert sorted(await outbox_ids(db, published=False)) == sorted(waiting)

    # The back-off over, the consumer back: every event arrives, none twice, none lost.
    await pool.delete(RELAY_BACKOFF_KEY, RELAY_FAILURES_KEY)
    job_id = await enqueue(pool, "relay_outbox")
    (worker,) = await run_workers(settings)
    assert worker.jobs_failed == 0
    assert await job_result(pool, job_id) == len(waiting)
    assert await outbox_ids(db, published=False) == []
    published = await outbox_ids(db, published=True)
    received = await received_ids(db)
    assert len(received) == len(set(received))
    assert sorted(received) == sorted(published)
    assert not await pool.exists(RELAY_BACKOFF_KEY)
    assert not await pool.exists(RELAY_FAILURES_KEY)
    theirs = await rows(db, "SELECT event_id FROM outbox WHERE aggregate_id = :ticket", ticket=ticket["id"])
    assert {row[0] for row in theirs} <= set(received)


# 4. Events accumulate while no worker runs, and while Redis is unreachable


@pytest.fixture(scope="module")
def tickets_without_redis(live: LivePlatform) -> Iterator[str]:
    """A second ticket service on the scratch database whose Redis is a closed port."""
    env = {
        "ENVIRONMENT": "test",
        "LOG_LEVEL": "WARNING",
        "LOG_JSON": "false",
        "DATABASE_URL": live.database_url,
        "REDIS_URL": f"redis://127.0.0.1:{free_port()}/0",
        "CATALOG_URL": live.catalog_url,
        "NOTIFICATION_URL": live.notification_url,
    }
    port = free_port()
    with uvicorn_server("ticket_service.app:create_app", port, env):
        yield f"http://127.0.0.1:{port}"


async def test_outbox_accumulates_without_a_worker_or_redis_and_one_worker_publishes_it_all(
    api: Api, pool: ArqRedis, db: AsyncEngine, settings: WorkerSettings, tickets_without_redis: str
) -> None:
    backlog_before = len(await outbox_ids(db, published=False))
    # No worker: tickets are created through the gateway as always.
    created = [await api.create_ticket(title=f"无 worker 时受理 {n}") for n in range(3)]
    # Redis unreachable: ticket creation never touches it, and the backlog is still visible.
    created += [
        await api.create_ticket(title=f"Redis 不可用时受理 {n}", base_url=tickets_without_redis) for n in range(2)
    ]
    status = await api.client.get(f"{tickets_without_redis}{API}/sla/status", headers=await api.auth("supervisor"))
    assert status.status_code == 200, status.text
    assert status.json()["queue"] == {"reachable": False, "queued_jobs": None}
    assert status.json()["outbox_backlog"] >= backlog_before + len(created)

    waiting = await outbox_ids(db, published=False)
    assert len(waiting) >= backlog_before + len(created)
    mine = await rows(
        db,
        "SELECT event_id FROM outbox WHERE aggregate_id IN (" + ", ".join(f":t{n}" for n in range(len(created))) + ")",
        **{f"t{n}": ticket["id"] for n, ticket in enumerate(created)},
    )
    assert len(mine) >= len(created)

    job_id = await enqueue(pool, "relay_outbox")
    (worker,) = await run_workers(settings)
    assert worker.jobs_failed == 0
    assert await job_result(pool, job_id) == len(waiting)
    assert await outbox_ids(db, published=False) == []
    received = set(await received_ids(db))
    assert {row[0] for row in mine} <= received
    assert sorted(received) == sorted(await outbox_ids(db))
    assert (await api.sla_status())["outbox_backlog"] == 0


async def test_sweep_request_while_redis_is_unreachable_answers_503(api: Api, tickets_without_redis: str) -> None:
    refused = await api.client.post(f"{tickets_without_redis}{API}/sla/sweep", headers=await api.auth("admin"))
    assert refused.status_code == 503, refused.text
    assert refused.json()["code"] == "queue_unavailable"


# 5. A calendar change reaches open tickets' deadlines through the relay


async def _overlay(db: AsyncEngine, year: int) -> dict[str, Any]:
    days = await rows(db, "SELECT day, is_workday, note FROM calendar_days WHERE year = :year ORDER BY day", year=year)
    complete = await rows(db, "SELECT complete FROM calendar_years WHERE year = :year", year=year)
    return {
        "days": [
            {
                "date": (day if isinstance(day, date) else date.fromisoformat(str(day)[:10])).isoformat(),
                "is_workday": bool(is_workday),
                "note": note or "",
            }
            for day, is_workday, note in days
        ],
        "complete": bool(complete[0][0]) if complete else False,
    }


async def _put_calendar(api: Api, year: int, body: dict[str, Any]) -> dict[str, Any]:
    response = await api.client.put(f"{API}/calendar/{year}", json=body, headers=await api.auth("admin"))
    assert response.status_code == 200, response.text
    return dict(response.json())


async def _relay_and_recompute(pool: ArqRedis, settings: WorkerSettings, year: int, revision: int) -> int:
    """The relay publishes `calendar.changed`, which queues `recompute_year`; one burst runs both."""
    # A result left in a reused Redis by an earlier session's scratch database (whose revisions
    # also started at 1) would make arq refuse the relay's job id; it is not this database's.
    await pool.delete(f"arq:result:recompute:{year}:{revision}")
    relay = await enqueue(pool, "relay_outbox")
    (worker,) = await run_workers(settings)
    assert worker.jobs_failed == 0
    assert await job_result(pool, relay) >= 1
    recomputed = await job_result(pool, f"recompute:{year}:{revision}")
    assert isinstance(recomputed, int)
    return recomputed


async def test_calendar_change_recomputes_open_deadlines_through_the_relay_once(
    api: Api, pool: ArqRedis, db: AsyncEngine, settings: WorkerSettings
) -> None:
    ticket = await api.create_ticket(title="日历调整后重算时限")
    original = {name: instant(ticket[name]) for name in ("accept_due", "resolve_due", "final_due")}
    # The working day that the accept deadline ends (the first one after today) becomes a closure.
    closed = (original["accept_due"] - timedelta(microseconds=1)).astimezone(SHANGHAI).date()
    year = closed.year
    previous = await _overlay(db, year)
    assert closed.isoformat() not in {row["date"] for row in previous["days"]}
    changed_body = {
        "days": [*previous["days"], {"date": closed.isoformat(), "is_workday": False, "note": "临时停工（测试）"}],
        "complete": previous["complete"],
    }
    restored = False
    try:
        view = await _put_calendar(api, year, changed_body)
        assert await _relay_and_recompute(pool, settings, year, view["overlay"]["revision"]) >= 1

        moved = await api.ticket(ticket["id"])
        for name, due in original.items():
            assert instant(moved[name]) > due, (name, moved[name], due)
        assert instant(moved["accept_due"]).astimezone(SHANGHAI).date() > closed
        trail = await api.events(ticket["id"])
        assert actions(trail) == ["create", "recompute"]
        recompute = trail[-1]
        assert recompute["actor"] == "sla-worker"
        assert {"accept_due", "resolve_due", "final_due"} <= set(recompute["changes"])
        assert await outbox_ids(db, published=False)  # its ticket.deadlines_changed event

        # Recomputing again finds nothing to change and records nothing.
        again = await enqueue(pool, "recompute_year", year)
        await run_workers(settings)
        assert await job_result(pool, again) == 0
        assert await api.events(ticket["id"]) == trail
        assert (await api.ticket(ticket["id"]))["accept_due"] == moved["accept_due"]

        # Restore the overlay: the deadlines come back, with their own audit link.
        view = await _put_calendar(api, year, previous)
        restored = True
        assert await _relay_and_recompute(pool, settings, year, view["overlay"]["revision"]) >= 1
        back = await api.ticket(ticket["id"])
        assert {name: instant(back[name]) for name in original} == original
        assert actions(await api.events(ticket["id"])) == ["create", "recompute", "recompute"]
    finally:
        if not restored:
            view = await _put_calendar(api, year, previous)
            await pool.delete(f"arq:result:recompute:{year}:{view['overlay']['revision']}")
            await enqueue(pool, "relay_outbox")
            await run_workers(settings)


# The request id that caused a job travels with it


async def test_queued_sweep_carries_the_request_id_that_caused_it(api: Api, pool: ArqRedis) -> None:
    request_id = f"sla-test-{uuid.uuid4().hex[:12]}"
    response = await api.sweep(None, **{"X-Request-ID": request_id})
    assert response.status_code == 202, response.text
    assert response.headers["x-request-id"] == request_id
    info = await Job(response.json()["job_id"], pool, _queue_name=SLA_QUEUE).info()
    assert info is not None
    assert info.function == "sweep"
    assert request_id in [*info.args, *info.kwargs.values()], (info.args, info.kwargs)
