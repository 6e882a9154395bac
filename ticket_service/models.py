"""Tables owned by the ticket service."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column

from services.db import Base, UtcDateTime, utcnow
from services.outbox import BigIntId, OutboxColumns


class CalendarDay(Base):
    """One admin overlay row: it wins over the official data and the weekend rule."""

    __tablename__ = "calendar_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    year: Mapped[int] = mapped_column(Integer, index=True)
    is_workday: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str] = mapped_column(String(200), default="")


class CalendarYear(Base):
    """Per year: whether the overlay is the year's complete official notice, and who set it."""

    __tablename__ = "calendar_years"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    complete: Mapped[bool] = mapped_column(Boolean, default=False)
    revision: Mapped[int] = mapped_column(Integer, default=0)
    updated_by: Mapped[str] = mapped_column(String(100))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class CalendarChange(Base):
    """Append-only record of every overlay replacement: who, when, before and after."""

    __tablename__ = "calendar_changes"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    year: Mapped[int] = mapped_column(Integer, index=True)
    revision: Mapped[int] = mapped_column(Integer)
    actor: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    complete: Mapped[bool] = mapped_column(Boolean)
    previous_complete: Mapped[bool] = mapped_column(Boolean)
    days: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    previous_days: Mapped[list[dict[str, Any]]] = mapped_column(JSON)


class OutboxEvent(OutboxColumns, Base):
    """An event written in the same transaction as the change it describes (DESIGN §4)."""

    __tablename__ = "outbox"


class Enterprise(Base):
    __tablename__ = "enterprises"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    credit_code: Mapped[str] = mapped_column(String(18), unique=True)
    size: Mapped[str] = mapped_column(String(8), index=True)
    taiwan_funded: Mapped[bool] = mapped_column(Boolean, default=False)
    industry: Mapped[str] = mapped_column(String(100), default="")
    park: Mapped[str] = mapped_column(String(100), default="")
    contact_name: Mapped[str] = mapped_column(String(50), default="")
    contact_phone: Mapped[str] = mapped_column(String(32), default="")
    # Registered from a hotline call with an unknown credit code: a dispatcher confirms it.
    provisional: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


