"""`python -m launcher stats-rebuild`: recompute the statistics' summary tables from the tickets.

For a database filled outside the ticket service (an import, a benchmark's generated history) or
after the working-day calendar of past years changed (handling times are counted in working
days). Concurrent ticket changes wait for it: the summary and delta tables are locked while it
runs (the deltas not folded yet are recomputed with the rest)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text

from services.db import create_engine, create_sessionmaker
from ticket_service import calendar_service, stats_summary
from ticket_service.calendar_service import CalendarCache
from ticket_service.settings import TicketSettings

SUMMARY_TABLES = (
    "stats_department_days",
    "stats_handling_days",
    "stats_hot_spot_days",
    "stats_department_deltas",
    "stats_handling_deltas",
    "stats_hot_spot_deltas",
)


@dataclass(frozen=True, slots=True)
class RebuildReport:
    tickets: int
    department_rows: int


async def rebuild_summaries(database_url: str, *, settings: TicketSettings | None = None) -> RebuildReport:
    """Rebuild in one transaction; what was read and written."""
    settings = settings or TicketSettings(database_url=database_url)
    engine = create_engine(database_url)
    try:
        async with create_sessionmaker(engine)() as session, session.begin():
            if engine.dialect.name == "postgresql":
                await session.execute(text(f"LOCK TABLE {', '.join(SUMMARY_TABLES)} IN EXCLUSIVE MODE"))
            cache = CalendarCache(day_end=settings.workday_end, tz=settings.timezone)
            calendar = await calendar_service.load_calendar(session, cache=cache)
            tickets = await stats_summary.rebuild(session, calendar=calendar)
            rows = (await session.execute(text("SELECT count(*) FROM stats_department_days"))).scalar() or 0
    finally:
        await engine.dispose()
    return RebuildReport(tickets=tickets, department_rows=int(rows))
