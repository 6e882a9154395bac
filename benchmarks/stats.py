"""The statistics at scale, on PostgreSQL: a department's year scorecard and the ranking of every
department over 1 M and 10 M generated tickets, timed through the ticket service's own API.

    python benchmarks/stats.py [--tickets 1000000 10000000] [--repeat 15] [--keep]

For each size the database (`stats_bench`, or BENCH_STATS_DATABASE_URL) is created afresh,
migrated and seeded, then filled with COPY: 20,000 enterprises and the tickets of two years up
to today across the 36 departments (a realistic mix: menu orders, free requests and hotline
calls; web, hotline and visit; micro to large firms; 8 % joint reviews with their contributions;
most resolved and closed, some late, some still open; ratings on 70 % of the resolutions, some
ruled out). The summary tables are summed from the same rows, as they are generated, with the
ticket service's own functions (`stats_summary.add_ticket`, `add_hot_spots`, `add_step`,
`add_rating`: what `rebuild` adds per ticket), and copied in. The tickets' secondary indexes
are dropped for the load (the statistics never read the tickets table; `--indexes` rebuilds
them before timing). The database is dropped at the end unless `--keep`.

The figures are read in-process through the ticket service's ASGI app (routes, dependencies,
queries and serialisation; no network), with the internal token the public board uses. Each
endpoint is called `--repeat` times after one warm-up; median, p95 and max wall-clock times are
printed, and the CPU milliseconds per read of this process (which runs the app) and of its
database server processes: on a shared, loaded machine the wall clock counts others' work too.

Targets (issue 13) at 10 M: a department's year scorecard <= 200 ms; the ranking of every
department <= 1 s.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import secrets
import statistics
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import asyncpg
import httpx
from asgi_lifespan import LifespanManager
from sqlalchemy import text
from sqlalchemy.engine import make_url

from catalog_service.app import create_app as create_catalog_app
from catalog_service.seed_data import CATEGORIES, DEPARTMENTS
from catalog_service.settings import CatalogSettings
from launcher.migrations import migrate
from launcher.seeding import seed
from services.db import create_engine
from services.settings import SharedSettings
from services.workdays import SlaProfile, WorkCalendar
from ticket_service import stats_summary
from ticket_service.app import create_app
from ticket_service.settings import TicketSettings

DEFAULT_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/stats_bench"
ENTERPRISES = 20_000
SCORECARD_DEPARTMENT = "swj"
SIZES = (("micro", 35), ("small", 35), ("medium", 20), ("large", 10))
INDUSTRIES = ("制造业", "软件和信息技术服务业", "批发和零售业", "建筑业", "交通运输业", "住宿和餐饮业", "科学研究")
PARKS = ("镇江高新区", "镇江经开区", "丹阳开发区", "句容开发区", "扬中高新区", "")
PROFILE = SlaProfile.parse("1-3-5")
TICKET_COLUMNS = [
    "id",
    "number",
    "kind",
    "channel",
    "status",
    "enterprise_id",
    "order_id",
    "item_code",
    "item_snapshot",
    "category_code",
    "title",
    "description",
    "department_code",
    "co_department_codes",
    "co_departments_text",
    "sla_profile",
    "received_at",
    "clock_started_at",
    "paused_working_us",
    "sla_next_at",
    "sla_fired",
    "accept_due",
    "resolve_due",
    "final_due",
    "provisional",
    "overdue",
    "is_overdue",
    "paused_at",
    "paused_from",
    "accepted_at",
    "resolved_at",
    "closed_at",
    "reply",
    "result",
    "explanation",
    "resolution_round",
    "created_by",
    "created_at",
    "updated_at",
    "version",
    "hotline_call_id",
    "caller_phone",
    "enterprise_size",
    "enterprise_industry",
    "enterprise_park",
]

OPEN = "('accepted','escalated','in_progress','joint_review','paused','returned','submitted')"
LOCAL = "AT TIME ZONE 'Asia/Shanghai'"


def deadline_rows(start: date, days: int) -> list[tuple[date, datetime, datetime, datetime, bool]]:
    """Each day's deadlines for a case received at 10:00 that day, by the working-day calendar."""
    calendar = WorkCalendar.build()
    zone = ZoneInfo(calendar.tz)
    rows = []
    for offset in range(days + 1):
        day = start + timedelta(days=offset)
        due = calendar.deadlines(datetime.combine(day, datetime.min.time(), tzinfo=zone) + timedelta(hours=10), PROFILE)
        rows.append((day, due.accept_due, due.resolve_due, due.final_due, due.provisional))
    return rows


