"""Request and response bodies of the notification API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from services.credit_code import CREDIT_CODE_SCHEMA
from services.text import TextInput

SubscriptionStatus = Literal["active", "disabled"]
DeliveryStatus = Literal["pending", "delivered", "failed", "dead"]
EVENT_PATTERN = r"^(\*|[a-z][a-z_]*(\.[a-z][a-z_]*)*(\.\*)?)$"


class Envelope(BaseModel):
    """A platform event as the services' outbox relays publish it."""

    id: str = Field(pattern=r"^[!-~]{1,36}$", description="The event's id; consumers de-duplicate by it.")
    type: str = Field(pattern=r"^[!-~]{1,64}$", description="The event's type.", examples=["ticket.resolved"])
    occurred_at: datetime = Field(description="When the change committed.")
    data: dict[str, Any] = Field(description="The resource as the API shows it.")


class EventBatch(BaseModel):
    """Events relayed from a service's outbox (internal)."""

    model_config = ConfigDict(extra="forbid")

    events: list[Envelope] = Field(min_length=1, max_length=1000, description="1–1000 events.")


class BatchReceipt(BaseModel):
    """What the intake made of a batch."""

    received: int = Field(description="New events taken in.")
    duplicates: int = Field(description="Events already received before (ignored).")


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


_PORT = "(6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[1-9][0-9]{0,3})"
#: What `_webhook_url` admits, as JSON Schema states it (a little narrower: ASCII, no IPv6 literal).
WEBHOOK_URL_PATTERN = rf"^[Hh][Tt][Tt][Pp][Ss]?://[A-Za-z0-9._~!$&'()*+,;=%-]+(:{_PORT})?([/?#][!-~]*)?$"
WebhookUrl = Annotated[
    str,
    StringConstraints(min_length=1, max_length=2048),
    AfterValidator(_webhook_url),
    Field(examples=["https://erp.example.com/hooks/965808"], json_schema_extra={"pattern": WEBHOOK_URL_PATTERN}),
]
EventTypePattern = Annotated[str, StringConstraints(pattern=EVENT_PATTERN, max_length=64)]
EventTypes = Annotated[
    list[EventTypePattern],
    Field(min_length=1, max_length=50, examples=[["ticket.resolved", "ticket.*"]]),
    AfterValidator(_unique),
    Field(json_schema_extra={"uniqueItems": True}),
]
Description = Annotated[str, StringConstraints(max_length=500)]


class _Input(TextInput):
    model_config = ConfigDict(extra="forbid")


URL_DESCRIPTION = (
    "Where the signed deliveries are POSTed: an http(s) URL without credentials, at most 2048 characters; in"
    " production it must not resolve to a private, loopback or link-local address."
)
EVENT_TYPES_DESCRIPTION = "Exact types, `ticket.*` for a family, or `*` for every event; unique, 1–50."
UNCHANGED = " Omitted or null: unchanged."


class SubscriptionCreate(_Input):
    """A webhook endpoint of an integrating system (Standard Webhooks: `webhook-id`, `webhook-timestamp`,
    `webhook-signature`)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "url": "https://erp.example.com/hooks/965808",
                    "event_types": ["ticket.resolved", "ticket.closed"],
                    "description": "镇江台丰 ERP：工单办结通知",
                }
            ]
        }
    )

    url: WebhookUrl = Field(description=URL_DESCRIPTION)
    event_types: EventTypes = Field(description=EVENT_TYPES_DESCRIPTION)
    description: Description = Field("", description="What the endpoint is for.")


class SubscriptionUpdate(_Input):
    """Changes to a subscription; only the fields sent change."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"event_types": ["ticket.*"]}]})

    url: WebhookUrl | None = Field(None, description=URL_DESCRIPTION + UNCHANGED)
    event_types: EventTypes | None = Field(None, description=EVENT_TYPES_DESCRIPTION + UNCHANGED)
    description: Description | None = Field(None, description="What the endpoint is for." + UNCHANGED)


class SubscriptionRead(BaseModel):
    """A webhook subscription (never its secret)."""

    id: str = Field(description="Opaque subscription id.")
    url: str = Field(description="Where deliveries go.")
    event_types: list[str] = Field(description="The event types it receives.")
    description: str = Field(description="What the endpoint is for; may be empty.")
    status: SubscriptionStatus = Field(
        description="active: receives deliveries; disabled: switched off after failing for too long (or by hand)."
    )
    disabled_reason: str | None = Field(description="Why it was disabled; null while active.")
    previous_secret_expires_at: datetime | None = Field(
        description="Until then the previous secret signs too (after a rotation)."
    )
    created_at: datetime = Field(description="When it was created.")
    updated_at: datetime = Field(description="When it last changed.")


class SubscriptionCreated(SubscriptionRead):
    """A new subscription, with its signing secret."""

    secret: str = Field(description="The signing secret (`whsec_...`); shown this once.")


class RotateSecret(_Input):
    """A new signing secret; the old one keeps signing for a grace period."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"grace_seconds": 86400}]})

    grace_seconds: int | None = Field(
        None, ge=0, le=30 * 24 * 3600, description="How long the old secret still signs; default 24 h."
    )


class SecretRotated(BaseModel):
    """The subscription's new signing secret."""

    id: str = Field(description="The subscription.")
    secret: str = Field(description="The new signing secret; shown this once.")
    previous_secret_expires_at: datetime | None = Field(description="Until then the previous secret signs too.")


