"""The statistics (/api/v1/stats/*): department figures, scorecards, fairness, overview, trends.

JSON by default; `Accept: text/csv` gives a CSV for Excel and the spreadsheet media type an .xlsx
workbook. Enterprises see none of it; the public board reads it with the internal token."""

from __future__ import annotations

import hmac
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response

from services.auth import AdminPrincipal, BearerPrincipal, Principal
from services.db import AutocommitDep, SessionDep, utcnow
from services.errors import NotAuthenticated, problem_responses
from ticket_service import scoring, stats, stats_reports
from ticket_service.dependencies import TicketContextDep
from ticket_service.stats_export import TABLE_RESPONSES, Column, field, ratio_columns, respond
from ticket_service.stats_reports import Viewer
from ticket_service.stats_schemas import (
    DepartmentDetail,
    DepartmentList,
    FairnessReport,
    Overview,
    SchemeBody,
    SchemeRead,
    ScoreList,
    Trends,
)

router = APIRouter(prefix="/api/v1/stats", tags=["statistics"])
_optional_bearer = BearerPrincipal(required=False)

# The years a period may lie in (stats.FIRST_YEAR to LAST_YEAR), said in the schema too.
PERIOD_DATE = {"pattern": r"^(20[0-9]{2}|2100)-[0-9]{2}-[0-9]{2}$"}
StartQuery = Annotated[
    date | None,
    Query(
        description="First day (Asia/Shanghai), inclusive, 2000–2100; default 1 January.",
        json_schema_extra=PERIOD_DATE,
    ),
]
EndQuery = Annotated[
    date | None,
    Query(
        description="Last day, inclusive, on or after `start` and less than three years after it; default 31 "
        "December of the start's year.",
        json_schema_extra=PERIOD_DATE,
    ),
]
DepartmentCodePath = Annotated[str, Path(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_-]+$")]
InternalTokenHeader = Annotated[str | None, Header(alias="X-Internal-Token", max_length=200, include_in_schema=False)]


async def stats_caller(
    request: Request,
    principal: Annotated[Principal | None, Depends(_optional_bearer)],
    x_internal_token: InternalTokenHeader = None,
) -> Principal | None:
    """The caller, or None for the platform's own services (the public board, internal token)."""
    if x_internal_token is not None:
        expected = request.state.settings.internal_token.get_secret_value()
        if hmac.compare_digest(x_internal_token.encode(), expected.encode()):
            return None
        raise NotAuthenticated("The internal token is wrong.", code="invalid_internal_token")
    if principal is None:
        raise NotAuthenticated("This operation requires a bearer token.")
    return principal


StatsCaller = Annotated[Principal | None, Depends(stats_caller)]


def department_viewer(caller: Principal | None) -> Viewer:
    return Viewer.platform() if caller is None else Viewer.of(caller)


def platform_viewer(caller: Principal | None) -> None:
    if caller is not None:
        stats_reports.check_platform_viewer(caller)


def period(request: Request, start: date | None, end: date | None) -> stats.Period:
    return stats.period_of(start, end, now=utcnow(), tz=request.state.settings.timezone)


# The rates every table of figures shows, each as its value, numerator and denominator.
RATE_COLUMNS = [
    *ratio_columns("accepted_on_time", "及时签收率"),
    *ratio_columns("resolved_on_time", "按时办结率"),
    *ratio_columns("completion", "办结率"),
    *ratio_columns("satisfaction", "满意率"),
    *ratio_columns("redo", "发回重办率"),
    *ratio_columns("returned", "回退率"),
]

FIGURE_COLUMNS = [
    Column("部门", field("department_code")),
    Column("受理量", field("received")),
    *RATE_COLUMNS,
    Column("牵头会办", field("joint_reviews_led")),
    Column("参与会办", field("joint_reviews_joined")),
    Column("会办超时", field("joint_contributions_late")),
    Column("督办次数", field("escalations")),
    Column("当前逾期", field("overdue_now")),
    Column("办结件数", field("resolved_count")),
    Column("办理时长中位数(工作日)", field("handling_days_median")),
    Column("办理时长P90(工作日)", field("handling_days_p90")),
]
READ_PROBLEMS = problem_responses(401, 403, 422, 503)
WHO_DEPARTMENTS = "Supervisors and admins see every department, staff their own; other roles get 403."
WHO_PLATFORM = "Staff, dispatchers, supervisors and admins; enterprises and integrations get 403."


@router.get(
    "/departments",
    operation_id="list_department_stats",
    summary="Figures per department",
    description="Each department's figures for the period, each rate with its denominator; departments "
    f"without tickets are listed apart. {WHO_DEPARTMENTS}",
    response_model=DepartmentList,
    responses={**TABLE_RESPONSES, **READ_PROBLEMS},
)
async def list_department_stats(
    request: Request,
    db: AutocommitDep,
    context: TicketContextDep,
    caller: StatsCaller,
    start: StartQuery = None,
    end: EndQuery = None,
) -> Response:
    """Figures per department for a period."""
    viewer = department_viewer(caller)
    answer = await stats_reports.department_list(
        db, catalog=context.catalog, viewer=viewer, period=period(request, start, end)
    )
    return respond(
        request,
        answer,
        columns=FIGURE_COLUMNS,
        rows=answer["departments"],
        filename="department-stats",
        title="部门统计",
    )


@router.get(
    "/departments/{code}",
    operation_id="get_department_stats",
    summary="One department's figures",
    description=f"One department's figures for the period (a department without tickets: zeros). {WHO_DEPARTMENTS}",
    response_model=DepartmentDetail,
    responses={**TABLE_RESPONSES, **READ_PROBLEMS},
)
async def get_department_stats(
    request: Request,
    db: AutocommitDep,
    caller: StatsCaller,
    code: DepartmentCodePath,
    start: StartQuery = None,
    end: EndQuery = None,
) -> Response:
    """One department's figures for a period."""
    viewer = department_viewer(caller)
    answer = await stats_reports.department_detail(db, viewer=viewer, code=code, period=period(request, start, end))
    return respond(
        request,
        answer,
        columns=FIGURE_COLUMNS,
        rows=[answer["figures"]],
        filename=f"department-stats-{code}",
        title="部门统计",
    )


SCORE_COLUMNS = [
    Column("名次", field("rank")),
    Column("部门", field("department_code")),
    Column("分组", field("group")),
    Column("权重", field("weight")),
    Column("原始得分", field("raw_score")),
    Column("得分", field("score")),
    Column("满分", field("max_score")),
]


def _score_rows(answer: dict[str, Any]) -> tuple[list[Column], list[dict[str, Any]]]:
    """The scorecard as a table: one row per department, two columns (rate, points) per indicator."""
    indicators = answer["scores"][0]["indicators"] if answer["scores"] else []
    columns = list(SCORE_COLUMNS)
    rows = []
    for item in answer["scores"]:
        row = {key: value for key, value in item.items() if key != "indicators"}
        for indicator in item["indicators"]:
            rate = indicator["rate"]
            row[f"{indicator['indicator']}_rate"] = None if rate is None else round(rate * 100, 2)
            row[f"{indicator['indicator']}_points"] = indicator["points"]
        row["scheme_version"] = answer["scheme_version"]
        rows.append(row)
    for indicator in indicators:
        columns.append(Column(f"{indicator['label']}(%)", field(f"{indicator['indicator']}_rate")))
        columns.append(Column(f"{indicator['label']}得分", field(f"{indicator['indicator']}_points")))
    columns.append(Column("评分方案版本", field("scheme_version")))
    return columns, rows


@router.get(
    "/scores",
    operation_id="list_department_scores",
    summary="The assessment's scorecards, ranked",
    description="Every department with tickets scored by the scheme (the latest, or `scheme_version`) and "
    f"ranked; the annual assessment report as .xlsx. {WHO_DEPARTMENTS} (Staff see their own row.)",
    response_model=ScoreList,
    responses={**TABLE_RESPONSES, **problem_responses(401, 403, 404, 422, 503)},
)
async def list_department_scores(
    request: Request,
    db: AutocommitDep,
    context: TicketContextDep,
    caller: StatsCaller,
    start: StartQuery = None,
    end: EndQuery = None,
    scheme_version: Annotated[
        int | None, Query(ge=0, le=2_147_483_647, description="Score by this version (0: the default).")
    ] = None,
) -> Response:
    """Scorecards for a period, ranked."""
    viewer = department_viewer(caller)
    answer = await stats_reports.scores(
        db, catalog=context.catalog, viewer=viewer, period=period(request, start, end), scheme_version=scheme_version
    )
    columns, rows = _score_rows(answer)
    return respond(request, answer, columns=columns, rows=rows, filename="assessment-scores", title="年度考核得分")


SEGMENT_COLUMNS = [
    Column("分组", field("segment")),
    Column("受理量", field("received")),
    Column("点单量", field("orders")),
    Column("诉求量", field("requests")),
    *RATE_COLUMNS,
]


@router.get(
    "/fairness",
    operation_id="get_fairness_stats",
    summary="Fairness by enterprise size and channel",
    description="The figures by enterprise size and by channel, the share of small and micro firms, and the "
    f"best-worst gap between sizes, flagged past the setting. {WHO_PLATFORM}",
    response_model=FairnessReport,
    responses={**TABLE_RESPONSES, **READ_PROBLEMS},
)
async def get_fairness_stats(
    request: Request, db: AutocommitDep, caller: StatsCaller, start: StartQuery = None, end: EndQuery = None
) -> Response:
    """Fairness figures for a period."""
    platform_viewer(caller)
    answer = await stats_reports.fairness(
        db,
        period=period(request, start, end),
        gap_threshold_points=request.state.settings.stats_gap_threshold_points,
    )
    return respond(
        request,
        answer,
        columns=SEGMENT_COLUMNS,
        rows=[*answer["by_size"], *answer["by_channel"]],
        filename="fairness",
        title="公平性",
    )


OVERVIEW_COLUMNS = [
    Column("入驻单位", field("units_joined")),
    Column("注册企业", field("enterprises_registered")),
    Column("访问量", field("visits")),
    Column("发布政策", field("policies_published")),
    Column("发布事项", field("items_published")),
    Column("受理诉求", field("requests_received")),
    *ratio_columns("completion", "办结率"),
    *ratio_columns("satisfaction", "满意率"),
]


@router.get(
    "/overview",
    operation_id="get_platform_overview",
    summary="The platform overview",
    description="Units joined, visits, policies and items published, requests, completion and satisfaction. "
    + WHO_PLATFORM,
    response_model=Overview,
    responses={**TABLE_RESPONSES, **READ_PROBLEMS},
)
async def get_platform_overview(
    request: Request,
    db: AutocommitDep,
    context: TicketContextDep,
    caller: StatsCaller,
    start: StartQuery = None,
    end: EndQuery = None,
) -> Response:
    """The platform overview for a period."""
    platform_viewer(caller)
    answer = await stats_reports.overview(db, catalog=context.catalog, period=period(request, start, end))
    return respond(request, answer, columns=OVERVIEW_COLUMNS, rows=[answer], filename="overview", title="平台概况")


HOT_SPOT_COLUMNS = [
    Column("周", field("week_start")),
    Column("热点", field("key")),
    Column("受理量", field("received")),
    Column("上周", field("previous")),
    Column("环比变化", field("change")),
    Column("环比变化率", field("change_rate")),
]


@router.get(
    "/trends",
    operation_id="get_stats_trends",
    summary="Weekly trends and hot spots",
    description="Per week: requests received, on-time and satisfaction rates, and the hot spots by category, item, "
    f"industry or park with the week-on-week change. {WHO_PLATFORM}",
    response_model=Trends,
    responses={**TABLE_RESPONSES, **READ_PROBLEMS},
)
async def get_stats_trends(
    request: Request,
    db: AutocommitDep,
    caller: StatsCaller,
    start: StartQuery = None,
    end: EndQuery = None,
    dimension: Annotated[Literal["category", "item", "industry", "park"], Query()] = "category",
    top: Annotated[int, Query(ge=1, le=50, description="Hot spots per week.")] = 10,
) -> Response:
    """Weekly trends and hot spots for a period."""
    platform_viewer(caller)
    answer = await stats_reports.trends(db, period=period(request, start, end), dimension=dimension, top=top)
    rows = [{"week_start": week["week_start"], **spot} for week in answer["hot_spots"] for spot in week["spots"]]
    return respond(request, answer, columns=HOT_SPOT_COLUMNS, rows=rows, filename="trends", title="热点趋势")


@router.get(
    "/scheme",
    operation_id="get_scoring_scheme",
    summary="The scoring scheme",
    description="The latest scoring scheme (or `version`). Supervisors, admins and staff (it is how they are scored).",
    response_model=SchemeRead,
    responses=problem_responses(401, 403, 404, 422),
)
async def get_scoring_scheme(
    db: AutocommitDep,
    caller: StatsCaller,
    version: Annotated[int | None, Query(ge=0)] = None,
) -> Any:
    """The scoring scheme, latest or by version."""
    department_viewer(caller)
    return await scoring.get_scheme(db, version=version)


@router.get(
    "/scheme/versions",
    operation_id="list_scoring_schemes",
    summary="Every version of the scoring scheme",
    description="Every version, oldest first, with who wrote it, when and why. Supervisors, admins and staff.",
    response_model=list[SchemeRead],
    responses=problem_responses(401, 403),
)
async def list_scoring_schemes(db: AutocommitDep, caller: StatsCaller) -> Any:
    """Every version of the scoring scheme."""
    department_viewer(caller)
    return await scoring.list_schemes(db)


@router.put(
    "/scheme",
    operation_id="replace_scoring_scheme",
    summary="Write a new version of the scoring scheme",
    description="A new version of the scheme (the older ones stay, each scorecard names its version). Admins only.",
    response_model=SchemeRead,
    status_code=201,
    responses=problem_responses(401, 403, 409, 422),
)
async def replace_scoring_scheme(session: SessionDep, principal: AdminPrincipal, body: SchemeBody) -> Any:
    """Write a new version of the scoring scheme (admin)."""
    return await scoring.save_scheme(session, principal=principal, definition=body.model_dump())
