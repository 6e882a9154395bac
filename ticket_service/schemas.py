"""Request and response bodies of the ticket service."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints
from pydantic.config import JsonDict

from services.credit_code import CREDIT_CODE_SCHEMA
from services.text import TextInput
from ticket_service.lifecycle import Action

YearStatus = Literal["official", "admin_complete", "provisional"]
DaySource = Literal["package", "overlay", "weekend", "default"]


class DeadlinesRead(BaseModel):
    """The three deadlines of the 1-3-5 rule for a request received at an instant."""

    received_at: datetime = Field(description="The instant the deadlines count from.")
    profile: str = Field(description="The SLA profile counted: accept-resolve-final working days.", examples=["1-3-5"])
    accept_due: datetime = Field(description="End of the 1st (profile's accept) working day after receipt.")
    resolve_due: datetime = Field(description="End of the profile's resolve working day after receipt.")
    final_due: datetime = Field(description="End of the profile's final-answer working day after receipt.")
    provisional: bool = Field(description="True if any day counted lies in a year without official data.")


class CalendarDayRead(BaseModel):
    """One day of the working-day calendar."""

    date: Annotated[date, Field(description="The day.")]
    weekday: int = Field(description="ISO weekday, 1 = Monday.")
    is_workday: bool = Field(description="Whether deadlines count this day.")
    reason: str = Field(description="Why it is (not) a working day, e.g. the holiday's name.", examples=["国庆节"])
    source: DaySource = Field(
        description="package: the official calendar data; overlay: the admin's overlay; weekend/default: the"
        " Monday–Friday rule."
    )


class OverlayInfo(BaseModel):
    """The admin's overlay of a year."""

    complete: bool = Field(description="The overlay is the year's whole official notice: the year is official.")
    revision: int = Field(description="Incremented by every replacement of the overlay.")
    updated_by: str = Field(description="Who last replaced it.")
    updated_at: datetime = Field(description="When it was last replaced.")


class CalendarYearRead(BaseModel):
    """A year of the working-day calendar."""

    year: int = Field(description="The year.")
    status: YearStatus = Field(
        description="official: from the package's data; admin_complete: an overlay the admin marked complete;"
        " provisional: no official data, deadlines in it are provisional."
    )
    days: list[CalendarDayRead] = Field(description="Every day that differs from Monday–Friday or has an overlay row.")
    overlay: OverlayInfo | None = Field(None, description="The admin's overlay; null if the year has none.")


class OverlayDayIn(TextInput):
    """One day of an overlay."""

    model_config = ConfigDict(extra="forbid")

    date: Annotated[date, Field(description="The day; it must lie in the year being replaced.")]
    is_workday: bool = Field(description="Whether deadlines count this day.")
    note: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] = Field(
        "", description="Why, e.g. the notice's name for the day.", examples=["国庆节调休上班"]
    )


class CalendarYearUpdate(TextInput):
    """A year's whole overlay, replacing the previous one."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "days": [
                        {"date": "2027-10-01", "is_workday": False, "note": "国庆节"},
                        {"date": "2027-10-09", "is_workday": True, "note": "国庆节调休上班"},
                    ],
                    "complete": False,
                }
            ]
        },
    )

    days: list[OverlayDayIn] = Field(max_length=366, description="The overlay's days, at most one per date.")
    complete: bool = Field(False, description="The rows are the year's whole official notice.")


class CalendarChangeRead(BaseModel):
    """One replacement of a year's overlay, with what it replaced."""

    model_config = ConfigDict(from_attributes=True)

    year: int = Field(description="The year.")
    revision: int = Field(description="The overlay's revision this change made.")
    actor: str = Field(description="Who made the change.")
    role: str = Field(description="The actor's role.")
    at: datetime = Field(description="When.")
    complete: bool = Field(description="`complete` after the change.")
    previous_complete: bool = Field(description="`complete` before the change.")
    days: list[dict[str, object]] = Field(
        description="The overlay's days after the change (`date`, `is_workday`, `note`)."
    )
    previous_days: list[dict[str, object]] = Field(description="The overlay's days before the change.")


# Enterprises

EnterpriseSize = Literal["large", "medium", "small", "micro"]
CreditCode = Annotated[
    str,
    StringConstraints(strip_whitespace=True, to_upper=True, min_length=18, max_length=18),
    Field(json_schema_extra=CREDIT_CODE_SCHEMA),
]
PhoneText = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[0-9+() -]{0,32}$")]
ShortName = Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)]


