"""Request and response bodies of the notification API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from services.text import TextInput

SubscriptionStatus = Literal["active", "disabled"]
DeliveryStatus = Literal["pending", "delivered", "failed", "dead"]
EVENT_PATTERN = r"^(\*|[a-z][a-z_]*(\.[a-z][a-z_]*)*(\.\*)?)$"


class Envelope(BaseModel):
    id: str = Field(pattern=r"^[!-~]{1,36}$")
    type: str = Field(pattern=r"^[!-~]{1,64}$")
    occurred_at: datetime
    data: dict[str, Any]


class EventBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    events: list[Envelope] = Field(min_length=1, max_length=1000)


class BatchReceipt(BaseModel):
    received: int
    duplicates: int


def _webhook_url(value: str) -> str:
    if any(ord(c) < 33 or ord(c) == 127 for c in value):
        raise ValueError("a URL has no spaces or control characters")
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError as exc:
        raise ValueError("not a valid URL") from exc
    if parts.scheme not in {"http", "https"}:
        raise ValueError("the scheme must be http or https")
    if not parts.hostname:
        raise ValueError("the URL names no host")
    if parts.username is not None or parts.password is not None:
        raise ValueError("credentials do not belong in the URL; the signature authenticates the platform")
    if port == 0:
        raise ValueError("port 0 is not a port")
    return value


def _unique(values: list[str]) -> list[str]:
    if len(set(values)) != len(values):
        raise ValueError("event types must be unique")
    return values


WebhookUrl = Annotated[
    str,
    StringConstraints(min_length=1, max_length=2048),
    AfterValidator(_webhook_url),
    Field(examples=["https://erp.example.com/hooks/965808"]),
]
EventTypePattern = Annotated[str, StringConstraints(pattern=EVENT_PATTERN, max_length=64)]
EventTypes = Annotated[
    list[EventTypePattern],
    Field(min_length=1, max_length=50, examples=[["ticket.resolved", "ticket.*"]]),
    AfterValidator(_unique),
]
Description = Annotated[str, StringConstraints(max_length=500, pattern=r"^[^\x00]*$")]


class _Input(TextInput):
    model_config = ConfigDict(extra="forbid")


class SubscriptionCreate(_Input):
    url: WebhookUrl
    event_types: EventTypes = Field(description="Exact types, `ticket.*` for a family, or `*` for every event.")
    description: Description = ""


class SubscriptionUpdate(_Input):
    url: WebhookUrl | None = None
    event_types: EventTypes | None = None
    description: Description | None = None


class SubscriptionRead(BaseModel):
    id: str
    url: str
    event_types: list[str]
    description: str
    status: SubscriptionStatus
    disabled_reason: str | None
    previous_secret_expires_at: datetime | None = Field(
        description="Until then the previous secret signs too (after a rotation)."
    )
    created_at: datetime
    updated_at: datetime


class SubscriptionCreated(SubscriptionRead):
    secret: str = Field(description="The signing secret (`whsec_...`); shown this once.")


class RotateSecret(_Input):
    grace_seconds: int | None = Field(
        None, ge=0, le=30 * 24 * 3600, description="How long the old secret still signs; default 24 h."
    )


class SecretRotated(BaseModel):
    id: str
    secret: str = Field(description="The new signing secret; shown this once.")
    previous_secret_expires_at: datetime | None


class Recover(_Input):
    since: datetime = Field(description="Resend every failed or dead delivery created since this instant.")


class RecoverReceipt(BaseModel):
    requeued: int


class AttemptRead(BaseModel):
    number: int
    trigger: Literal["schedule", "redeliver", "recover"]
    started_at: datetime
    status_code: int | None
    latency_ms: int
    response_excerpt: str = Field(description="The first 1 KiB of the answer.")
    error: str | None


class DeliveryRead(BaseModel):
    id: str
    subscription_id: str
    event_id: str = Field(description="The event's id, sent as `webhook-id` on every attempt.")
    event_type: str
    status: DeliveryStatus = Field(
        description="pending: not yet attempted (or queued again); failed: the last attempt failed and a retry is"
        " scheduled; delivered: a 2xx answer; dead: the last scheduled attempt failed, or the endpoint answered 410."
    )
    attempts: int
    last_status_code: int | None
    last_error: str | None
    last_attempt_at: datetime | None
    next_attempt_at: datetime | None
    delivered_at: datetime | None
    created_at: datetime


class DeliveryDetail(DeliveryRead):
    attempt_log: list[AttemptRead]


class InboxEntryRead(BaseModel):
    id: str
    kind: str = Field(examples=["ticket.resolved"])
    title: str
    ticket_id: str | None
    ticket_number: str | None
    created_at: datetime
    read: bool


class InboxPage(BaseModel):
    items: list[InboxEntryRead]
    next_cursor: str | None = None
    unread: int = Field(description="Unread entries in the caller's whole inbox.")


class ReadAllReceipt(BaseModel):
    unread: int


# The 965808 hotline's webhooks (DESIGN §5): these names are what the hotline builds on.

PhoneText = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[0-9+() -]{0,32}$")]


class HotlineCall(_Input):
    """A call to 965808, as the hotline's system posts it once the agent has taken it."""

    call_id: Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[!-~]+$")] = Field(
        description="The hotline's own id of the call; the same call again answers the same ticket.",
        examples=["965808-20261201-0042"],
    )
    received_at: datetime = Field(
        description="When the caller spoke (RFC 3339 with offset): the 1-3-5 clock starts here.",
        examples=["2026-12-01T09:30:00+08:00"],
    )
    caller_phone: PhoneText = Field("", examples=["13912345678"])
    enterprise_credit_code: Annotated[str, StringConstraints(min_length=18, max_length=18)] | None = Field(
        None, description="The caller's unified social credit code, if they gave it.", examples=["91321191608263458Y"]
    )
    enterprise_name: Annotated[str, StringConstraints(max_length=200)] | None = Field(
        None, examples=["镇江台丰精密机械有限公司"]
    )
    content: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=8000)] = Field(
        examples=["我司的用电增容申请已经提交两周，想问一下进度。"]
    )
    category_hint: Annotated[str, StringConstraints(max_length=32)] | None = Field(
        None,
        description="A category code the agent chose; it routes the ticket when it names one.",
        examples=["power-energy"],
    )


class HotlineCallAccepted(BaseModel):
    ticket_id: str
    ticket_number: str = Field(description="The number the agent reads to the caller.", examples=["T20261201000042"])


class HotlineRating(_Input):
    """The caller's rating on the hotline's follow-up call (回访)."""

    ticket_number: Annotated[str, StringConstraints(min_length=1, max_length=32)]
    rating: Literal["satisfied", "basically_satisfied", "unsatisfied"]
    comment: Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)] = ""


class HotlineRatingAccepted(BaseModel):
    ticket_number: str
    rating: str
    recorded: bool = Field(description="Recorded once; an unsatisfied rating reopens the case (发回重办).")
