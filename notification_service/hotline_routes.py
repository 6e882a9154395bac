"""The 965808 hotline's signed webhooks: a call becomes a ticket, a follow-up call's rating is
recorded. Signed per Standard Webhooks with `HOTLINE_WEBHOOK_SECRET`; no bearer token."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request
from pydantic import BaseModel

from notification_service import hotline
from notification_service.schemas import HotlineCall, HotlineCallAccepted, HotlineRating, HotlineRatingAccepted
from notification_service.ticket_client import TicketClient
from services.db import SessionFactoryDep
from services.errors import PayloadTooLarge, problem_responses

router = APIRouter(prefix="/api/v1/hooks/hotline", tags=["hotline"])
HOOK_PROBLEMS = problem_responses(400, 401, 413, 422, 503)


async def get_tickets(request: Request) -> TicketClient:
    """The ticket service's client from the lifespan state (tests swap it for a dead one)."""
    tickets: TicketClient = request.state.tickets
    return tickets


TicketsDep = Annotated[TicketClient, Depends(get_tickets)]
# Declared so the document shows them; verified on the raw body, a missing one is a 401.
WebhookId = Annotated[str | None, Header(alias="webhook-id", max_length=200, description="Unique per message.")]
WebhookTimestamp = Annotated[
    str | None, Header(alias="webhook-timestamp", max_length=20, description="Unix seconds; ±5 minutes of ours.")
]
WebhookSignature = Annotated[
    str | None,
    Header(alias="webhook-signature", max_length=1000, description="`v1,<base64 HMAC-SHA256>`, space-separated."),
]


async def _raw_body(request: Request) -> bytes:
    """The body as sent, refused (413) as soon as it passes the limit, whatever its framing."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > hotline.MAX_BODY_BYTES:
        raise PayloadTooLarge(f"A hotline webhook's body is at most {hotline.MAX_BODY_BYTES} bytes.")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > hotline.MAX_BODY_BYTES:
            raise PayloadTooLarge(f"A hotline webhook's body is at most {hotline.MAX_BODY_BYTES} bytes.")
        chunks.append(chunk)
    return b"".join(chunks)


def _body_schema(model: type[BaseModel]) -> dict[str, Any]:
    return {
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": model.model_json_schema(ref_template="#/components/schemas/{model}")}
            },
        }
    }


async def _verified(request: Request) -> tuple[str, bytes]:
    body = await _raw_body(request)
    secret = request.state.settings.hotline_webhook_secret.get_secret_value()
    return hotline.verified(secret, body, request.headers), body


HotlineTake = Callable[..., Awaitable[dict[str, Any]]]


def _hook_route(
    path: str, *, name: str, doc: str, body_model: type[BaseModel], answer: type[BaseModel], take: HotlineTake
) -> None:
    """A signed hotline webhook: verified on the raw body, parsed, then taken once per webhook-id."""

    async def endpoint(
        request: Request,
        factory: SessionFactoryDep,
        tickets: TicketsDep,
        _id: WebhookId = None,
        _timestamp: WebhookTimestamp = None,
        _signature: WebhookSignature = None,
    ) -> Any:
        webhook_id, body = await _verified(request)
        return await take(factory, tickets=tickets, webhook_id=webhook_id, body=hotline.parsed(body_model, body))

    endpoint.__name__ = name
    endpoint.__doc__ = doc
    router.add_api_route(
        path,
        endpoint,
        methods=["POST"],
        status_code=202,
        response_model=answer,
        responses=HOOK_PROBLEMS,
        openapi_extra=_body_schema(body_model),
    )


_hook_route(
    "/calls",
    name="receive_hotline_call",
    doc="A call to 965808 becomes a ticket; the answer is the number read to the caller (the hotline, signed).",
    body_model=HotlineCall,
    answer=HotlineCallAccepted,
    take=hotline.take_call,
)
_hook_route(
    "/feedback",
    name="receive_hotline_feedback",
    doc="The caller's rating from the follow-up call; unsatisfied reopens the case (the hotline, signed).",
    body_model=HotlineRating,
    answer=HotlineRatingAccepted,
    take=hotline.take_rating,
)