class _Input(TextInput):
    model_config = ConfigDict(extra="forbid")


CREDIT_CODE_DESCRIPTION = (
    "Unified social credit code (统一社会信用代码, GB 32100-2015): 18 characters of `0-9A-HJ-NPQRTUWXY`,"
    " the last a check character over the first 17 (weights 3^i mod 31)."
)
SIZE_DESCRIPTION = "The enterprise's size class (大型, 中型, 小型, 微型), which decides the items it may order."


class EnterpriseCreate(_Input):
    """An enterprise to register (dispatcher, admin)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "name": "镇江新区恒润化工有限公司",
                    "credit_code": "91321102MA1N8T3K0Y",
                    "size": "medium",
                    "taiwan_funded": False,
                    "industry": "化学原料和化学制品制造业",
                    "park": "镇江新区国际化学工业园",
                    "contact_name": "陈建国",
                    "contact_phone": "13912345678",
                }
            ]
        }
    )

    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)] = Field(
        description="The registered name.", examples=["镇江台丰精密机械有限公司"]
    )
    credit_code: CreditCode = Field(description=CREDIT_CODE_DESCRIPTION + " Unique.")
    size: EnterpriseSize = Field(description=SIZE_DESCRIPTION)
    taiwan_funded: bool = Field(False, description="Taiwan-funded (台资): the Taiwan affairs office follows its cases.")
    industry: ShortName = Field("", description="The industry it works in.", examples=["通用设备制造业"])
    park: ShortName = Field("", description="The industrial park it is in.", examples=["镇江经济技术开发区"])
    contact_name: Annotated[str, StringConstraints(strip_whitespace=True, max_length=50)] = Field(
        "", description="The contact person.", examples=["陈建国"]
    )
    contact_phone: PhoneText = Field("", description="The contact's phone.", examples=["13912345678"])


UNCHANGED = " Omitted or null: unchanged."


class EnterpriseUpdate(_Input):
    """Changes to an enterprise; only the fields sent change. Size, Taiwan funding and `provisional` are
    assessed fields that only dispatchers and admins change; each change is recorded."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"contact_name": "王丽", "contact_phone": "0511-85512345"}]}
    )

    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)] | None = Field(
        None, description="The registered name." + UNCHANGED
    )
    size: EnterpriseSize | None = Field(None, description="Dispatchers and admins only: the size class." + UNCHANGED)
    taiwan_funded: bool | None = Field(None, description="Dispatchers and admins only: Taiwan-funded." + UNCHANGED)
    industry: ShortName | None = Field(None, description="The industry it works in." + UNCHANGED)
    park: ShortName | None = Field(None, description="The industrial park it is in." + UNCHANGED)
    contact_name: Annotated[str, StringConstraints(strip_whitespace=True, max_length=50)] | None = Field(
        None, description="The contact person." + UNCHANGED
    )
    contact_phone: PhoneText | None = Field(None, description="The contact's phone." + UNCHANGED)
    provisional: bool | None = Field(None, description="Dispatchers and admins only: false confirms the record.")


class EnterpriseChangeRead(BaseModel):
    """One recorded change to an enterprise's assessed fields."""

    model_config = ConfigDict(from_attributes=True)

    enterprise_id: str = Field(description="The enterprise changed.")
    version: int = Field(description="The enterprise's version after the change.")
    actor: str = Field(description="Who changed it.")
    role: str = Field(description="The actor's role.")
    at: datetime = Field(description="When.")
    changes: dict[str, dict[str, object]] = Field(
        description="Each changed field with its old and new value: {field: {from, to}}.",
        examples=[{"taiwan_funded": {"from": False, "to": True}}],
    )