def tickets_sql(count: int) -> str:
    """Tickets of the two years before now, generated in the database (a Python generator runs at
    a few thousand rows a second on this machine's share of CPU; PostgreSQL at a hundred thousand).

    The mix: 40 % menu orders, 45 % free requests, 15 % hotline calls; web, visit, hotline; the
    enterprise's size from the enterprises table; departments skewed (a few take most cases);
    8 % joint reviews; 77 % resolved (12 % of them late), the rest in every open state."""
    return f"""
    INSERT INTO tickets ({", ".join(TICKET_COLUMNS)})
    SELECT md5(g::text || 'bench'), 'B' || lpad(g::text, 12, '0'), kind, channel, status, e.id, NULL,
           item_code, NULL, category_code, title, '我司扩产需要增容，请问流程、材料和办理时限。',
           lead, co,
           CASE WHEN co::text = '[]' THEN ''
                ELSE ',' || array_to_string(ARRAY(SELECT json_array_elements_text(co)), ',') || ',' END,
           '1-3-5', received, received, 0, CASE WHEN status IN {OPEN} THEN d.final_due END, 0,
           d.accept_due, d.resolve_due, d.final_due, d.provisional,
           CASE WHEN status IN {OPEN} AND now() > d.resolve_due THEN '["resolve"]'::json ELSE '[]'::json END,
           status IN {OPEN} AND now() > d.resolve_due,
           CASE WHEN status = 'paused' THEN received + interval '1 day' END,
           CASE WHEN status = 'paused' THEN 'in_progress' END,
           accepted_at, resolved_at,
           CASE WHEN status = 'closed' THEN resolved_at + interval '3 days' END,
           NULL, CASE WHEN status IN ('closed', 'resolved') THEN '已按政策办结。' END,
           CASE WHEN status = 'explained' THEN '不属于受理范围，已解释说明。' END,
           CASE WHEN resolved_at IS NULL THEN 0 ELSE 1 END, 'bench', received,
           coalesce(resolved_at, accepted_at, received), 3, NULL, NULL, e.size, e.industry, e.park
    FROM (
        SELECT g, received, kind, status, category_code, item_code, title, lead, co,
               CASE WHEN kind = 'hotline' THEN 'hotline' WHEN r_channel < 0.8 THEN 'web' ELSE 'visit' END AS channel,
               'bench-ent-' || lpad(floor(r_enterprise * {ENTERPRISES})::int::text, 5, '0') AS enterprise_id,
               r_accept, r_resolve
        FROM (
            SELECT g, now() - random() * interval '730 days' AS received,
                   CASE WHEN r_kind < 0.40 THEN 'order' WHEN r_kind < 0.85 THEN 'request' ELSE 'hotline' END AS kind,
                   CASE WHEN r_status < 0.58 THEN 'closed' WHEN r_status < 0.72 THEN 'resolved'
                        WHEN r_status < 0.77 THEN 'explained' WHEN r_status < 0.83 THEN 'in_progress'
                        WHEN r_status < 0.87 THEN 'accepted' WHEN r_status < 0.90 THEN 'submitted'
                        WHEN r_status < 0.92 THEN 'returned' WHEN r_status < 0.94 THEN 'withdrawn'
                        WHEN r_status < 0.95 THEN 'escalated' WHEN r_status < 0.98 THEN 'joint_review'
                        ELSE 'paused' END AS status,
                   c.code AS category_code, NULL::text AS item_code,
                   '企业诉求：' || c.code AS title, dep.code AS lead,
                   CASE WHEN r_joint < 0.08 THEN json_build_array(co1.code) ELSE '[]'::json END AS co,
                   r_channel, r_enterprise, r_accept, r_resolve
            FROM (
                SELECT g, random() AS r_kind, random() AS r_status, random() AS r_joint, random() AS r_channel,
                       random() AS r_enterprise, random() AS r_accept, random() AS r_resolve,
                       floor(36 * power(random(), 1.8))::int AS dep_index, floor(random() * 8)::int AS cat_index
                FROM generate_series(1, {count}) AS g
            ) r
            JOIN bench_departments dep ON dep.index = r.dep_index
            JOIN bench_departments co1 ON co1.index = (r.dep_index + 7) % 36
            JOIN bench_categories c ON c.index = r.cat_index
        ) t
    ) s
    JOIN enterprises e ON e.id = s.enterprise_id
    JOIN bench_deadlines d ON d.day = (s.received {LOCAL})::date
    CROSS JOIN LATERAL (
        SELECT CASE WHEN status IN ('submitted', 'returned', 'withdrawn') THEN NULL
                    WHEN r_accept < 0.93 THEN least(d.accept_due - interval '2 hours', received + interval '3 hours')
                    ELSE d.accept_due + interval '5 hours' END AS accepted_at
    ) a
    CROSS JOIN LATERAL (
        SELECT CASE WHEN status NOT IN ('closed', 'resolved', 'explained') THEN NULL
                    WHEN r_resolve < 0.88 THEN received + (d.resolve_due - received) * (0.2 + 0.7 * r_resolve)
                    ELSE d.resolve_due + interval '1 day' * (1 + 5 * r_resolve) END AS resolved_at
    ) z
    """


