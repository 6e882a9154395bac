"""The statistics API's shapes (/api/v1/stats/*): figures, scorecards, fairness, overview, trends.

Every rate carries its numerator and its denominator and says what the denominator counts, so a
reader can check it; a rate with nothing to divide by is null, never 0 or 100 %."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from services.text import TextInput


class Period(BaseModel):
    start: date = Field(description="First day counted (Asia/Shanghai), inclusive.")
    end: date = Field(description="Last day counted, inclusive.")


class Ratio(BaseModel):
    """`count` of `of`: the rate and what its denominator is."""

    count: int
    of: int = Field(description="The denominator.")
    rate: float | None = Field(description="count / of, 0–1, rounded to 4 places; null when `of` is 0.")
    denominator: str = Field(description="What `of` counts, e.g. `received` (every ticket received in the period).")


class DepartmentFigures(BaseModel):
    department_code: str
    received: int = Field(description="Tickets received in the period with this department leading.")
    accepted_on_time: Ratio = Field(description="及时签收率: accepted by accept_due, of received.")
    resolved_on_time: Ratio = Field(
        description="按时办结率: resolved or explained by resolve_due, of received; a joint review late only "
        "by another department's late contribution counts as on time for the lead."
    )
    completion: Ratio = Field(description="办结率: resolved or explained, of tickets due (resolve_due) in the period.")
    satisfaction: Ratio = Field(
        description="满意率: satisfied + basically satisfied, of ratings given in the period less those ruled "
        "unreasonable (不满意研判)."
    )
    redo: Ratio = Field(description="发回重办率: unsatisfied ratings that reopened, of resolutions in the period.")
    returned: Ratio = Field(description="回退率: returned to dispatch (退单), of received.")
    joint_reviews_led: int = Field(description="Tickets received in the period led with co-departments.")
    joint_reviews_joined: int = Field(description="Tickets received in the period joined as a co-department.")
    joint_contributions_late: int = Field(
        description="Joint reviews joined whose contribution came after resolve_due (or never, on a late ticket)."
    )
    escalations: int = Field(description="Escalations (督办) while this department led, in the period.")
    overdue_now: int = Field(description="Open tickets led now that missed a deadline (whatever the period).")
    resolved_count: int = Field(description="Resolutions in the period: the handling-time denominator.")
    handling_days_median: float | None = Field(
        description="Median working days from receipt (or reopen) to resolution, to 0.1 day; null without any."
    )
    handling_days_p90: float | None = Field(description="90th percentile of the same, to 0.1 day.")


class DepartmentList(BaseModel):
    period: Period
    departments: list[DepartmentFigures] = Field(description="Departments with tickets in the period, by code.")
    without_tickets: list[str] = Field(description="Catalogue departments with no tickets in the period: not ranked.")


class DepartmentDetail(BaseModel):
    period: Period
    figures: DepartmentFigures


class IndicatorRule(TextInput):
    """One scored indicator: full `points` at or above `threshold`, `deduction` per percentage point
    below it, never below `floor`."""

    model_config = ConfigDict(extra="forbid")

    indicator: Literal["accepted_on_time", "resolved_on_time", "completion", "satisfaction", "redo", "returned"]
    label: str = Field(min_length=1, max_length=40)
    points: float = Field(gt=0, le=1000)
    threshold: float = Field(ge=0, le=100, description="Percent; for `redo` and `returned` the most allowed.")
    deduction: float = Field(ge=0, le=1000, description="Points off per percentage point past the threshold.")
    floor: float = Field(default=0, ge=0, description="The least the indicator scores (≤ points).")


class UnitGroup(TextInput):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=40)
    weight: float = Field(gt=0, le=10, description="The group's scores are multiplied by this.")
    department_codes: list[str] = Field(max_length=200)


class SchemeBody(TextInput):
    """A scoring scheme as an admin writes it."""

    model_config = ConfigDict(extra="forbid")

    indicators: list[IndicatorRule] = Field(min_length=1, max_length=12)
    groups: list[UnitGroup] = Field(default_factory=list, max_length=50)
    default_weight: float = Field(default=1.0, gt=0, le=10, description="Weight of departments in no group.")
    note: str = Field(default="", max_length=500, description="Why it changed (kept in the record).")


class SchemeRead(SchemeBody):
    version: int
    created_by: str
    created_at: datetime


class IndicatorScore(BaseModel):
    indicator: str
    label: str
    rate: float | None
    points: float = Field(description="Points scored (no rate: full points, nothing to judge).")
    max_points: float
    deduction: float


class DepartmentScore(BaseModel):
    rank: int
    department_code: str
    group: str | None
    weight: float
    raw_score: float = Field(description="Sum of the indicators' points.")
    score: float = Field(description="raw_score × weight, rounded to 2 places.")
    max_score: float
    indicators: list[IndicatorScore]


class ScoreList(BaseModel):
    period: Period
    scheme_version: int
    scores: list[DepartmentScore] = Field(description="Ranked, best first; ties share a rank.")
    without_tickets: list[str]


class SegmentFigures(BaseModel):
    segment: str = Field(description="The size (large, medium, small, micro, unknown) or the channel.")
    received: int
    orders: int = Field(description="Tickets ordered from the menu (点菜单).")
    requests: int = Field(description="Free requests and hotline calls.")
    accepted_on_time: Ratio
    resolved_on_time: Ratio
    completion: Ratio
    satisfaction: Ratio
    redo: Ratio
    returned: Ratio


class SizeGap(BaseModel):
    indicator: str
    best: str | None
    worst: str | None
    gap_points: float | None = Field(description="Best minus worst rate, in percentage points.")
    threshold_points: float
    flagged: bool


class FairnessReport(BaseModel):
    period: Period
    by_size: list[SegmentFigures]
    by_channel: list[SegmentFigures]
    small_micro_orders: Ratio = Field(description="Menu orders from small and micro firms, of all orders.")
    small_micro_requests: Ratio = Field(description="Requests from small and micro firms, of all requests.")
    gaps: list[SizeGap]


class Overview(BaseModel):
    period: Period
    units_joined: int | None = Field(
        description="Departments on the platform (入驻单位); null if the catalogue is down."
    )
    enterprises_registered: int
    visits: int | None = Field(description="Catalogue and policy views in the period; null if the catalogue is down.")
    policies_published: int | None
    items_published: int | None
    requests_received: int
    completion: Ratio
    satisfaction: Ratio


class WeekFigures(BaseModel):
    week_start: date = Field(description="The Monday.")
    received: int
    resolved_on_time: Ratio
    satisfaction: Ratio


class HotSpot(BaseModel):
    key: str = Field(description="The category, item, industry or park ('' when not given).")
    received: int
    previous: int = Field(description="The week before.")
    change: int
    change_rate: float | None = Field(description="change / previous; null when previous is 0.")


class HotSpotWeek(BaseModel):
    week_start: date
    spots: list[HotSpot] = Field(description="Most received first.")


class Trends(BaseModel):
    period: Period
    dimension: Literal["category", "item", "industry", "park"]
    weeks: list[WeekFigures]
    hot_spots: list[HotSpotWeek]


class AdjudicationBody(TextInput):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=2, max_length=1000, description="Why the unsatisfied rating is unreasonable.")


class AdjudicationRead(BaseModel):
    feedback_id: int
    ticket_id: str
    resolution_round: int
    rating: str
    department_code: str | None
    ruled_out: bool
    reason: str
    ruled_by: str
    ruled_at: datetime