class Order(Base):
    __tablename__ = "orders"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    enterprise_id: Mapped[str] = mapped_column(ForeignKey("enterprises.id"), index=True)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class TicketNumber(Base):
    """A portable sequence: one row per ticket gives its human-readable number."""

    __tablename__ = "ticket_numbers"

    seq: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    issued_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Ticket(Base):
    __tablename__ = "tickets"
    __table_args__ = (
        Index("ix_tickets_department_status", "department_code", "status"),
        Index("ix_tickets_received", "received_at", "id"),
        UniqueConstraint("hotline_call_id", name="uq_tickets_hotline_call_id"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(16), index=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    enterprise_id: Mapped[str | None] = mapped_column(ForeignKey("enterprises.id"), nullable=True, index=True)
    order_id: Mapped[str | None] = mapped_column(ForeignKey("orders.id"), nullable=True, index=True)
    item_code: Mapped[str | None] = mapped_column(String(32), nullable=True)
    item_snapshot: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    category_code: Mapped[str | None] = mapped_column(String(32), nullable=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    department_code: Mapped[str | None] = mapped_column(String(32), nullable=True)
    co_department_codes: Mapped[list[str]] = mapped_column(JSON, default=list)
    # ",a,b," so that "tickets a department takes part in" is one LIKE on both databases.
    co_departments_text: Mapped[str] = mapped_column(String(400), default=",")
    sla_profile: Mapped[str] = mapped_column(String(16), default="1-3-5")
    # A hotline ticket: the call it came from (one ticket per call) and the number to call back.
    hotline_call_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    caller_phone: Mapped[str | None] = mapped_column(String(32), nullable=True)
    # The enterprise as it was when the request came in: the fairness and hot-spot figures of a
    # past period stay as they were when the enterprise's size, industry or park change later.
    enterprise_size: Mapped[str] = mapped_column(String(8), default="", server_default="")
    enterprise_industry: Mapped[str] = mapped_column(String(100), default="", server_default="")
    enterprise_park: Mapped[str] = mapped_column(String(100), default="", server_default="")
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # Deadlines count from here (receipt, or the last reopen), plus the working time spent paused.
    clock_started_at: Mapped[datetime] = mapped_column(UtcDateTime)
    paused_working_us: Mapped[int] = mapped_column(BigInteger, default=0)
    # The SLA worker's bookkeeping: the next instant something is due for this ticket (indexed,
    # so a sweep reads only due tickets) and a bitmask of the steps already taken this cycle.
    sla_next_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True, index=True)
    sla_fired: Mapped[int] = mapped_column(Integer, default=0)
    accept_due: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    resolve_due: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    final_due: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    provisional: Mapped[bool] = mapped_column(Boolean, default=False)
    overdue: Mapped[list[str]] = mapped_column(JSON, default=list)
    is_overdue: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    paused_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    paused_from: Mapped[str | None] = mapped_column(String(16), nullable=True)
    accepted_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    reply: Mapped[str | None] = mapped_column(Text, nullable=True)
    result: Mapped[str | None] = mapped_column(Text, nullable=True)
    explanation: Mapped[str | None] = mapped_column(Text, nullable=True)
    resolution_round: Mapped[int] = mapped_column(Integer, default=0)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    # Moved with the version by `changes.TicketChange.record`: only audited changes show as updates.
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    # The ORM adds "AND version = :old" to every UPDATE: a lost update becomes StaleDataError (409).
    # The domain moves the version itself (`changes.TicketChange.record`), so the events of a change carry the
    # new version without a flush per change.
    __mapper_args__ = {"version_id_col": version, "version_id_generator": False}  # noqa: RUF012


class TicketEvent(Base):
    """Append-only, hash-chained audit trail of a ticket (全程监管)."""

    __tablename__ = "ticket_events"
    __table_args__ = (UniqueConstraint("ticket_id", "seq", name="uq_ticket_events_ticket_seq"),)

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    ticket_id: Mapped[str] = mapped_column(ForeignKey("tickets.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    from_status: Mapped[str | None] = mapped_column(String(16), nullable=True)
    to_status: Mapped[str | None] = mapped_column(String(16), nullable=True)
    note: Mapped[str] = mapped_column(Text, default="")
    changes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class Feedback(Base):
    __tablename__ = "feedback"
    __table_args__ = (UniqueConstraint("ticket_id", "resolution_round", name="uq_feedback_ticket_round"),)

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    ticket_id: Mapped[str] = mapped_column(ForeignKey("tickets.id"), index=True)
    resolution_round: Mapped[int] = mapped_column(Integer)
    rating: Mapped[str] = mapped_column(String(24))
    comment: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(100))
    channel: Mapped[str] = mapped_column(String(16), default="web")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    # The department whose resolution was rated (the lead then), which the rating counts for.
    department_code: Mapped[str | None] = mapped_column(String(32), nullable=True)
    # 不满意研判: a supervisor's ruling that an unsatisfied rating is unreasonable. The rating stays
    # on the record; it leaves the satisfaction denominator.
    ruled_out: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    ruled_out_reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    ruled_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    ruled_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class IdempotencyKey(Base):
    """One row per (caller, Idempotency-Key): in flight, or done with the stored response."""

    __tablename__ = "idempotency_keys"

    principal: Mapped[str] = mapped_column(String(100), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16))
    response_status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    response_body: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)


class EnterpriseChange(Base):
    """Append-only record of each change to the fields that the assessment and fairness figures
    count enterprises by (name, size, Taiwan funding, industry, park): who, when, from what to what."""

    __tablename__ = "enterprise_changes"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    enterprise_id: Mapped[str] = mapped_column(ForeignKey("enterprises.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    actor: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    # {field: {"from": old, "to": new}} for each audited field that changed
    changes: Mapped[dict[str, Any]] = mapped_column(JSON)


# Summary tables of the statistics (issue 13). Every ticket change appends what it adds to a
# delta table in its own transaction (no row shared between concurrent changes); `stats_summary.
# fold` moves the deltas into the summary rows, and reads sum both, so they see every committed
# change. Rebuilt from the tickets by `python -m launcher stats-rebuild`; the scorecards read only
# these. A department's year is at most 366 days × sizes × channels rows.


class DepartmentCounters:
    """The department counters (`stats_summary.DEPARTMENT_COUNTERS`): a summary row's and a
    delta's columns alike."""

    received: Mapped[int] = mapped_column(Integer, default=0)
    orders: Mapped[int] = mapped_column(Integer, default=0)
    accepted_on_time: Mapped[int] = mapped_column(Integer, default=0)
    resolved_on_time: Mapped[int] = mapped_column(Integer, default=0)
    due: Mapped[int] = mapped_column(Integer, default=0)
    completed: Mapped[int] = mapped_column(Integer, default=0)
    joint_led: Mapped[int] = mapped_column(Integer, default=0)
    joint_joined: Mapped[int] = mapped_column(Integer, default=0)
    joint_late: Mapped[int] = mapped_column(Integer, default=0)
    overdue_open: Mapped[int] = mapped_column(Integer, default=0)
    returned: Mapped[int] = mapped_column(Integer, default=0)
    escalations: Mapped[int] = mapped_column(Integer, default=0)
    resolutions: Mapped[int] = mapped_column(Integer, default=0)
    rated: Mapped[int] = mapped_column(Integer, default=0)
    satisfied: Mapped[int] = mapped_column(Integer, default=0)
    ruled_out: Mapped[int] = mapped_column(Integer, default=0)
    redo: Mapped[int] = mapped_column(Integer, default=0)


class StatsDepartmentDay(DepartmentCounters, Base):
    """Counters per lead department, day (Asia/Shanghai), enterprise size and channel. Which day a
    counter is filed under depends on the counter: the day received, the day due, the day of the
    step (see `stats_summary`)."""

    __tablename__ = "stats_department_days"
    # The ranking of every department reads a period across all of them.
    __table_args__ = (Index("ix_stats_department_days_day", "day"),)

    department_code: Mapped[str] = mapped_column(String(32), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    size: Mapped[str] = mapped_column(String(8), primary_key=True)
    channel: Mapped[str] = mapped_column(String(16), primary_key=True)


class StatsHandlingDay(Base):
    """How many resolutions per department and day took how long: `tenths` of working days."""

    __tablename__ = "stats_handling_days"

    department_code: Mapped[str] = mapped_column(String(32), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    tenths: Mapped[int] = mapped_column(Integer, primary_key=True)
    resolutions: Mapped[int] = mapped_column(Integer, default=0)


class StatsHotSpotDay(Base):
    """Requests received per day by category, item, industry or park."""

    __tablename__ = "stats_hot_spot_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    dimension: Mapped[str] = mapped_column(String(16), primary_key=True)
    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    received: Mapped[int] = mapped_column(Integer, default=0)


class StatsDepartmentDelta(DepartmentCounters, Base):
    """What one transaction added to `stats_department_days` (a row per key it touched), until
    folded in."""

    __tablename__ = "stats_department_deltas"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    department_code: Mapped[str] = mapped_column(String(32))
    day: Mapped[date] = mapped_column(Date)
    size: Mapped[str] = mapped_column(String(8))
    channel: Mapped[str] = mapped_column(String(16))


class StatsHandlingDelta(Base):
    """What one transaction added to `stats_handling_days`, until folded in."""

    __tablename__ = "stats_handling_deltas"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    department_code: Mapped[str] = mapped_column(String(32))
    day: Mapped[date] = mapped_column(Date)
    tenths: Mapped[int] = mapped_column(Integer)
    resolutions: Mapped[int] = mapped_column(Integer, default=0)


class StatsHotSpotDelta(Base):
    """What one transaction added to `stats_hot_spot_days`, until folded in."""

    __tablename__ = "stats_hot_spot_deltas"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    day: Mapped[date] = mapped_column(Date)
    dimension: Mapped[str] = mapped_column(String(16))
    key: Mapped[str] = mapped_column(String(100))
    received: Mapped[int] = mapped_column(Integer, default=0)


class JointContribution(Base):
    """When each co-department first contributed to a joint review (会办): lateness inside a joint
    review counts against the department whose contribution was late."""

    __tablename__ = "joint_contributions"

    ticket_id: Mapped[str] = mapped_column(ForeignKey("tickets.id"), primary_key=True)
    department_code: Mapped[str] = mapped_column(String(32), primary_key=True)
    first_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ScoringScheme(Base):
    """Append-only versions of the assessment's scoring scheme: each change is a new version,
    with who made it, when and why; a scorecard names the version it used."""

    __tablename__ = "scoring_schemes"

    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    note: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
