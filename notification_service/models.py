"""Tables owned by the notification service.

`webhook_deliveries` is both the delivery log and the queue: a worker claims due rows with a
lease, so Redis holds nothing that cannot be lost.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from services.db import Base, UtcDateTime, utcnow

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets a 64-bit identity.
BigIntId = BigInteger().with_variant(Integer, "sqlite")


class ReceivedEvent(Base):
    """Every platform event the relay delivered, once (consumers de-duplicate by event id)."""

    __tablename__ = "received_events"

    event_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    event_type: Mapped[str] = mapped_column(String(64), index=True)
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime)
    envelope: Mapped[dict[str, Any]] = mapped_column(JSON)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class WebhookSubscription(Base):
    """An endpoint that receives signed events. During a rotation's grace period the previous
    secret signs too, so a receiver can switch without missing a delivery."""

    __tablename__ = "webhook_subscriptions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    url: Mapped[str] = mapped_column(String(2048))
    event_types: Mapped[list[str]] = mapped_column(JSON)
    description: Mapped[str] = mapped_column(String(500), default="")
    status: Mapped[str] = mapped_column(String(16), default="active")
    secret: Mapped[str] = mapped_column(String(100))
    previous_secret: Mapped[str | None] = mapped_column(String(100), nullable=True)
    previous_secret_expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    # The first failed attempt since the last success: five days of nothing but failures disable it.
    failing_since: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    disabled_reason: Mapped[str | None] = mapped_column(String(200), nullable=True)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class WebhookDelivery(Base):
    """One event for one subscription: its state, its schedule and the lease of the worker
    sending it. `ordering_key` (the ticket) and `ordering_version` hold a ticket's later
    events back until its earlier ones are delivered or dead."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("subscription_id", "event_id", name="uq_webhook_deliveries_subscription_event"),
        Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
        Index("ix_webhook_deliveries_ordering", "subscription_id", "ordering_key", "ordering_version"),
        # The queue in claim order, unsettled rows only (migration 0012).
        Index(
            "ix_webhook_deliveries_queue",
            "next_attempt_at",
            "id",
            postgresql_where=text("status IN ('pending', 'failed')"),
            sqlite_where=text("status IN ('pending', 'failed')"),
        ),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    subscription_id: Mapped[str] = mapped_column(ForeignKey("webhook_subscriptions.id", ondelete="CASCADE"))
    event_id: Mapped[str] = mapped_column(ForeignKey("received_events.event_id"))
    event_type: Mapped[str] = mapped_column(String(64))
    ordering_key: Mapped[str] = mapped_column(String(100))
    ordering_version: Mapped[int] = mapped_column(BigInteger, default=0)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # Attempts since the schedule last started (a redelivery starts it again).
    round_attempts: Mapped[int] = mapped_column(Integer, default=0)
    # What the next attempt answers to in the log: the schedule, a redelivery or a recovery.
    next_trigger: Mapped[str] = mapped_column(String(16), default="schedule")
    next_attempt_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    locked_until: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    lease_token: Mapped[str | None] = mapped_column(String(36), nullable=True)
    last_status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    last_error: Mapped[str | None] = mapped_column(String(500), nullable=True)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    delivered_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class WebhookAttempt(Base):
    """One HTTP attempt of a delivery, kept as the log."""

    __tablename__ = "webhook_attempts"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("webhook_deliveries.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    trigger: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)
    status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    latency_ms: Mapped[int] = mapped_column(Integer)
    response_excerpt: Mapped[str] = mapped_column(Text, default="")
    error: Mapped[str | None] = mapped_column(String(500), nullable=True)


class InboxEntry(Base):
    """A notice for an audience (`enterprise:<id>`, `department:<code>`, `role:<role>`): a
    caller's inbox follows from the token alone. One entry per source and audience, so nobody
    hears of one event twice."""

    __tablename__ = "inbox_entries"
    __table_args__ = (
        UniqueConstraint("source_id", "audience", name="uq_inbox_entries_source_audience"),
        Index("ix_inbox_entries_audience", "audience", "id"),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    source_id: Mapped[str] = mapped_column(String(100))
    audience: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(300))
    ticket_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    ticket_number: Mapped[str | None] = mapped_column(String(32), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class InboxRead(Base):
    """One person has read one entry."""

    __tablename__ = "inbox_reads"

    entry_id: Mapped[int] = mapped_column(ForeignKey("inbox_entries.id", ondelete="CASCADE"), primary_key=True)
    subject: Mapped[str] = mapped_column(String(100), primary_key=True)
    read_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class InboxReadMark(Base):
    """`read-all`: every entry up to `read_up_to` counts as read for this person."""

    __tablename__ = "inbox_read_marks"

    subject: Mapped[str] = mapped_column(String(100), primary_key=True)
    read_up_to: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class InboundCall(Base):
    """Every verified hotline webhook, under its `webhook-id`, with the answer it was given: the
    same webhook or the same call again is answered from here."""

    __tablename__ = "inbound_calls"

    webhook_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    call_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    answer: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
