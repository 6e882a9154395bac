"""The 965808 hotline in: its signed webhooks (Standard Webhooks, `HOTLINE_WEBHOOK_SECRET`)
become tickets and ratings through the ticket service's API, never its tables.

Nothing is written before the signature and its timestamp (±5 minutes) are verified on the
raw body. Every verified webhook is logged in `inbound_calls` under its `webhook-id` before
the ticket service is asked, and its answer is kept: the same `webhook-id` or `call_id`
again is answered from the log. The ticket service files one ticket per call id, so two
replicas taking the same call at once, or a retry after the ticket service was down, still
make one ticket.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from standardwebhooks import Webhook, WebhookVerificationError

from notification_service.errors import BadSignature, InvalidWebhookBody
from notification_service.models import InboundCall
from notification_service.ticket_client import TicketClient
from services.db import utcnow
from services.errors import ProblemError

MAX_BODY_BYTES = 64 * 1024
Model = TypeVar("Model", bound=BaseModel)


def verified(secret: str, body: bytes, headers: Mapping[str, str]) -> str:
    """The webhook's id, once its signature and timestamp verify on the raw body."""
    try:
        Webhook(secret).verify(body, dict(headers), json_parse=False)
    except WebhookVerificationError as exc:
        raise BadSignature(str(exc)) from exc
    except (ValueError, UnicodeDecodeError) as exc:  # a malformed signature header or body
        raise BadSignature("malformed signature or body") from exc
    return str(headers["webhook-id"])


def parsed(model: type[Model], body: bytes) -> Model:
    """The body as `model`, or a 422 naming each bad field (as for any other request)."""
    try:
        return model.model_validate_json(body)
    except ValidationError as exc:
        errors = [
            {"loc": ["body", *error["loc"]], "msg": error["msg"], "type": error["type"]} for error in exc.errors()
        ]
        raise InvalidWebhookBody(errors) from exc


async def _answered(session: AsyncSession, *, webhook_id: str, call_id: str | None) -> InboundCall | None:
    row = await session.get(InboundCall, webhook_id)
    if row is None and call_id is not None:
        statement = select(InboundCall).where(InboundCall.call_id == call_id, InboundCall.answer.is_not(None)).limit(1)
        row = (await session.execute(statement)).scalar_one_or_none()
    return row


async def _log(
    sessionmaker: async_sessionmaker[AsyncSession], *, webhook_id: str, kind: str, call_id: str | None, body: Any
) -> tuple[dict[str, Any] | None, bool]:
    """The answer already given to this webhook or call, if any, and whether it was seen before."""
    try:
        async with sessionmaker() as session, session.begin():
            row = await _answered(session, webhook_id=webhook_id, call_id=call_id)
            if row is not None:
                return row.answer, True
            session.add(InboundCall(webhook_id=webhook_id, kind=kind, call_id=call_id, body=body, received_at=utcnow()))
    except IntegrityError:
        # The same webhook on another replica at this very moment: both ask the ticket service,
        # which files the call once.
        return None, True
    return None, False


async def _answer(sessionmaker: async_sessionmaker[AsyncSession], *, webhook_id: str, answer: dict[str, Any]) -> None:
    async with sessionmaker() as session, session.begin():
        row = await session.get(InboundCall, webhook_id)
        if row is not None and row.answer is None:
            row.answer, row.answered_at = answer, utcnow()


async def take_call(
    sessionmaker: async_sessionmaker[AsyncSession], *, tickets: TicketClient, webhook_id: str, body: BaseModel
) -> dict[str, Any]:
    """The call's ticket number, for the agent to read to the caller."""
    call = json.loads(body.model_dump_json())
    answer, _ = await _log(sessionmaker, webhook_id=webhook_id, kind="call", call_id=call["call_id"], body=call)
    if answer is not None:
        return answer
    filed = await tickets.file_call(call)
    answer = {"ticket_id": filed["ticket_id"], "ticket_number": filed["ticket_number"]}
    await _answer(sessionmaker, webhook_id=webhook_id, answer=answer)
    return answer


async def take_rating(
    sessionmaker: async_sessionmaker[AsyncSession], *, tickets: TicketClient, webhook_id: str, body: BaseModel
) -> dict[str, Any]:
    """The follow-up call's rating, recorded once per webhook."""
    rating = json.loads(body.model_dump_json())
    answer, seen = await _log(sessionmaker, webhook_id=webhook_id, kind="feedback", call_id=None, body=rating)
    if answer is not None:
        return answer
    try:
        await tickets.rate(rating)
    except ProblemError as exc:
        # This webhook was taken before and its answer lost (the ticket service answered after
        # our time-out): the rating it already recorded is this one's.
        if not (seen and exc.code == "already_rated"):
            raise
    answer = {"ticket_number": rating["ticket_number"], "rating": rating["rating"], "recorded": True}
    await _answer(sessionmaker, webhook_id=webhook_id, answer=answer)
    return answer
