"""The answers of /api/v1/stats/*: who sees what, and each report assembled from the figures.

Supervisors and admins (and the platform's own services, for the public board) see every
department; staff see their own; enterprises see none of it."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Table, func, select

from services.db import Reader
from services.principals import Principal, Role
from ticket_service import scoring, stats, stats_summary
from ticket_service.catalog_client import CatalogClient
from ticket_service.errors import CatalogUnavailable, StatsNotVisible
from ticket_service.models import Enterprise
from ticket_service.stats_summary import DEPARTMENT_COUNTERS

DEPARTMENT_WIDE = frozenset({Role.SUPERVISOR, Role.ADMIN})
PLATFORM_VIEWERS = frozenset({Role.STAFF, Role.DISPATCHER, Role.SUPERVISOR, Role.ADMIN})
SMALL_FIRMS = ("small", "micro")
GAP_INDICATORS = ("resolved_on_time", "satisfaction")


@dataclass(frozen=True, slots=True)
class Viewer:
    """Whose statistics a caller may read: `departments` None means every one."""

    departments: frozenset[str] | None

    @classmethod
    def platform(cls) -> Viewer:
        """The platform's own services (the public board): every department, no personal data."""
        return cls(departments=None)

    @classmethod
    def of(cls, principal: Principal) -> Viewer:
        if principal.role in DEPARTMENT_WIDE:
            return cls(departments=None)
        if principal.role == Role.STAFF and principal.department_code:
            return cls(departments=frozenset({principal.department_code}))
        raise StatsNotVisible(f"Role {principal.role.value!r} may not read department statistics.")

    def may_see(self, code: str) -> bool:
        return self.departments is None or code in self.departments

    def check(self, code: str) -> None:
        if not self.may_see(code):
            raise StatsNotVisible(f"Staff see the statistics of their own department only, not {code!r}.")


def check_platform_viewer(principal: Principal) -> None:
    if principal.role not in PLATFORM_VIEWERS:
        raise StatsNotVisible(f"Role {principal.role.value!r} may not read platform statistics.")


def _table(entity: type[Any]) -> Table:
    table = entity.__table__
    assert isinstance(table, Table)
    return table


async def _catalogue_departments(catalog: CatalogClient) -> list[str]:
    return await catalog.department_codes()


async def department_list(
    db: Reader, *, catalog: CatalogClient, viewer: Viewer, period: stats.Period
) -> dict[str, Any]:
    figures = await stats.figures_by_department(db, period=period, departments=viewer.departments)
    known = [code for code in await _catalogue_departments(catalog) if viewer.may_see(code)]
    return {
        "period": period.as_json(),
        "departments": list(figures.values()),
        "without_tickets": sorted(code for code in known if code not in figures),
    }


async def department_detail(db: Reader, *, viewer: Viewer, code: str, period: stats.Period) -> dict[str, Any]:
    viewer.check(code)
    totals = await stats.department_totals(db, period=period, departments=[code])
    histograms = await stats.handling_histograms(db, period=period, departments=[code])
    counters = totals.get(code, dict.fromkeys(DEPARTMENT_COUNTERS, 0))
    return {"period": period.as_json(), "figures": stats.department_figures(code, counters, histograms.get(code, []))}


async def scores(
    db: Reader,
    *,
    catalog: CatalogClient,
    viewer: Viewer,
    period: stats.Period,
    scheme_version: int | None,
) -> dict[str, Any]:
    """Every department with tickets scored and ranked; staff see their own row (its rank among all)."""
    scheme = await scoring.get_scheme(db, version=scheme_version)
    figures = await stats.figures_by_department(db, period=period, handling=False)
    ranked = scoring.rank([scoring.score_department(scheme, item) for item in figures.values()])
    known = await _catalogue_departments(catalog)
    return {
        "period": period.as_json(),
        "scheme_version": scheme["version"],
        "scores": [item for item in ranked if viewer.may_see(item["department_code"])],
        "without_tickets": sorted(code for code in known if code not in figures and viewer.may_see(code)),
    }


def _segment(segment: str, totals: dict[str, int]) -> dict[str, Any]:
    return {
        "segment": segment,
        "received": totals["received"],
        "orders": totals["orders"],
        "requests": totals["received"] - totals["orders"],
        **stats.rates(totals),
    }


def _gap(indicator: str, by_size: list[dict[str, Any]], threshold_points: float) -> dict[str, Any]:
    rated = [(item[indicator]["rate"], item["segment"]) for item in by_size if item[indicator]["rate"] is not None]
    if len(rated) < 2:
        return {
            "indicator": indicator,
            "best": None,
            "worst": None,
            "gap_points": None,
            "threshold_points": threshold_points,
            "flagged": False,
        }
    best = max(rated)
    worst = min(rated)
    gap = round((best[0] - worst[0]) * 100, 2)
    return {
        "indicator": indicator,
        "best": best[1],
        "worst": worst[1],
        "gap_points": gap,
        "threshold_points": threshold_points,
        "flagged": gap > threshold_points,
    }


