"""The public transparency board (公开透明): the department ranking, the platform overview and the
trends of a period, server-rendered with Jinja2 from the ticket service's statistics.

No login and no personal data: only department-level figures. The page runs no script; its
charts are inline SVG. What the board read for a period is kept for `board_cache_seconds`, so
anonymous readers cost the statistics API at most one read per period in that time."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from gateway.catalog_client import CatalogDepartments, DepartmentName
from gateway.charts import ranking_chart, rates_chart, received_chart
from gateway.errors import InvalidPeriod
from gateway.stats_client import DepartmentRates, Overview, Period, Ratio, Scores, StatsClient, WeekTrend
from services.errors import ProblemError, problem_response

router = APIRouter(prefix="/board", include_in_schema=False)
MAX_CACHED_PERIODS = 64
SVG_MEDIA_TYPE = "image/svg+xml"
DateText = Annotated[str | None, Query(max_length=10)]
# The period as the page's own form sends it (`from`, `to`).
FromQuery = Annotated[DateText, Query(alias="from")]
ToQuery = Annotated[DateText, Query(alias="to")]
# The statistics API's names for the first and last day of a period.
API_PERIOD_PARAMS = ("start", "end")


@dataclass(frozen=True, slots=True)
class PeriodChoice:
    """The period a reader asked for; an open end is the statistics API's default."""

    start: date | None
    end: date | None

    def params(self) -> dict[str, str]:
        params = {}
        if self.start is not None:
            params[API_PERIOD_PARAMS[0]] = self.start.isoformat()
        if self.end is not None:
            params[API_PERIOD_PARAMS[1]] = self.end.isoformat()
        return params


@dataclass(frozen=True, slots=True)
class BoardRow:
    rank: int
    department_code: str
    name: DepartmentName
    score: float
    max_score: float
    resolved_on_time: Ratio | None
    satisfaction: Ratio | None


@dataclass(frozen=True, slots=True)
class BoardFigures:
    period: Period
    scheme_version: int
    ranked: list[BoardRow]
    unranked: list[DepartmentName]
    overview: Overview
    trends: list[WeekTrend]
    read_at: datetime


def _figures(
    scores: Scores,
    rates: dict[str, DepartmentRates],
    names: dict[str, DepartmentName],
    overview: Overview,
    trends: list[WeekTrend],
) -> BoardFigures:
    def name(code: str) -> DepartmentName:
        return names.get(code) or DepartmentName(name=code, short_name="")

    ranked = []
    for score in scores.ranked:
        department = rates.get(score.department_code)
        ranked.append(
            BoardRow(
                rank=score.rank,
                department_code=score.department_code,
                name=name(score.department_code),
                score=score.score,
                max_score=score.max_score,
                resolved_on_time=department.resolved_on_time if department else None,
                satisfaction=department.satisfaction if department else None,
            )
        )
    return BoardFigures(
        period=scores.period,
        scheme_version=scores.scheme_version,
        ranked=ranked,
        unranked=[name(code) for code in scores.without_tickets],
        overview=overview,
        trends=trends,
        read_at=datetime.now(UTC),
    )


@dataclass
class Board:
    """The board's readers of the statistics and the catalogue, its short cache, its templates."""

    stats: StatsClient
    catalog: CatalogDepartments
    cache_seconds: float
    templates: Environment = field(
        default_factory=lambda: Environment(
            loader=PackageLoader("gateway", "templates"), autoescape=select_autoescape()
        )
    )
    cached: dict[PeriodChoice, tuple[float, BoardFigures]] = field(default_factory=dict)

    async def figures(self, period: PeriodChoice) -> BoardFigures:
        now = time.monotonic()
        hit = self.cached.get(period)
        if hit is not None and hit[0] > now:
            return hit[1]
        params = period.params()
        scores, rates, overview, trends, names = await asyncio.gather(
            self.stats.scores(params),
            self.stats.department_rates(params),
            self.stats.overview(params),
            self.stats.trends(params),
            self.catalog.names(),
        )
        figures = _figures(scores, rates, names, overview, trends)
        if self.cache_seconds > 0:
            if len(self.cached) >= MAX_CACHED_PERIODS:
                self.cached.clear()
            self.cached[period] = (now + self.cache_seconds, figures)
        return figures


