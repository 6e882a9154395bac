"""The SLA sweep and the outbox relay on PostgreSQL, printed as figures (never asserted).

Sweep: the same number of due tickets (default 1,000 — 1 % of 100 k) among 100 k and then 1 M
open tickets; one sweep's time at each size and their ratio. A sweep that reads only due
tickets through the indexed `sla_next_at` costs the same at both sizes. Each ticket carries
its creation event, as the API writes it. Read literally ("1 % due" at each size), 1 M open
tickets have 10,000 due: `--sizes 1000000 --due 10000` measures that case.
Relay: events per second from the outbox to a running notification service, batched.

    python benchmarks/sweep.py [--due 1000] [--sizes 100000 1000000] [--events 20000]

Targets (issue 5): 1 M <= 2 x 100 k, <= 5 s at 1 M; relay >= 2,000 events/s.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import time
from datetime import UTC, datetime, timedelta

import httpx
from common import ensure_database
from sqlalchemy import text
from sqlalchemy.engine import make_url

from launcher.migrations import migrate
from services.db import create_engine, create_sessionmaker, database_for
from tests.support import free_port, uvicorn_server
from ticket_service import sla
from ticket_service.calendar_service import CalendarCache
from ticket_service.outbox import relay_batch
from ticket_service.sla_rules import SlaPolicy

DEFAULT_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/bench_sweep"
CHUNK_SIZE = int(os.environ.get("SLA_SWEEP_CHUNK_SIZE", "200"))

FILL = """
INSERT INTO tickets (id, number, kind, channel, status, title, description, department_code,
    co_department_codes, co_departments_text, sla_profile, received_at, clock_started_at,
    paused_working_us, sla_fired, accept_due, resolve_due, final_due, provisional, overdue,
    is_overdue, resolution_round, created_by, created_at, updated_at, version, sla_next_at)
SELECT md5(:tag || g::text), :tag || g::text, 'request', 'web', 'submitted', 'bench', '', 'jxw',
    '[]', ',', '1-3-5', :received, :received, 0, 0,
    CASE WHEN g <= :due THEN CAST(:past AS timestamptz) ELSE CAST(:future AS timestamptz) END,
    :future, :future, false, '[]', false, 0, 'bench', :received, :received, 1,
    CASE WHEN g <= :due THEN CAST(:past AS timestamptz) ELSE CAST(:future AS timestamptz) END
FROM generate_series(1, :n) AS g
"""
# Every ticket starts its audit trail with a creation event, as the API writes it (the hashes
# are stand-ins: the sweep appends to a chain, it does not verify it).
FILL_EVENTS = """
INSERT INTO ticket_events (ticket_id, seq, action, actor, role, at, from_status, to_status, note, changes,
    prev_hash, hash)
SELECT id, 1, 'create', 'bench', 'enterprise', received_at, NULL, 'submitted', '', '{}',
    repeat('0', 64), md5(id) || md5(number)
FROM tickets
"""


async def fill(url: str, *, size: int, due: int, now: datetime) -> None:
    engine = create_engine(url)
    async with engine.begin() as connection:
        await connection.execute(text("TRUNCATE tickets, ticket_events, outbox, feedback, received_events CASCADE"))
        await connection.execute(
            text(FILL),
            {
                "tag": f"B{size}-",
                "received": now - timedelta(days=3),
                "past": now - timedelta(minutes=5),
                "future": now + timedelta(days=30),
                "due": due,
                "n": size,
            },
        )
        await connection.execute(text(FILL_EVENTS))
        await connection.execute(text("ANALYZE tickets"))
        await connection.execute(text("ANALYZE ticket_events"))
    await engine.dispose()


async def time_sweep(url: str, now: datetime) -> tuple[float, int]:
    engine = create_engine(url)
    started = time.perf_counter()
    report = await sla.run_sweep(
        create_sessionmaker(engine),
        cache=CalendarCache(),
        catalog=None,
        now=now,
        policy=SlaPolicy(),
        chunk_size=CHUNK_SIZE,
    )
    elapsed = time.perf_counter() - started
    await engine.dispose()
    return elapsed, report.due_tickets


async def time_relay(url: str, notification_url: str, events: int, *, internal_token: str) -> tuple[float, int]:
    engine = create_engine(url)
    async with engine.begin() as connection:
        await connection.execute(text("TRUNCATE outbox, received_events CASCADE"))
        await connection.execute(
            text(
                "INSERT INTO outbox"
                " (event_id, event_type, aggregate_type, aggregate_id, occurred_at, envelope, attempts)"
                " SELECT md5(g::text)::uuid::text, 'ticket.status_changed', 'ticket', 't' || (g % 997), now(),"
                " json_build_object('id', md5(g::text)::uuid::text, 'type', 'ticket.status_changed',"
                " 'occurred_at', '2026-11-28T00:00:00Z', 'data', json_build_object('n', g)), 0"
                " FROM generate_series(1, :n) AS g"
            ),
            {"n": events},
        )
    sessionmaker = create_sessionmaker(engine)
    published = 0
    async with httpx.AsyncClient(base_url=notification_url, timeout=30) as http:
        started = time.perf_counter()
        while batch := await relay_batch(
            database_for(engine, sessionmaker),
            http=http,
            url="/internal/events",
            token=internal_token,
            batch_size=1000,
        ):
            published += len(batch)
        elapsed = time.perf_counter() - started
    await engine.dispose()
    return elapsed, published


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--due", type=int, default=1000)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--events", type=int, default=20_000)
    args = parser.parse_args()
    url = os.environ.get("BENCH_SWEEP_DATABASE_URL", DEFAULT_URL)
    asyncio.run(ensure_database(url))
    migrate(url)
    now = datetime.now(UTC)
    times = {}
    print(f"database {make_url(url).database}; {args.due} due tickets at each size")
    for size in args.sizes:
        fill_started = time.perf_counter()
        asyncio.run(fill(url, size=size, due=args.due, now=now))
        filled = time.perf_counter() - fill_started
        elapsed, due = asyncio.run(time_sweep(url, now))
        times[size] = elapsed
        each = elapsed / max(due, 1) * 1000
        print(f"{size:>9} open tickets: sweep {elapsed:6.2f} s for {due} due ({each:.2f} ms each); fill {filled:.0f} s")
    if len(args.sizes) >= 2:
        small, large = args.sizes[0], args.sizes[-1]
        ratio = times[large] / times[small]
        verdict = "PASS" if ratio <= 2 and times[large] <= 5 else "MISS"
        print(f"ratio {large}/{small}: {ratio:.2f}  (target <= 2, and <= 5 s at {large}) {verdict}")
    port = free_port()
    # A token of this run only, shared with the server it starts.
    internal_token = secrets.token_urlsafe(32)
    env = {"DATABASE_URL": url, "LOG_LEVEL": "WARNING", "ENVIRONMENT": "development", "INTERNAL_TOKEN": internal_token}
    with uvicorn_server("notification_service.app:create_app", port, env):
        notification_url = f"http://127.0.0.1:{port}"
        elapsed, published = asyncio.run(time_relay(url, notification_url, args.events, internal_token=internal_token))
    rate = published / elapsed
    verdict = "PASS" if rate >= 2000 else "MISS"
    print(f"relay: {published} events in {elapsed:.2f} s = {rate:,.0f} events/s (target >= 2,000) {verdict}")


if __name__ == "__main__":
    main()