RATINGS_SQL = """
    INSERT INTO feedback (ticket_id, resolution_round, rating, comment, created_by, channel, created_at,
                          department_code, ruled_out, ruled_out_reason, ruled_by, ruled_at)
    SELECT id, 1, rating, '', 'bench', channel, resolved_at + interval '1 day', department_code,
           rating = 'unsatisfied' AND r2 < 0.2,
           CASE WHEN rating = 'unsatisfied' AND r2 < 0.2 THEN '诉求超出政策范围' ELSE '' END,
           CASE WHEN rating = 'unsatisfied' AND r2 < 0.2 THEN 'supervisor' END,
           CASE WHEN rating = 'unsatisfied' AND r2 < 0.2 THEN resolved_at + interval '3 days' END
    FROM (
        SELECT id, channel, resolved_at, department_code, random() AS r2,
               CASE WHEN r < 0.80 THEN 'satisfied' WHEN r < 0.92 THEN 'basically_satisfied'
                    ELSE 'unsatisfied' END AS rating
        FROM (SELECT *, random() AS r, random() AS rated FROM tickets WHERE resolved_at IS NOT NULL) t
        WHERE rated < 0.7
    ) f
"""
CONTRIBUTIONS_SQL = """
    INSERT INTO joint_contributions (ticket_id, department_code, first_at)
    SELECT id, code,
           CASE WHEN random() < 0.15 THEN resolve_due + interval '5 hours' ELSE accepted_at + interval '3 hours' END
    FROM tickets, json_array_elements_text(co_department_codes) AS code
    WHERE accepted_at IS NOT NULL AND co_departments_text <> ''
"""