async def fairness(db: Reader, *, period: stats.Period, gap_threshold_points: float) -> dict[str, Any]:
    zero = dict.fromkeys(DEPARTMENT_COUNTERS, 0)
    sizes = await stats.segment_totals(db, period=period, by="size")
    channels = await stats.segment_totals(db, period=period, by="channel")
    by_size = [_segment(size, sizes.get(size, zero)) for size in stats.SIZES]
    if sizes.get("", zero)["received"]:
        by_size.append(_segment("unknown", sizes[""]))
    by_channel = [_segment(channel, channels.get(channel, zero)) for channel in stats.CHANNELS]
    small_orders = sum(sizes.get(size, zero)["orders"] for size in SMALL_FIRMS)
    small_requests = sum(sizes.get(size, zero)["received"] - sizes.get(size, zero)["orders"] for size in SMALL_FIRMS)
    all_orders = sum(item["orders"] for item in sizes.values())
    all_requests = sum(item["received"] - item["orders"] for item in sizes.values())
    return {
        "period": period.as_json(),
        "by_size": by_size,
        "by_channel": by_channel,
        "small_micro_orders": stats.ratio(small_orders, all_orders, "orders"),
        "small_micro_requests": stats.ratio(small_requests, all_requests, "requests"),
        "gaps": [_gap(indicator, by_size[:4], gap_threshold_points) for indicator in GAP_INDICATORS],
    }


async def overview(db: Reader, *, catalog: CatalogClient, period: stats.Period) -> dict[str, Any]:
    totals = await stats.platform_totals(db, period=period)
    rates = stats.rates(totals)
    enterprises = (await db.execute(select(func.count()).select_from(_table(Enterprise)))).scalar() or 0
    try:
        units: int | None = len(await catalog.department_codes())
        published = await catalog.figures(period.start, period.end)
    except CatalogUnavailable:
        units, published = None, {}
    return {
        "period": period.as_json(),
        "units_joined": units,
        "enterprises_registered": int(enterprises),
        "visits": published.get("visits"),
        "policies_published": published.get("policies_published"),
        "items_published": published.get("items_published"),
        "requests_received": totals["received"],
        "completion": rates["completion"],
        "satisfaction": rates["satisfaction"],
    }


def monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _weeks(period: stats.Period) -> list[date]:
    weeks = []
    week = monday(period.start)
    while week <= period.end:
        weeks.append(week)
        week += timedelta(days=7)
    return weeks


async def trends(db: Reader, *, period: stats.Period, dimension: str, top: int) -> dict[str, Any]:
    """Per week: the platform's received, on-time and satisfaction, and the hot spots of
    `dimension` with their change from the week before."""
    table = stats_summary.department_days()
    counters = ("received", "resolved_on_time", "rated", "satisfied", "ruled_out")
    query = (
        select(table.c.day, *(func.sum(table.c[name]).label(name) for name in counters))
        .where(table.c.day >= monday(period.start), table.c.day <= period.end)
        .group_by(table.c.day)
    )
    weekly: defaultdict[date, dict[str, int]] = defaultdict(lambda: dict.fromkeys(DEPARTMENT_COUNTERS, 0))
    for row in (await db.execute(query)).mappings():
        sums = weekly[monday(row["day"])]
        for name in counters:
            sums[name] += int(row[name] or 0)
    weeks = _weeks(period)
    series = []
    for week in weeks:
        totals = weekly[week]
        rates = stats.rates(totals)
        series.append(
            {
                "week_start": week,
                "received": totals["received"],
                "resolved_on_time": rates["resolved_on_time"],
                "satisfaction": rates["satisfaction"],
            }
        )
    return {
        "period": period.as_json(),
        "dimension": dimension,
        "weeks": series,
        "hot_spots": await hot_spots(db, weeks=weeks, end=period.end, dimension=dimension, top=top),
    }


async def hot_spots(db: Reader, *, weeks: Iterable[date], end: date, dimension: str, top: int) -> list[dict[str, Any]]:
    weeks = list(weeks)
    if not weeks:
        return []
    table = stats_summary.hot_spot_days()
    query = select(table.c.day, table.c.key, table.c.received).where(
        table.c.dimension == dimension,
        table.c.day >= weeks[0] - timedelta(days=7),
        table.c.day <= end,
    )
    counts: defaultdict[date, defaultdict[str, int]] = defaultdict(lambda: defaultdict(int))
    for day, key, received in (await db.execute(query)).all():
        counts[monday(day)][key] += int(received)
    answer = []
    for week in weeks:
        previous = counts[week - timedelta(days=7)]
        spots = []
        for key, received in sorted(counts[week].items(), key=lambda item: (-item[1], item[0]))[:top]:
            before = previous.get(key, 0)
            change = received - before
            spots.append(
                {
                    "key": key,
                    "received": received,
                    "previous": before,
                    "change": change,
                    "change_rate": round(change / before, 4) if before else None,
                }
            )
        answer.append({"week_start": week, "spots": spots})
    return answer