def _day(text: str | None, name: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise InvalidPeriod(name, "a date as YYYY-MM-DD") from exc


def _period(start: str | None, end: str | None) -> PeriodChoice:
    period = PeriodChoice(_day(start, "from"), _day(end, "to"))
    if period.start is not None and period.end is not None and period.start > period.end:
        raise InvalidPeriod("to", "the period ends before it starts")
    return period


def percent(ratio: Ratio | None) -> str:
    """A ratio as the board prints it: the API's rate in percent to one place; a dash for none."""
    return "—" if ratio is None or ratio.rate is None else f"{ratio.rate * 100:.1f}%"


def _wants_html(request: Request) -> bool:
    return "text/html" in request.headers.get("accept", "")


def _problem(request: Request, board: Board, problem: ProblemError) -> Response:
    """A browser gets the problem as a page; any other client as RFC 9457 JSON."""
    if not _wants_html(request):
        return problem_response(problem.status, problem.to_body(request.url.path), problem.headers)
    html = board.templates.get_template("board_problem.html").render(problem=problem.to_body(request.url.path))
    return HTMLResponse(html, status_code=problem.status, headers=problem.headers)


async def _read(request: Request, start: str | None, end: str | None) -> BoardFigures | Response:
    board: Board = request.state.board
    try:
        return await board.figures(_period(start, end))
    except ProblemError as problem:
        return _problem(request, board, problem)


@router.get("")
async def board_page(
    request: Request,
    start: FromQuery = None,
    end: ToQuery = None,
) -> Response:
    """The transparency board of a period (`from`, `to`; default the current year) (anyone)."""
    figures = await _read(request, start, end)
    if isinstance(figures, Response):
        return figures
    board: Board = request.state.board
    context: dict[str, Any] = {
        "figures": figures,
        "percent": percent,
        "ranking_svg": Markup(ranking_chart(figures.ranked)),
        "received_svg": Markup(received_chart(figures.trends)),
        "rates_svg": Markup(rates_chart(figures.trends)),
    }
    html = board.templates.get_template("board.html").render(**context)
    return HTMLResponse(html, headers={"Cache-Control": "public, max-age=60"})


@router.get("/charts/ranking.svg")
async def ranking_svg(
    request: Request,
    start: FromQuery = None,
    end: ToQuery = None,
) -> Response:
    """The departments' scores of a period as an SVG bar chart, best first (anyone)."""
    figures = await _read(request, start, end)
    if isinstance(figures, Response):
        return figures
    return Response(ranking_chart(figures.ranked, title="部门考核得分"), media_type=SVG_MEDIA_TYPE)


@router.get("/charts/received.svg")
async def received_svg(
    request: Request,
    start: FromQuery = None,
    end: ToQuery = None,
) -> Response:
    """Requests received per week of a period as an SVG bar chart (anyone)."""
    figures = await _read(request, start, end)
    if isinstance(figures, Response):
        return figures
    return Response(received_chart(figures.trends, title="每周受理量"), media_type=SVG_MEDIA_TYPE)


@router.get("/charts/rates.svg")
async def rates_svg(
    request: Request,
    start: FromQuery = None,
    end: ToQuery = None,
) -> Response:
    """The on-time and satisfaction rates per week of a period as an SVG line chart (anyone)."""
    figures = await _read(request, start, end)
    if isinstance(figures, Response):
        return figures
    return Response(rates_chart(figures.trends, title="每周按时办结率与满意率"), media_type=SVG_MEDIA_TYPE)