def summary_sql() -> list[str]:
    """The summary tables summed from the generated tickets in SQL, counter by counter as
    ticket_service.stats_summary defines them (its Python rebuild replays every audit trail and
    would take hours here at 10 M). Returns, escalations and resolutions are filed under the
    day of the ticket's last change; handling time is the calendar time to resolution scaled to
    working days (5/7), in tenths."""
    key = f"department_code, (received_at {LOCAL})::date, enterprise_size, channel"
    counters = ", ".join(stats_summary.DEPARTMENT_COUNTERS)

    def part(select_key: str, values: dict[str, str], source: str = "tickets t", where: str = "true") -> str:
        columns = ", ".join(values.get(name, "0") for name in stats_summary.DEPARTMENT_COUNTERS)
        return f"SELECT {select_key}, {columns} FROM {source} WHERE {where}"

    late = "EXISTS (SELECT 1 FROM joint_contributions j WHERE j.ticket_id = t.id AND j.first_at > t.resolve_due)"
    parts = [
        part(
            key,
            {
                "received": "1",
                "orders": "(kind = 'order')::int",
                "accepted_on_time": "coalesce(accepted_at <= accept_due, false)::int",
                "resolved_on_time": f"CASE WHEN resolved_at IS NULL THEN 0 WHEN resolved_at <= resolve_due THEN 1 "
                f"WHEN co_departments_text = '' THEN 0 ELSE {late}::int END",
                "joint_led": "(co_departments_text <> '')::int",
                "overdue_open": f"(is_overdue AND status IN {OPEN})::int",
            },
        ),
        part(
            f"department_code, (resolve_due {LOCAL})::date, enterprise_size, channel",
            {"due": "1", "completed": "(resolved_at IS NOT NULL)::int"},
            where="status <> 'withdrawn'",
        ),
        part(
            f"code, (received_at {LOCAL})::date, enterprise_size, channel",
            {"joint_joined": "1"},
            source="tickets t, json_array_elements_text(co_department_codes) AS code",
            where="co_departments_text <> ''",
        ),
        part(
            f"j.department_code, (t.received_at {LOCAL})::date, t.enterprise_size, t.channel",
            {"joint_late": "1"},
            source="tickets t JOIN joint_contributions j ON j.ticket_id = t.id",
            where="j.first_at > t.resolve_due",
        ),
        part(
            f"department_code, (updated_at {LOCAL})::date, enterprise_size, channel",
            {
                "returned": "(status = 'returned')::int",
                "escalations": "(status = 'escalated')::int",
                "resolutions": "(resolution_round > 0)::int",
            },
            where="status IN ('returned', 'escalated') OR resolution_round > 0",
        ),
        part(
            f"f.department_code, (f.created_at {LOCAL})::date, t.enterprise_size, t.channel",
            {
                "rated": "1",
                "satisfied": "(f.rating IN ('satisfied', 'basically_satisfied'))::int",
                "ruled_out": "f.ruled_out::int",
                "redo": "(f.rating = 'unsatisfied')::int",
            },
            source="feedback f JOIN tickets t ON t.id = f.ticket_id",
        ),
    ]
    union = " UNION ALL ".join(parts)
    sums = ", ".join(f"sum({name})" for name in stats_summary.DEPARTMENT_COUNTERS)
    return [
        f"""INSERT INTO stats_department_days (department_code, day, size, channel, {counters})
            SELECT k, day, size, channel, {sums}
            FROM ({union}) AS p (k, day, size, channel, {counters})
            GROUP BY k, day, size, channel""",
        f"""INSERT INTO stats_handling_days (department_code, day, tenths, resolutions)
            SELECT department_code, (resolved_at {LOCAL})::date,
                   least({stats_summary.MAX_TENTHS},
                         floor(extract(epoch FROM resolved_at - clock_started_at) / 86400 * 50 / 7)::int),
                   count(*)
            FROM tickets WHERE resolved_at IS NOT NULL AND status IN ('resolved', 'explained', 'closed')
            GROUP BY 1, 2, 3""",
        f"""INSERT INTO stats_hot_spot_days (day, dimension, key, received)
            SELECT day, dimension, key, count(*) FROM (
                SELECT (received_at {LOCAL})::date AS day, 'category' AS dimension, category_code AS key FROM tickets
                WHERE category_code IS NOT NULL
                UNION ALL SELECT (received_at {LOCAL})::date, 'industry', enterprise_industry FROM tickets
                WHERE enterprise_industry <> ''
                UNION ALL SELECT (received_at {LOCAL})::date, 'park', enterprise_park FROM tickets
                WHERE enterprise_park <> ''
            ) h GROUP BY 1, 2, 3""",
    ]


def _dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def _recreate(url: str) -> None:
    parsed = make_url(url)
    engine = create_engine(
        parsed.set(database="postgres").render_as_string(hide_password=False), isolation_level="AUTOCOMMIT"
    )
    async with engine.connect() as connection:
        await connection.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
        await connection.execute(text(f'CREATE DATABASE "{parsed.database}"'))
    await engine.dispose()


async def drop_database(url: str) -> None:
    parsed = make_url(url)
    engine = create_engine(
        parsed.set(database="postgres").render_as_string(hide_password=False), isolation_level="AUTOCOMMIT"
    )
    async with engine.connect() as connection:
        await connection.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
    await engine.dispose()


async def _secondary_indexes(connection: asyncpg.Connection, table: str) -> list[tuple[str, str]]:
    rows = await connection.fetch(
        """SELECT i.relname AS name, pg_get_indexdef(i.oid) AS definition
           FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
           WHERE t.relname = $1 AND NOT x.indisprimary AND NOT x.indisunique""",
        table,
    )
    return [(row["name"], row["definition"]) for row in rows]