class Recover(_Input):
    """Resending what failed, e.g. after an endpoint's outage."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"since": "2026-12-01T08:00:00+08:00"}]})

    since: datetime = Field(description="Resend every failed or dead delivery created since this instant.")


class RecoverReceipt(BaseModel):
    """How many deliveries were queued again."""

    requeued: int = Field(description="Deliveries queued again.")


class AttemptRead(BaseModel):
    """One attempt at a delivery."""

    number: int = Field(description="The attempt's number, from 1.")
    trigger: Literal["schedule", "redeliver", "recover"] = Field(
        description="schedule: the retry schedule; redeliver: a manual redelivery; recover: a bulk recovery."
    )
    started_at: datetime = Field(description="When the request was sent.")
    status_code: int | None = Field(description="The endpoint's HTTP status; null if it did not answer.")
    latency_ms: int = Field(description="How long the answer took, in milliseconds.")
    response_excerpt: str = Field(description="The first 1 KiB of the answer.")
    error: str | None = Field(description="Why it failed without an answer (connection, timeout, refused address).")


class DeliveryRead(BaseModel):
    """One event's delivery to one subscription."""

    id: str = Field(description="Opaque delivery id.")
    subscription_id: str = Field(description="The subscription delivered to.")
    event_id: str = Field(description="The event's id, sent as `webhook-id` on every attempt.")
    event_type: str = Field(description="The event's type.", examples=["ticket.resolved"])
    status: DeliveryStatus = Field(
        description="pending: not yet attempted (or queued again); failed: the last attempt failed and a retry is"
        " scheduled; delivered: a 2xx answer; dead: the last scheduled attempt failed, or the endpoint answered 410."
    )
    attempts: int = Field(description="Attempts made so far.")
    last_status_code: int | None = Field(description="The last attempt's HTTP status; null if none or no answer.")
    last_error: str | None = Field(description="The last attempt's error without an answer; null otherwise.")
    last_attempt_at: datetime | None = Field(description="When the last attempt was made; null before the first.")
    next_attempt_at: datetime | None = Field(description="When the next attempt is due; null if none is scheduled.")
    delivered_at: datetime | None = Field(description="When a 2xx answer came; null until then.")
    created_at: datetime = Field(description="When the delivery was created.")


class DeliveryDetail(DeliveryRead):
    """A delivery with every attempt."""

    attempt_log: list[AttemptRead] = Field(description="Every attempt, oldest first.")


class InboxEntryRead(BaseModel):
    """A notice in a person's inbox (站内信)."""

    id: str = Field(description="Opaque entry id.")
    kind: str = Field(description="What it is about: an event type.", examples=["ticket.resolved"])
    title: str = Field(description="The notice as shown.", examples=["您的工单 T20261201000042 已办结"])
    ticket_id: str | None = Field(description="The ticket it is about; null for announcements.")
    ticket_number: str | None = Field(description="That ticket's number; null for announcements.")
    created_at: datetime = Field(description="When it arrived.")
    read: bool = Field(description="Whether the caller has read it.")


class InboxPage(BaseModel):
    """A page of the caller's inbox, newest first."""

    items: list[InboxEntryRead] = Field(description="The page's entries.")
    next_cursor: str | None = Field(None, description="Pass as `cursor` for the next page; null on the last.")
    unread: int = Field(description="Unread entries in the caller's whole inbox.")


class ReadAllReceipt(BaseModel):
    """The inbox after marking everything read."""

    unread: int = Field(description="Unread entries left (0 unless some arrived meanwhile).")


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
    caller_phone: PhoneText = Field("", description="The caller's number, if shown.", examples=["13912345678"])
    enterprise_credit_code: (
        Annotated[str, StringConstraints(min_length=18, max_length=18), Field(json_schema_extra=CREDIT_CODE_SCHEMA)]
        | None
    ) = Field(
        None,
        description="The caller's unified social credit code (GB 32100-2015, its check character right), if they"
        " gave it; an unknown one registers a provisional enterprise.",
        examples=["91321191608263458Y"],
    )
    enterprise_name: Annotated[str, StringConstraints(max_length=200)] | None = Field(
        None, description="The enterprise's name as the caller gave it.", examples=["镇江台丰精密机械有限公司"]
    )
    content: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=8000)] = Field(
        description="What the caller asked, as the agent wrote it down.",
        examples=["我司的用电增容申请已经提交两周，想问一下进度。"],
    )
    category_hint: Annotated[str, StringConstraints(max_length=32)] | None = Field(
        None,
        description="A category code the agent chose; it routes the ticket when it names one.",
        examples=["power-energy"],
    )


class HotlineCallAccepted(BaseModel):
    """The ticket the call became."""

    ticket_id: str = Field(description="The ticket's id.")
    ticket_number: str = Field(description="The number the agent reads to the caller.", examples=["T20261201000042"])


class HotlineRating(_Input):
    """The caller's rating on the hotline's follow-up call (回访)."""

    ticket_number: Annotated[str, StringConstraints(min_length=1, max_length=32)] = Field(
        description="The number of the ticket rated.", examples=["T20261201000042"]
    )
    rating: Literal["satisfied", "basically_satisfied", "unsatisfied"] = Field(
        description="unsatisfied reopens the case for the same department (发回重办); the others are recorded."
    )
    comment: Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)] = Field(
        "", description="What the caller said.", examples=["问题已解决，很满意。"]
    )


class HotlineRatingAccepted(BaseModel):
    """The rating as recorded."""

    ticket_number: str = Field(description="The ticket rated.")
    rating: str = Field(description="The rating.")
    recorded: bool = Field(description="Recorded once; an unsatisfied rating reopens the case (发回重办).")