class EnterpriseRead(BaseModel):
    """An enterprise the platform serves."""

    id: str = Field(description="Opaque enterprise id.")
    name: str = Field(description="The registered name.", examples=["镇江台丰精密机械有限公司"])
    credit_code: str = Field(description="Unified social credit code.", examples=["91321191608263458Y"])
    size: EnterpriseSize = Field(description=SIZE_DESCRIPTION)
    taiwan_funded: bool = Field(description="Taiwan-funded (台资).")
    industry: str = Field(description="The industry it works in; may be empty.")
    park: str = Field(description="The industrial park it is in; may be empty.")
    contact_name: str = Field(description="The contact person; may be empty.")
    contact_phone: str = Field(description="Masked (138****1234) for roles that do not need it.")
    provisional: bool = Field(
        False, description="Registered from a hotline call with an unknown credit code; a dispatcher confirms it."
    )
    version: int = Field(description="Incremented by every change.")
    created_at: datetime = Field(description="When it was registered.")
    updated_at: datetime = Field(description="When it last changed.")


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
Overdue = Literal["accept", "resolve", "final"]
Note = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)]
RequiredText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]
DepartmentCode = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9-]{1,31}$")]
ItemCode = Annotated[str, StringConstraints(pattern=r"^[A-Z][A-Z0-9-]{1,31}$")]


class ItemSnapshot(BaseModel):
    """The ordered service item as it was when the order was placed."""

    code: str = Field(description="The item's code.", examples=["LS-001"])
    title: str = Field(description="The item's title.", examples=["绿色节能技术改造补贴"])
    category_code: str = Field(description="The item's category.")
    lead_department_code: str = Field(description="The department that handles it.")
    co_department_codes: list[str] = Field(description="Departments that co-handle it.")
    sla_profile: str = Field(description="Its deadlines, accept-resolve-final working days.", examples=["1-3-5"])


KIND_DESCRIPTION = "order: a menu item ordered; request: a free request or complaint; hotline: a 965808 call."
CHANNEL_DESCRIPTION = "How it came in: web, the 965808 hotline, a visit to the service hall, or on site."
STATUS_DESCRIPTION = "Where the ticket stands in its life cycle (see the ticket actions)."


class TicketRead(BaseModel):
    """A ticket (工单): one case, its deadlines under the 1-3-5 rule and what the caller may do with it."""

    id: str = Field(description="Opaque ticket id.")
    number: str = Field(description="Human-readable number read to callers, e.g. T20261128000042.")
    kind: TicketKind = Field(description=KIND_DESCRIPTION)
    channel: Channel = Field(description=CHANNEL_DESCRIPTION)
    status: TicketStatus = Field(description=STATUS_DESCRIPTION)
    enterprise_id: str | None = Field(description="The enterprise it serves; null for a caller not yet identified.")
    order_id: str | None = Field(description="The order it belongs to (kind `order`); null otherwise.")
    item_code: str | None = Field(description="The ordered item (kind `order`); null otherwise.")
    item: ItemSnapshot | None = Field(None, description="The ordered item as it was ordered; null otherwise.")
    category_code: str | None = Field(description="Its category; null when not known.")
    title: str = Field(description="What it is about.", examples=["用电增容审批进度咨询"])
    description: str = Field(description="The enterprise's own account of it.")
    department_code: str | None = Field(description="Assigned department; null while in the dispatch queue.")
    co_department_codes: list[str] = Field(description="Departments taking part (joint review, co-handling).")
    sla_profile: str = Field(description="Its deadlines, accept-resolve-final working days.", examples=["1-3-5"])
    caller_phone: str | None = Field(
        None, description="A hotline caller's number; masked except for the dispatcher and the handling staff."
    )
    received_at: datetime = Field(description="When the case was received: the deadlines count from here.")
    accept_due: datetime = Field(description="Deadline to accept (受理).")
    resolve_due: datetime = Field(description="Deadline to resolve (办结).")
    final_due: datetime = Field(description="Deadline for the final answer (答复).")
    provisional: bool = Field(description="True if a deadline counts days of a year without official calendar data.")
    overdue: list[Overdue] = Field(description="Missed deadlines: accept, resolve, final.")
    paused_at: datetime | None = Field(description="When the clock stopped (status `paused`); null otherwise.")
    accepted_at: datetime | None = Field(description="When it was accepted; null before.")
    resolved_at: datetime | None = Field(description="When it was last resolved or explained; null before.")
    closed_at: datetime | None = Field(description="When it was closed; null before (and after a reopen).")
    reply: str | None = Field(description="The department's reply on accepting (受理回复); null before.")
    result: str | None = Field(description="The result given on resolving; null before.")
    explanation: str | None = Field(description="The written explanation of a case that cannot be finished.")
    version: int = Field(description="Incremented by every change; the `ETag`, and what `If-Match` names.")
    allowed_actions: list[Action] = Field(description="What the caller may do now: the actions' names.")
    created_at: datetime = Field(description="When the ticket was created.")
    updated_at: datetime = Field(description="When it last changed.")