async def load(url: str, count: int, *, indexes: bool) -> dict[str, float]:
    """Generate `count` tickets, their ratings and contributions, and the summary tables; the
    seconds each step took."""
    timings: dict[str, float] = {}
    rnd = random.Random(count)
    today = datetime.now(UTC).date()
    connection = await asyncpg.connect(_dsn(url))

    async def step(name: str, sql: str) -> None:
        started = time.perf_counter()
        await connection.execute(sql)
        timings[name] = time.perf_counter() - started
        print(f"  {name:<32} {timings[name]:8.1f} s", flush=True)

    try:
        dropped = []
        for table in ("tickets", "feedback"):
            for name, definition in await _secondary_indexes(connection, table):
                await connection.execute(f'DROP INDEX "{name}"')
                dropped.append(definition)
        created = datetime.now(UTC) - timedelta(days=800)
        sizes = [size for size, weight in SIZES for _ in range(weight)]
        await connection.copy_records_to_table(
            "enterprises",
            records=[
                (
                    f"bench-ent-{n:05d}",
                    f"镇江基准企业{n:05d}有限公司",
                    f"91321100{n:010d}",
                    rnd.choice(sizes),
                    False,
                    rnd.choice(INDUSTRIES),
                    rnd.choice(PARKS),
                    "张经理",
                    f"1390000{n % 10000:04d}",
                    1,
                    created,
                    created,
                    False,
                )
                for n in range(ENTERPRISES)
            ],
            columns=[
                "id",
                "name",
                "credit_code",
                "size",
                "taiwan_funded",
                "industry",
                "park",
                "contact_name",
                "contact_phone",
                "version",
                "created_at",
                "updated_at",
                "provisional",
            ],
        )
        await connection.execute(
            "CREATE TEMP TABLE bench_deadlines (day date PRIMARY KEY, accept_due timestamptz, "
            "resolve_due timestamptz, final_due timestamptz, provisional boolean)"
        )
        await connection.copy_records_to_table(
            "bench_deadlines", records=deadline_rows(today - timedelta(days=732), 734)
        )
        await connection.execute("CREATE TEMP TABLE bench_departments (index int PRIMARY KEY, code text)")
        codes = [department.code for department in DEPARTMENTS]
        rnd.shuffle(codes)
        await connection.copy_records_to_table("bench_departments", records=list(enumerate(codes)))
        await connection.execute("CREATE TEMP TABLE bench_categories (index int PRIMARY KEY, code text)")
        await connection.copy_records_to_table(
            "bench_categories", records=list(enumerate(category.code for category in CATEGORIES))
        )
        await step("tickets", tickets_sql(count))
        await step("ratings", RATINGS_SQL)
        await step("joint contributions", CONTRIBUTIONS_SQL)
        await connection.execute("ANALYZE tickets; ANALYZE feedback; ANALYZE joint_contributions")
        for number, sql in enumerate(summary_sql()):
            await step(("department days", "handling days", "hot spot days")[number], sql)
        for table in ("stats_department_days", "stats_handling_days", "stats_hot_spot_days"):
            timings[f"{table} rows"] = float(await connection.fetchval(f"SELECT count(*) FROM {table}"))
        if indexes:
            started = time.perf_counter()
            for definition in dropped:
                await connection.execute(definition)
            timings["rebuild ticket indexes"] = time.perf_counter() - started
        await step("analyze", "ANALYZE")
        timings["tickets"] = float(await connection.fetchval("SELECT count(*) FROM tickets"))
        timings["ratings rows"] = float(await connection.fetchval("SELECT count(*) FROM feedback"))
        timings["database GB"] = await connection.fetchval("SELECT pg_database_size(current_database())") / 1e9
    finally:
        await connection.close()
    return timings


