"""The figures per department, size and channel, read from the summary tables (never the tickets).

A period is a range of local days, both ends included, by default the current year. Each rate
says what its denominator counts (`stats_schemas.Ratio`)."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from services.db import Reader
from ticket_service import stats_summary
from ticket_service.errors import InvalidPeriod
from ticket_service.stats_summary import DEPARTMENT_COUNTERS

MAX_PERIOD_DAYS = 3 * 366
FIRST_YEAR, LAST_YEAR = 2000, 2100
SIZES = ("large", "medium", "small", "micro")
CHANNELS = ("web", "hotline", "visit", "onsite")


@dataclass(frozen=True, slots=True)
class Period:
    start: date
    end: date

    def as_json(self) -> dict[str, str]:
        return {"start": self.start.isoformat(), "end": self.end.isoformat()}


def period_of(start: date | None, end: date | None, *, now: datetime, tz: str) -> Period:
    """The days asked for; by default the current year (up to its last day)."""
    year = now.astimezone(ZoneInfo(tz)).year
    start = start or (date(end.year, 1, 1) if end else date(year, 1, 1))
    end = end or date(start.year, 12, 31)
    if end < start:
        raise InvalidPeriod("The period ends before it starts.", field="end", reason="end is before start")
    if start.year < FIRST_YEAR or end.year > LAST_YEAR:
        raise InvalidPeriod(
            f"A period lies within the years {FIRST_YEAR}–{LAST_YEAR}.", field="start", reason="out of range"
        )
    if (end - start).days >= MAX_PERIOD_DAYS:
        raise InvalidPeriod("A period is at most three years.", field="end", reason="period too long")
    return Period(start, end)


def ratio(count: int, of: int, denominator: str) -> dict[str, Any]:
    return {"count": count, "of": of, "rate": round(count / of, 4) if of else None, "denominator": denominator}


def rates(totals: Mapping[str, int]) -> dict[str, dict[str, Any]]:
    """The rates of one set of counters, each with its denominator."""
    counted_ratings = totals["rated"] - totals["ruled_out"]
    return {
        "accepted_on_time": ratio(totals["accepted_on_time"], totals["received"], "received"),
        "resolved_on_time": ratio(totals["resolved_on_time"], totals["received"], "received"),
        "completion": ratio(totals["completed"], totals["due"], "due"),
        # A rating ruled unreasonable leaves the denominator (and, being unsatisfied, no numerator).
        "satisfaction": ratio(totals["satisfied"], counted_ratings, "rated_less_ruled_out"),
        "redo": ratio(totals["redo"], totals["resolutions"], "resolutions"),
        # A ticket returned leaves its department (it goes back to dispatch): it was theirs still.
        "returned": ratio(totals["returned"], totals["received"] + totals["returned"], "received_or_returned"),
    }


def quantile_tenths(histogram: Sequence[tuple[int, int]], q: float) -> float | None:
    """The nearest-rank `q` quantile of (tenths, count) pairs, in working days."""
    total = sum(n for _, n in histogram)
    if total <= 0:
        return None
    rank = max(1, math.ceil(q * total))
    seen = 0
    for tenths, n in sorted(histogram):
        seen += n
        if seen >= rank:
            return tenths / 10
    return sorted(histogram)[-1][0] / 10


def _zero() -> dict[str, int]:
    return dict.fromkeys(DEPARTMENT_COUNTERS, 0)


async def department_totals(
    db: Reader, *, period: Period, departments: Iterable[str] | None = None
) -> dict[str, dict[str, int]]:
    """Counter sums per department over the period, `overdue_open` over all time (it is now)."""
    table = stats_summary.department_days()
    sums = [func.coalesce(func.sum(table.c[name]), 0).label(name) for name in DEPARTMENT_COUNTERS]
    query = (
        select(table.c.department_code, *sums)
        .where(table.c.day >= period.start, table.c.day <= period.end, table.c.department_code != "")
        .group_by(table.c.department_code)
    )
    overdue = (
        select(table.c.department_code, func.sum(table.c.overdue_open))
        .where(table.c.department_code != "", table.c.overdue_open != 0)
        .group_by(table.c.department_code)
    )
    codes = None if departments is None else sorted(set(departments))
    if codes is not None:
        query = query.where(table.c.department_code.in_(codes))
        overdue = overdue.where(table.c.department_code.in_(codes))
    totals: dict[str, dict[str, int]] = {}
    for row in (await db.execute(query)).mappings():
        totals[row["department_code"]] = {name: int(row[name]) for name in DEPARTMENT_COUNTERS}
    for code, now_overdue in (await db.execute(overdue)).all():
        totals.setdefault(code, _zero())["overdue_open"] = int(now_overdue or 0)
    return totals


async def handling_histograms(
    db: Reader, *, period: Period, departments: Iterable[str] | None = None
) -> dict[str, list[tuple[int, int]]]:
    table = stats_summary.handling_days()
    query = (
        select(table.c.department_code, table.c.tenths, func.sum(table.c.resolutions))
        .where(table.c.day >= period.start, table.c.day <= period.end, table.c.department_code != "")
        .group_by(table.c.department_code, table.c.tenths)
    )
    if departments is not None:
        query = query.where(table.c.department_code.in_(sorted(set(departments))))
    histograms: defaultdict[str, list[tuple[int, int]]] = defaultdict(list)
    for code, tenths, n in (await db.execute(query)).all():
        if n:
            histograms[code].append((int(tenths), int(n)))
    return dict(histograms)


def department_figures(code: str, totals: Mapping[str, int], histogram: Sequence[tuple[int, int]]) -> dict[str, Any]:
    return {
        "department_code": code,
        "received": totals["received"],
        **rates(totals),
        "joint_reviews_led": totals["joint_led"],
        "joint_reviews_joined": totals["joint_joined"],
        "joint_contributions_late": totals["joint_late"],
        "escalations": totals["escalations"],
        "overdue_now": totals["overdue_open"],
        "resolved_count": sum(n for _, n in histogram),
        "handling_days_median": quantile_tenths(histogram, 0.5),
        "handling_days_p90": quantile_tenths(histogram, 0.9),
    }


def has_tickets(totals: Mapping[str, int]) -> bool:
    """Whether a department had anything to count in the period (else it is listed apart)."""
    return any(totals[name] for name in ("received", "due", "joint_joined", "rated", "resolutions", "returned"))


async def figures_by_department(
    db: Reader, *, period: Period, departments: Iterable[str] | None = None, handling: bool = True
) -> dict[str, dict[str, Any]]:
    """Every department's figures (those with something to count), by code; without `handling`,
    no handling times (the scores do not need them, and they are the larger read)."""
    codes = None if departments is None else list(departments)
    totals = await department_totals(db, period=period, departments=codes)
    histograms = await handling_histograms(db, period=period, departments=codes) if handling else {}
    return {
        code: department_figures(code, counters, histograms.get(code, []))
        for code, counters in sorted(totals.items())
        if has_tickets(counters)
    }


async def segment_totals(db: Reader, *, period: Period, by: str) -> dict[str, dict[str, int]]:
    """Counter sums per enterprise size or channel (`by`) across every department."""
    table = stats_summary.department_days()
    column = table.c[by]
    sums = [func.coalesce(func.sum(table.c[name]), 0).label(name) for name in DEPARTMENT_COUNTERS]
    query = (
        select(column.label("segment"), *sums)
        .where(table.c.day >= period.start, table.c.day <= period.end)
        .group_by(column)
    )
    return {
        row["segment"]: {name: int(row[name]) for name in DEPARTMENT_COUNTERS}
        for row in (await db.execute(query)).mappings()
    }


async def platform_totals(db: Reader, *, period: Period) -> dict[str, int]:
    table = stats_summary.department_days()
    sums = [func.coalesce(func.sum(table.c[name]), 0).label(name) for name in DEPARTMENT_COUNTERS]
    row = (await db.execute(select(*sums).where(table.c.day >= period.start, table.c.day <= period.end))).mappings()
    values = row.one()
    return {name: int(values[name]) for name in DEPARTMENT_COUNTERS}
