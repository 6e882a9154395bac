"""The working-day calendar as the ticket service keeps it: package data plus the overlay.

Building a `WorkCalendar` takes ~10 ms, so each process caches the one it built and rebuilds
only when the overlay's fingerprint (row count, revision sum, last change) moves; every
replica sees a change on its next request.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, time
from typing import Any

from sqlalchemy import Integer, and_, bindparam, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.db import Reader, UtcDateTime, utcnow
from services.principals import Principal
from services.workdays import (
    CalendarRangeError,
    Deadlines,
    InvalidSlaProfile,
    OverlayDay,
    SlaProfile,
    WorkCalendar,
)
from ticket_service.errors import InvalidInstant, InvalidOverlay, InvalidProfile
from ticket_service.models import CalendarChange, CalendarDay, CalendarYear
from ticket_service.outbox import add_event


@dataclass
class CalendarCache:
    day_end: time | None = None
    tz: str = "Asia/Shanghai"
    fingerprint: tuple[Any, ...] | None = None
    calendar: WorkCalendar | None = field(default=None, repr=False)


# The overlay's fingerprint: row count, revision sum, last change.
FINGERPRINT_COLUMNS = (
    select(func.count()).select_from(CalendarYear).scalar_subquery(),
    select(func.coalesce(func.sum(CalendarYear.revision), 0)).scalar_subquery(),
    select(func.max(CalendarYear.updated_at)).scalar_subquery(),
)
_FINGERPRINT = select(*FINGERPRINT_COLUMNS)
# A creation writes only if the overlay is still the one its deadlines came from: checked in
# the creating statement itself instead of a query of its own before it.
OVERLAY_UNCHANGED = and_(
    FINGERPRINT_COLUMNS[0] == bindparam("overlay_rows", type_=Integer()),
    FINGERPRINT_COLUMNS[1] == bindparam("overlay_revisions", type_=Integer()),
    FINGERPRINT_COLUMNS[2].is_not_distinct_from(bindparam("overlay_changed", type_=UtcDateTime())),
)


def unchanged_parameters(cache: CalendarCache) -> dict[str, Any]:
    """The bound values of `OVERLAY_UNCHANGED` for the calendar `cache` holds."""
    assert cache.fingerprint is not None
    rows, revisions, changed = cache.fingerprint
    return {"overlay_rows": rows, "overlay_revisions": revisions, "overlay_changed": changed}


async def _fingerprint(db: Reader) -> tuple[Any, ...]:
    connection = await db.connection() if isinstance(db, AsyncSession) else db
    row = (await connection.execute(_FINGERPRINT)).one()
    return tuple(row)


async def load_calendar(db: Reader, *, cache: CalendarCache) -> WorkCalendar:
    """The calendar as the overlay now stands (rebuilt only when its fingerprint moved)."""
    fingerprint = await _fingerprint(db)
    if cache.calendar is not None and cache.fingerprint == fingerprint:
        return cache.calendar
    days = (await db.execute(select(CalendarDay.day, CalendarDay.is_workday, CalendarDay.note))).all()
    complete = (await db.execute(select(CalendarYear.year).where(CalendarYear.complete.is_(True)))).scalars().all()
    calendar = WorkCalendar.build(
        [OverlayDay(day=day, is_workday=is_workday, note=note) for day, is_workday, note in days],
        complete_years=complete,
        day_end=cache.day_end,
        tz=cache.tz,
    )
    cache.calendar, cache.fingerprint = calendar, fingerprint
    return calendar


def parse_profile(text: str) -> SlaProfile:
    try:
        return SlaProfile.parse(text)
    except InvalidSlaProfile as exc:
        raise InvalidProfile(text, str(exc)) from exc


def compute_deadlines(calendar: WorkCalendar, *, received_at: datetime, profile: SlaProfile) -> Deadlines:
    if received_at.tzinfo is None:
        raise InvalidInstant("received_at", "must carry a UTC offset (RFC 3339), e.g. 2026-09-30T10:00:00+08:00")
    try:
        return calendar.deadlines(received_at, profile)
    except CalendarRangeError as exc:
        raise InvalidInstant("received_at", str(exc)) from exc


def year_view(calendar: WorkCalendar, year: int, overlay: CalendarYear | None) -> dict[str, Any]:
    days = [
        {
            "date": info.day,
            "weekday": info.day.isoweekday(),
            "is_workday": info.is_workday,
            "reason": info.reason,
            "source": info.source,
        }
        for info in calendar.non_default_days(year)
    ]
    overlay_info = None
    if overlay is not None:
        overlay_info = {
            "complete": overlay.complete,
            "revision": overlay.revision,
            "updated_by": overlay.updated_by,
            "updated_at": overlay.updated_at,
        }
    return {"year": year, "status": calendar.year_status(year), "days": days, "overlay": overlay_info}


async def get_year_overlay(db: Reader, *, year: int) -> CalendarYear | None:
    if isinstance(db, AsyncSession):
        return await db.get(CalendarYear, year)
    row = (await db.execute(select(CalendarYear.__table__).where(CalendarYear.year == year))).mappings().first()
    return CalendarYear(**row) if row is not None else None


def _validate_rows(year: int, rows: list[OverlayDay]) -> None:
    outside = sorted({row.day.isoformat() for row in rows if row.day.year != year})
    if outside:
        raise InvalidOverlay("date_outside_year", f"These dates are not in {year}: {', '.join(outside)}.", outside)
    counts = Counter(row.day for row in rows)
    duplicates = sorted(day.isoformat() for day, count in counts.items() if count > 1)
    if duplicates:
        raise InvalidOverlay(
            "duplicate_date", f"These dates appear more than once: {', '.join(duplicates)}.", duplicates
        )


def _rows_json(rows: list[OverlayDay]) -> list[dict[str, Any]]:
    return [{"date": row.day.isoformat(), "is_workday": row.is_workday, "note": row.note} for row in rows]


async def replace_year_overlay(
    session: AsyncSession, *, year: int, rows: list[OverlayDay], complete: bool, actor: Principal
) -> CalendarYear:
    """Replace a year's overlay; record who changed what; emit `calendar.changed`."""
    _validate_rows(year, rows)
    rows = sorted(rows, key=lambda row: row.day)
    previous = (
        (await session.execute(select(CalendarDay).where(CalendarDay.year == year).order_by(CalendarDay.day)))
        .scalars()
        .all()
    )
    previous_rows = [OverlayDay(day=row.day, is_workday=row.is_workday, note=row.note) for row in previous]
    overlay = await session.get(CalendarYear, year, with_for_update=True)
    previous_complete = overlay.complete if overlay is not None else False
    now = utcnow()
    if overlay is None:
        overlay = CalendarYear(year=year, complete=complete, revision=1, updated_by=actor.subject, updated_at=now)
        session.add(overlay)
    else:
        overlay.complete = complete
        overlay.revision += 1
        overlay.updated_by = actor.subject
        overlay.updated_at = now
    await session.execute(delete(CalendarDay).where(CalendarDay.year == year))
    session.add_all(CalendarDay(day=row.day, year=year, is_workday=row.is_workday, note=row.note) for row in rows)
    days = _rows_json(rows)
    change = CalendarChange(
        year=year,
        revision=overlay.revision,
        actor=actor.subject,
        role=actor.role.value,
        at=now,
        complete=complete,
        previous_complete=previous_complete,
        days=days,
        previous_days=_rows_json(previous_rows),
    )
    session.add(change)
    await session.flush()
    await add_event(
        session,
        event_type="calendar.changed",
        aggregate_type="calendar_year",
        aggregate_id=str(year),
        data={"year": year, "revision": overlay.revision, "complete": complete, "days": days},
        occurred_at=now,
    )
    return overlay