async def time_api(url: str, repeat: int, department: str) -> dict[str, tuple[float, float, float, float]]:
    """Median, p95 and max milliseconds of each statistics read, through the ticket service's app."""
    token = secrets.token_urlsafe(32)
    settings = TicketSettings(
        database_url=url,
        internal_token=token,
        environment="development",
        log_level="WARNING",
    )
    year = datetime.now(UTC).year
    period = {"start": f"{year}-01-01", "end": f"{year}-12-31"}
    reads = {
        f"department scorecard, year ({department})": f"/api/v1/stats/departments/{department}",
        "ranking of every department (scores)": "/api/v1/stats/scores",
        "every department's figures": "/api/v1/stats/departments",
        "fairness": "/api/v1/stats/fairness",
        "overview": "/api/v1/stats/overview",
        "trends (weekly, hot spots)": "/api/v1/stats/trends",
    }
    catalog = create_catalog_app(CatalogSettings(database_url=url, log_level="WARNING", relay_interval_seconds=0))
    async with LifespanManager(catalog) as catalog_manager:
        app = create_app(settings, catalog_transport=httpx.ASGITransport(app=catalog_manager.app))
        async with LifespanManager(app) as manager:
            results = await _time_reads(manager.app, token, reads, period, repeat, url)
    return results


def _backend_cpu_seconds(pids: list[int]) -> float:
    """CPU time the database's server processes for this benchmark's connections have used."""
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


async def _backend_pids(url: str) -> list[int]:
    connection = await asyncpg.connect(_dsn(url))
    try:
        rows = await connection.fetch(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
    finally:
        await connection.close()
    return [row["pid"] for row in rows]


async def _time_reads(
    app: Any, token: str, reads: dict[str, str], period: dict[str, str], repeat: int, url: str
) -> dict[str, tuple[float, float, float, float]]:
    """Wall-clock median, p95 and max, and the CPU milliseconds per read (this process, which runs
    the app, plus its database server processes): on a shared, loaded machine the wall clock
    counts other people's work too, the CPU time only this read's."""
    results = {}
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://tickets", timeout=60
    ) as client:
        for name, path in reads.items():
            times = []
            cpu = 0.0
            for attempt in range(repeat + 1):
                pids = await _backend_pids(url) if attempt else []
                cpu_started = time.process_time() + _backend_cpu_seconds(pids)
                started = time.perf_counter()
                response = await client.get(path, params=period, headers={"X-Internal-Token": token})
                elapsed = (time.perf_counter() - started) * 1000
                if response.status_code != 200:
                    raise SystemExit(f"{path}: {response.status_code} {response.text[:300]}")
                if attempt:
                    times.append(elapsed)
                    cpu += time.process_time() + _backend_cpu_seconds(pids) - cpu_started
            times.sort()
            p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
            results[name] = (statistics.median(times), p95, times[-1], cpu * 1000 / repeat)
        body = (await client.get("/api/v1/stats/scores", params=period, headers={"X-Internal-Token": token})).json()
        print(f"  ranked {len(body['scores'])} departments, {len(body['without_tickets'])} without tickets")
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tickets", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--indexes", action="store_true", help="rebuild the tickets' secondary indexes before timing")
    parser.add_argument("--keep", action="store_true", help="keep the database of the last size")
    args = parser.parse_args()
    url = os.environ.get("BENCH_STATS_DATABASE_URL", DEFAULT_URL)
    targets = {"department scorecard": 200.0, "ranking of every department": 1000.0}
    try:
        for count in args.tickets:
            print(f"== {count:,} tickets; load average {Path('/proc/loadavg').read_text().split()[0]} ==", flush=True)
            asyncio.run(_recreate(url))
            migrate(url)
            asyncio.run(seed(SharedSettings(database_url=url, environment="development")))
            timings = asyncio.run(load(url, count, indexes=args.indexes))
            for name in (
                "tickets",
                "ratings rows",
                "stats_department_days rows",
                "stats_handling_days rows",
                "stats_hot_spot_days rows",
                "database GB",
            ):
                print(f"  {name:<32} {timings[name]:14,.1f}")
            results = asyncio.run(time_api(url, args.repeat, SCORECARD_DEPARTMENT))
            print(f"  {'read':<44} {'median ms':>10} {'p95 ms':>8} {'max ms':>8} {'CPU ms':>8}")
            for name, (median, p95, worst, cpu) in results.items():
                verdict = ""
                for label, limit in targets.items():
                    if name.startswith(label) and count >= 10_000_000:
                        verdict = f"  (target <= {limit:.0f} ms at 10 M) {'PASS' if p95 <= limit else 'MISS'}"
                print(f"  {name:<44} {median:10.1f} {p95:8.1f} {worst:8.1f} {cpu:8.1f}{verdict}")
    finally:
        if not args.keep:
            asyncio.run(drop_database(url))


if __name__ == "__main__":
    main()
