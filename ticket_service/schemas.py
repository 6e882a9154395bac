"""Request and response bodies of the ticket service."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from services.text import TextInput

YearStatus = Literal["official", "admin_complete", "provisional"]
DaySource = Literal["package", "overlay", "weekend", "default"]


class DeadlinesRead(BaseModel):
    received_at: datetime
    profile: str = Field(examples=["1-3-5"])
    accept_due: datetime = Field(description="End of the 1st (profile's accept) working day after receipt.")
    resolve_due: datetime
    final_due: datetime
    provisional: bool = Field(description="True if any day counted lies in a year without official data.")


class CalendarDayRead(BaseModel):
    date: date
    weekday: int = Field(description="ISO weekday, 1 = Monday.")
    is_workday: bool
    reason: str
    source: DaySource


class OverlayInfo(BaseModel):
    complete: bool
    revision: int
    updated_by: str
    updated_at: datetime


class CalendarYearRead(BaseModel):
    year: int
    status: YearStatus
    days: list[CalendarDayRead] = Field(description="Every day that differs from Monday–Friday or has an overlay row.")
    overlay: OverlayInfo | None = None


class OverlayDayIn(TextInput):
    model_config = ConfigDict(extra="forbid")

    date: date
    is_workday: bool
    note: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] = ""


class CalendarYearUpdate(TextInput):
    model_config = ConfigDict(extra="forbid")

    days: list[OverlayDayIn] = Field(max_length=366)
    complete: bool = Field(False, description="The rows are the year's whole official notice.")


class CalendarChangeRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    year: int
    revision: int
    actor: str
    role: str
    at: datetime
    complete: bool
    previous_complete: bool
    days: list[dict[str, object]]
    previous_days: list[dict[str, object]]


# Enterprises

EnterpriseSize = Literal["large", "medium", "small", "micro"]
CreditCode = Annotated[str, StringConstraints(strip_whitespace=True, to_upper=True, min_length=18, max_length=18)]
PhoneText = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[0-9+() -]{0,32}$")]
ShortName = Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)]


class _Input(TextInput):
    model_config = ConfigDict(extra="forbid")


class EnterpriseCreate(_Input):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)] = Field(
        examples=["镇江台丰精密机械有限公司"]
    )
    credit_code: CreditCode = Field(description="Unified social credit code (GB 32100-2015).")
    size: EnterpriseSize
    taiwan_funded: bool = False
    industry: ShortName = ""
    park: ShortName = ""
    contact_name: Annotated[str, StringConstraints(strip_whitespace=True, max_length=50)] = ""
    contact_phone: PhoneText = ""


class EnterpriseUpdate(_Input):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)] | None = None
    size: EnterpriseSize | None = None
    taiwan_funded: bool | None = None
    industry: ShortName | None = None
    park: ShortName | None = None
    contact_name: Annotated[str, StringConstraints(strip_whitespace=True, max_length=50)] | None = None
    contact_phone: PhoneText | None = None
    provisional: bool | None = Field(None, description="Dispatchers and admins only: false confirms the record.")


class EnterpriseChangeRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    enterprise_id: str
    version: int = Field(description="The enterprise's version after the change.")
    actor: str
    role: str
    at: datetime
    changes: dict[str, dict[str, object]] = Field(
        description="Each changed field with its old and new value: {field: {from, to}}.",
        examples=[{"taiwan_funded": {"from": False, "to": True}}],
    )


class EnterpriseRead(BaseModel):
    id: str
    name: str
    credit_code: str
    size: EnterpriseSize
    taiwan_funded: bool
    industry: str
    park: str
    contact_name: str
    contact_phone: str = Field(description="Masked (138****1234) for roles that do not need it.")
    provisional: bool = Field(
        False, description="Registered from a hotline call with an unknown credit code; a dispatcher confirms it."
    )
    version: int
    created_at: datetime
    updated_at: datetime


# Tickets

Channel = Literal["web", "hotline", "visit", "onsite"]
TicketKind = Literal["order", "request", "hotline"]
TicketStatus = Literal[
    "submitted",
    "accepted",
    "in_progress",
    "paused",
    "joint_review",
    "escalated",
    "resolved",
    "explained",
    "returned",
    "closed",
    "withdrawn",
]
Note = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)]
RequiredText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]
DepartmentCode = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9-]{1,31}$")]
ItemCode = Annotated[str, StringConstraints(pattern=r"^[A-Z][A-Z0-9-]{1,31}$")]


class ItemSnapshot(BaseModel):
    code: str
    title: str
    category_code: str
    lead_department_code: str
    co_department_codes: list[str]
    sla_profile: str


class TicketRead(BaseModel):
    id: str
    number: str = Field(description="Human-readable number read to callers, e.g. T20261128000042.")
    kind: TicketKind
    channel: Channel
    status: TicketStatus
    enterprise_id: str | None
    order_id: str | None
    item_code: str | None
    item: ItemSnapshot | None = None
    category_code: str | None
    title: str
    description: str
    department_code: str | None = Field(description="Assigned department; null while in the dispatch queue.")
    co_department_codes: list[str]
    sla_profile: str
    caller_phone: str | None = Field(
        None, description="A hotline caller's number; masked except for the dispatcher and the handling staff."
    )
    received_at: datetime
    accept_due: datetime
    resolve_due: datetime
    final_due: datetime
    provisional: bool
    overdue: list[str] = Field(description="Missed deadlines: accept, resolve, final.")
    paused_at: datetime | None
    accepted_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    reply: str | None
    result: str | None
    explanation: str | None
    version: int
    allowed_actions: list[str] = Field(description="What the caller may do now.")
    created_at: datetime
    updated_at: datetime


class TicketCreate(_Input):
    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)] = Field(
        examples=["用电增容审批进度咨询"]
    )
    description: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=8000)]
    category_code: DepartmentCode | None = None
    channel: Literal["web", "visit", "onsite"] = "web"
    enterprise_id: str | None = Field(None, max_length=36, description="Dispatchers only: on whose behalf.")
    department_code: DepartmentCode | None = Field(None, description="Dispatchers only: route at once.")
    received_at: datetime | None = Field(
        None, description="Dispatchers only: when a visit was received (≤ 30 days back, not in the future)."
    )


class OrderLine(_Input):
    item_code: ItemCode
    note: Note = ""


class OrderCreate(_Input):
    items: list[OrderLine] = Field(min_length=1, max_length=20)


class OrderRead(BaseModel):
    id: str
    enterprise_id: str
    created_at: datetime
    tickets: list[TicketRead]


class AcceptBody(_Input):
    note: RequiredText = Field(description="The reply to the enterprise (受理回复).")


class RequestInfoBody(_Input):
    note: RequiredText = Field(description="What the department needs from the enterprise.")


class ResolveBody(_Input):
    result: RequiredText


class ExplainBody(_Input):
    explanation: RequiredText


class JointReviewBody(_Input):
    co_department_codes: list[DepartmentCode] = Field(min_length=1, max_length=10)
    note: RequiredText


class ReasonBody(_Input):
    reason: RequiredText


class OptionalReasonBody(_Input):
    reason: Note = ""


class TransferBody(_Input):
    department_code: DepartmentCode
    reason: RequiredText


class EmptyBody(_Input):
    pass


class TicketEventRead(BaseModel):
    seq: int
    action: str
    actor: str
    role: str
    at: datetime
    from_status: str | None
    to_status: str | None
    note: str
    changes: dict[str, object]
    prev_hash: str
    hash: str


class ChainVerification(BaseModel):
    ok: bool
    first_broken_seq: int | None
    events: int


Rating = Literal["satisfied", "basically_satisfied", "unsatisfied"]


class FeedbackCreate(_Input):
    rating: Rating
    comment: Note = ""


class FeedbackRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    ticket_id: str
    resolution_round: int
    rating: Rating
    comment: str
    created_by: str
    channel: str
    created_at: datetime
    ruled_out: bool = Field(
        False,
        description="不满意研判: a supervisor ruled this unsatisfied rating unreasonable (it leaves the "
        "satisfaction denominator, and stays on the record).",
    )
    ruled_out_reason: str = ""
    ruled_at: datetime | None = None


class SweepRequest(TextInput):
    model_config = ConfigDict(extra="forbid")

    as_of: datetime | None = Field(None, description="The sweep's 'now' (RFC 3339 with offset); now if omitted.")
    dry_run: bool = Field(False, description="Report what would happen and change nothing.")


class SweepAccepted(BaseModel):
    job_id: str


class SweepStep(BaseModel):
    ticket_id: str
    number: str
    step: str
    outcome: str


class SweepReportRead(BaseModel):
    as_of: datetime
    dry_run: bool
    due_tickets: int
    counts: dict[str, int]
    steps: list[SweepStep]


class QueueHealth(BaseModel):
    reachable: bool
    queued_jobs: int | None


class SlaStatus(BaseModel):
    last_sweep: dict[str, object] | None = Field(
        description="The last sweep's time and counts, as the worker left them."
    )
    worker_heartbeat: str | None
    queue: QueueHealth
    outbox_backlog: int = Field(description="Committed events not yet published.")


class TicketProgressRead(BaseModel):
    """Where a case stands, as the hotline reads it to a caller: no personal data."""

    number: str
    kind: TicketKind
    channel: Channel
    status: TicketStatus
    department_code: str | None
    received_at: datetime
    accept_due: datetime
    resolve_due: datetime
    final_due: datetime
    provisional: bool
    overdue: list[str]
    updated_at: datetime


class HotlineCallCreate(_Input):
    """A 965808 call, as the notification service passes it on once its signature is verified."""

    call_id: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    received_at: AwareDatetime
    caller_phone: PhoneText = ""
    enterprise_credit_code: CreditCode | None = None
    enterprise_name: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] | None = None
    content: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=8000)]
    category_hint: Annotated[str, StringConstraints(max_length=32)] | None = None


class HotlineCallFiled(BaseModel):
    ticket_id: str
    ticket_number: str
    created: bool = Field(description="False when the call had been filed before (the same ticket again).")
    enterprise_id: str | None
    enterprise_provisional: bool


class HotlineFeedbackCreate(_Input):
    ticket_number: Annotated[str, StringConstraints(min_length=1, max_length=32)]
    rating: Rating
    comment: Note = ""