async def list_changes(db: Reader, *, year: int) -> list[dict[str, Any]]:
    table = CalendarChange.__table__
    result = await db.execute(select(table).where(table.c.year == year).order_by(table.c.revision.desc()))
    return [dict(row) for row in result.mappings().all()]


async def deadlines_for(db: Reader, *, cache: CalendarCache, received_at: datetime, profile: str) -> dict[str, Any]:
    """The deadlines of a request received at `received_at` under a profile's text (`1-3-5`)."""
    sla = parse_profile(profile)
    result = compute_deadlines(await load_calendar(db, cache=cache), received_at=received_at, profile=sla)
    return {
        "received_at": received_at,
        "profile": str(sla),
        "accept_due": result.accept_due,
        "resolve_due": result.resolve_due,
        "final_due": result.final_due,
        "provisional": result.provisional,
    }


async def year_of(db: Reader, *, cache: CalendarCache, year: int) -> dict[str, Any]:
    """A year's holidays, make-up working days and overlay rows, and whether it is official."""
    calendar = await load_calendar(db, cache=cache)
    return year_view(calendar, year, await get_year_overlay(db, year=year))


async def replace_year(
    session: AsyncSession,
    *,
    cache: CalendarCache,
    year: int,
    rows: list[OverlayDay],
    complete: bool,
    actor: Principal,
) -> dict[str, Any]:
    """`replace_year_overlay`, answered with the year as the new calendar shows it."""
    overlay = await replace_year_overlay(session, year=year, rows=rows, complete=complete, actor=actor)
    return year_view(await load_calendar(session, cache=cache), year, overlay)