class TicketCreate(_Input):
    """A free request or complaint (自由诉求): it goes to the dispatch queue, or to a department at once."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "title": "用电增容审批进度咨询",
                    "description": "我司11月15日提交的厂区用电增容申请至今未获答复，请协调加快办理。",
                    "category_code": "power-energy",
                }
            ]
        }
    )

    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)] = Field(
        description="What it is about, in a line.", examples=["用电增容审批进度咨询"]
    )
    description: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=8000)] = Field(
        description="The enterprise's account of the matter."
    )
    category_code: DepartmentCode | None = Field(
        None, description="The category it belongs to, if known (an active category)."
    )
    channel: Literal["web", "visit", "onsite"] = Field(
        "web", description="How it came in: `web`, or a `visit` or `onsite` visit a dispatcher records."
    )
    enterprise_id: str | None = Field(None, max_length=36, description="Dispatchers only: on whose behalf.")
    department_code: DepartmentCode | None = Field(None, description="Dispatchers only: route at once.")
    received_at: datetime | None = Field(
        None, description="Dispatchers only: when a visit was received (≤ 30 days back, not in the future)."
    )


class OrderLine(_Input):
    """One item of an order."""

    item_code: ItemCode = Field(
        description="A published item of the current menu the enterprise's size may order.", examples=["LS-001"]
    )
    note: Note = Field("", description="Anything the department should know.", examples=["计划明年3月开工"])


def _example(body: JsonDict) -> ConfigDict:
    return ConfigDict(json_schema_extra={"examples": [body]})


class OrderCreate(_Input):
    """An order of items from the current menu (菜单式服务): each line becomes a ticket."""

    model_config = _example(
        {
            "items": [
                {"item_code": "LS-001", "note": "拟对两条生产线实施电机能效提升改造"},
                {"item_code": "KJ-003", "note": ""},
            ]
        }
    )

    items: list[OrderLine] = Field(min_length=1, max_length=20, description="1–20 lines, one ticket each.")


class OrderRead(BaseModel):
    """An order and the tickets it created."""

    id: str = Field(description="Opaque order id.")
    enterprise_id: str = Field(description="The enterprise that ordered.")
    created_at: datetime = Field(description="When it was placed.")
    tickets: list[TicketRead] = Field(description="One ticket per line, in the order's order.")


class AcceptBody(_Input):
    """Accepting a case (受理)."""

    model_config = _example({"note": "已受理，我局将在3个工作日内会同供电公司给予答复。"})

    note: RequiredText = Field(description="The reply to the enterprise (受理回复).")


class RequestInfoBody(_Input):
    """A note that the action needs: what is asked, contributed or referred."""

    model_config = _example({"note": "请补充提供近三年的用电量统计表和增容设备清单。"})

    note: RequiredText = Field(
        description="request-info: what the department needs from the enterprise; contribute: the co-department's"
        " opinion; escalate: why the case goes to senior leadership."
    )


class ResolveBody(_Input):
    """Finishing a case (办结)."""

    model_config = _example({"result": "经协调，供电公司已于12月3日完成现场勘查，增容方案已批复。"})

    result: RequiredText = Field(description="The result the enterprise is told.")


class ExplainBody(_Input):
    """Closing the handling of a case that cannot be finished, with the reasons (书面说明)."""

    model_config = _example({"explanation": "该事项涉及国家级审批权限，我市无法办理，已告知企业向省发改委申报。"})

    explanation: RequiredText = Field(description="Why the case cannot be finished, and what the enterprise can do.")


class JointReviewBody(_Input):
    """Sending a hard case to a joint review (联合会商) of departments."""

    model_config = _example(
        {
            "co_department_codes": ["zrghj", "zjj"],
            "note": "涉及规划调整和施工许可，需自然资源和规划局、住建局共同研究。",
        }
    )

    co_department_codes: list[DepartmentCode] = Field(
        min_length=1, max_length=10, description="The active departments that take part, 1–10, not the ticket's own."
    )
    note: RequiredText = Field(description="What the review is to decide.")


class ReasonBody(_Input):
    """The reason the action needs."""

    model_config = _example({"reason": "该诉求属于市场监管职责范围，非本部门事项。"})

    reason: RequiredText = Field(description="return: why it is not the department's case; reopen: why it reopens.")


class OptionalReasonBody(_Input):
    """Withdrawing a request, with an optional reason."""

    model_config = _example({"reason": "问题已自行解决，撤回诉求。"})

    reason: Note = Field("", description="Why the request is withdrawn.")


class TransferBody(_Input):
    """Transferring a case to another department (转办)."""

    model_config = _example({"department_code": "scjgj", "reason": "涉及食品经营许可，转市场监督管理局办理。"})

    department_code: DepartmentCode = Field(description="The active department that takes the case over.")
    reason: RequiredText = Field(description="Why it goes there.")


class EmptyBody(_Input):
    """An action with nothing to say: send `{}`."""

    model_config = _example({})


class TicketEventRead(BaseModel):
    """One link of a ticket's audit trail, hash-chained to the one before."""

    seq: int = Field(description="Position in the trail, from 1.")
    action: str = Field(
        description="The action's name (`accept`, `resolve`, …), `create`, `feedback`, or the SLA worker's step"
        " (`due_soon`, `overdue_accept`, `joint_review`, `escalate`, `auto_close`, `recompute`).",
        examples=["accept"],
    )
    actor: str = Field(description="Who did it: a username, a client id, or `sla-worker`.")
    role: str = Field(description="The actor's role.")
    at: datetime = Field(description="When.")
    from_status: str | None = Field(description="The status before; null for the first event.")
    to_status: str | None = Field(description="The status after.")
    note: str = Field(description="The note, reply, result, explanation or reason given; may be empty.")
    changes: dict[str, object] = Field(description="Fields the event changed: {field: [old, new]}.")
    prev_hash: str = Field(description="The previous event's `hash` (64 zeros for the first).")
    hash: str = Field(
        description="Lower-case hex SHA-256 of `prev_hash` followed by the canonical JSON (sorted keys, no spaces,"
        " UTF-8 unescaped) of `ticket_id`, `seq`, `action`, `actor`, `role`, `at` (UTC, ISO 8601), `from_status`,"
        " `to_status`, `note` and `changes`."
    )


class ChainVerification(BaseModel):
    """The result of recomputing a ticket's audit hash chain."""

    ok: bool = Field(description="True if every link's hash and `prev_hash` recompute.")
    first_broken_seq: int | None = Field(description="The first event whose link does not recompute; null if ok.")
    events: int = Field(description="Events checked.")


Rating = Literal["satisfied", "basically_satisfied", "unsatisfied"]


RATING_DESCRIPTION = (
    "satisfied / basically_satisfied: recorded, the ticket stays resolved until closed; unsatisfied: the ticket"
    " reopens for the same department with fresh deadlines (发回重办)."
)


class FeedbackCreate(_Input):
    """The enterprise's rating of the latest resolution, once per resolution."""

    model_config = _example({"rating": "satisfied", "comment": "办理及时，服务热情。"})

    rating: Rating = Field(description=RATING_DESCRIPTION)
    comment: Note = Field("", description="What the enterprise says about the handling.")


class FeedbackRead(BaseModel):
    """A rating of one resolution."""

    model_config = ConfigDict(from_attributes=True)

    ticket_id: str = Field(description="The ticket rated.")
    resolution_round: int = Field(description="Which resolution was rated: 1 for the first, +1 after each reopen.")
    rating: Rating = Field(description=RATING_DESCRIPTION)
    comment: str = Field(description="What the enterprise said; may be empty.")
    created_by: str = Field(description="Who rated: the enterprise's username, or the hotline's client id.")
    channel: str = Field(description="`web`, or `hotline` for the follow-up call (回访).")
    created_at: datetime = Field(description="When.")
    ruled_out: bool = Field(
        False,
        description="不满意研判: a supervisor ruled this unsatisfied rating unreasonable (it leaves the "
        "satisfaction denominator, and stays on the record).",
    )
    ruled_out_reason: str = Field("", description="The supervisor's reason, when ruled out; empty otherwise.")
    ruled_at: datetime | None = Field(None, description="When it was ruled out; null otherwise.")


class SweepRequest(TextInput):
    """A run of the SLA sweep: warnings, overdue flags, joint reviews, escalations, auto-closing."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"as_of": "2026-12-01T18:00:00+08:00", "dry_run": True}]}
    )

    as_of: datetime | None = Field(None, description="The sweep's 'now' (RFC 3339 with offset); now if omitted.")
    dry_run: bool = Field(False, description="Report what would happen and change nothing.")


class SweepAccepted(BaseModel):
    """The sweep was queued for the SLA worker."""

    job_id: str = Field(description="The queued job's id.")


class SweepStep(BaseModel):
    """One step the sweep took (or would take) on a ticket."""

    ticket_id: str = Field(description="The ticket.")
    number: str = Field(description="Its number.")
    step: str = Field(description="`due_soon`, `overdue_accept`, `joint_review`, `escalate` or `auto_close`.")
    outcome: str = Field(description="What came of it, or `would run` in a dry run.")


class SweepReportRead(BaseModel):
    """What a dry-run sweep would do."""

    as_of: datetime = Field(description="The sweep's 'now'.")
    dry_run: bool = Field(description="True: nothing was changed.")
    due_tickets: int = Field(description="Tickets with a step due.")
    counts: dict[str, int] = Field(description="Steps by name.")
    steps: list[SweepStep] = Field(description="Each step, ticket by ticket.")


class QueueHealth(BaseModel):
    """The SLA worker's job queue."""

    reachable: bool = Field(description="Whether Redis answered.")
    queued_jobs: int | None = Field(description="Jobs waiting; null when Redis is unreachable.")


class SlaStatus(BaseModel):
    """The SLA machinery's health."""

    last_sweep: dict[str, object] | None = Field(
        description="The last sweep's time and counts, as the worker left them."
    )
    worker_heartbeat: str | None = Field(description="The worker's last heartbeat (RFC 3339); null if none seen.")
    queue: QueueHealth = Field(description="The worker's job queue.")
    outbox_backlog: int = Field(description="Committed events not yet published.")


class TicketProgressRead(BaseModel):
    """Where a case stands, as the hotline reads it to a caller: no personal data."""

    number: str = Field(description="The number read to callers.", examples=["T20261201000042"])
    kind: TicketKind = Field(description=KIND_DESCRIPTION)
    channel: Channel = Field(description=CHANNEL_DESCRIPTION)
    status: TicketStatus = Field(description=STATUS_DESCRIPTION)
    department_code: str | None = Field(description="The department handling it; null while in the dispatch queue.")
    received_at: datetime = Field(description="When the case was received.")
    accept_due: datetime = Field(description="Deadline to accept.")
    resolve_due: datetime = Field(description="Deadline to resolve.")
    final_due: datetime = Field(description="Deadline for the final answer.")
    provisional: bool = Field(description="True if a deadline counts days of a year without official data.")
    overdue: list[Overdue] = Field(description="Missed deadlines.")
    updated_at: datetime = Field(description="When it last changed.")


class HotlineCallCreate(_Input):
    """A 965808 call, as the notification service passes it on once its signature is verified."""

    call_id: Annotated[str, StringConstraints(min_length=1, max_length=64)] = Field(
        description="The hotline's id of the call; the same id again answers the same ticket."
    )
    received_at: AwareDatetime = Field(description="When the caller spoke: the deadlines count from here.")
    caller_phone: PhoneText = Field("", description="The caller's number.")
    enterprise_credit_code: CreditCode | None = Field(
        None, description="The caller's credit code; an unknown valid one registers a provisional enterprise."
    )
    enterprise_name: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] | None = Field(
        None, description="The enterprise's name as the caller gave it."
    )
    content: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=8000)] = Field(
        description="What the caller asked, as the agent wrote it down."
    )
    category_hint: Annotated[str, StringConstraints(max_length=32)] | None = Field(
        None, description="A category code the agent chose; it routes the ticket when it names one."
    )


class HotlineCallFiled(BaseModel):
    """The ticket a hotline call became."""

    ticket_id: str = Field(description="The ticket's id.")
    ticket_number: str = Field(description="The number the agent reads to the caller.")
    created: bool = Field(description="False when the call had been filed before (the same ticket again).")
    enterprise_id: str | None = Field(description="The enterprise the call was filed for; null if none was named.")
    enterprise_provisional: bool = Field(description="True if that enterprise was registered from a call, unconfirmed.")


class HotlineFeedbackCreate(_Input):
    """The caller's rating from the hotline's follow-up call (回访)."""

    ticket_number: Annotated[str, StringConstraints(min_length=1, max_length=32)] = Field(
        description="The number of the ticket rated."
    )
    rating: Rating = Field(description=RATING_DESCRIPTION)
    comment: Note = Field("", description="What the caller said.")
